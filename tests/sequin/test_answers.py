"""What each answer means: a documented failure is failed, a success must parse, and anything
else (for a mutation) may have landed, so it is reconciled, never shown as a failure."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from sequin_admin.sandbox.demo_data import SALESFORCE_SYNC_ID
from sequin_admin.sandbox.faults import Fault
from sequin_admin.sandbox.server import SandboxServer
from sequin_admin.sequin import (
    ErrorKind,
    MutationRequest,
    SequinAuthError,
    SequinClient,
    SequinError,
    SequinForbidden,
    SequinNotFound,
    SequinRateLimited,
    SequinUnexpectedAnswer,
    SequinValidationError,
)
from tests.sequin.peers import Canned, StubServer, client_for

CONTACTS = "salesforce:contact"
Stub = Callable[[Canned], StubServer]

NGINX_502 = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)


def retitle(upstream_id: str, title: str) -> MutationRequest:
    return MutationRequest(
        kind="update",
        sync_id=SALESFORCE_SYNC_ID,
        collection_id=CONTACTS,
        records=({"upstream_id": upstream_id, "data": {"Title": title}},),
    )


def mutation_error(stub: Stub, canned: Canned) -> SequinError:
    client = client_for(stub(canned).url)
    with pytest.raises(SequinError) as caught:
        client.run_mutation(retitle("0035g00000AAAAAAAA", "X"))
    return caught.value


@pytest.mark.parametrize(
    "kind", ["proxy_502", "unavailable_503", "empty_200", "no_content_204", "error_500"]
)
def test_a_write_answered_with_something_undocumented_may_have_landed(
    client_for_sandbox: SequinClient, sandbox: SandboxServer, kind: str
) -> None:
    record = sandbox.store.any_record(CONTACTS)
    sandbox.faults.set(Fault(kind=kind))
    with pytest.raises(SequinUnexpectedAnswer) as caught:
        client_for_sandbox.run_mutation(retitle(record["upstream_id"], "Landed anyway"))
    assert caught.value.may_have_landed is True
    assert caught.value.kind == ErrorKind.UNEXPECTED
    now = sandbox.store.get_record(SALESFORCE_SYNC_ID, CONTACTS, record["upstream_id"])
    if kind != "error_500":  # the others wrote first: "unknown" was the only right reading
        assert now is not None and now["data"]["Title"] == "Landed anyway"


@pytest.mark.parametrize(
    "canned",
    [
        Canned(200),
        Canned(200, b"<html>OK</html>", "text/html"),
        Canned(204, content_type=""),
        Canned(200, b'{"data": []}'),
        Canned(200, b'{"records": {"upstream_id": "1"}}'),
        Canned(200, b'{"records": [{"sync_id": "s", "data": {"Title": "X"}}]}'),
        Canned(200, b'{"records": []}'),
        Canned(200, b'{"records": [{"upstream_id": "1"}, {"upstream_id": "2"}]}'),
        Canned(201, b'{"records": [{"upstream_id": "1"}]}'),
        Canned(500, b'{"error": "Error: internal error"}'),
        Canned(502, NGINX_502, "text/html"),
        Canned(503, b"no healthy upstream", "text/plain"),
        Canned(405, b'{"summary": "Method not allowed"}'),
    ],
    ids=lambda c: f"{c.status}-{c.body[:24]!r}",
)
def test_undocumented_mutation_answers_are_unexpected_and_may_have_landed(
    stub: Stub, canned: Canned
) -> None:
    error = mutation_error(stub, canned)
    assert isinstance(error, SequinUnexpectedAnswer)
    assert error.may_have_landed is True
    assert error.status == canned.status
    assert "{" not in error.message.split(":", 1)[0]


@pytest.mark.parametrize(
    ("canned", "error_class", "message"),
    [
        (Canned(400, b"Invalid email", "text/plain"), SequinValidationError, "Invalid email"),
        (
            Canned(422, b"<html><title>Bad data</title></html>", "text/html"),
            SequinValidationError,
            "Bad data",
        ),
        (Canned(401, b"nope", "text/plain"), SequinAuthError, "SEQUIN_API_TOKEN"),
        (
            Canned(403, NGINX_502.replace(b"502", b"403"), "text/html"),
            SequinForbidden,
            "permission",
        ),
        (Canned(404, b"", ""), SequinNotFound, "Not found."),
        (Canned(429, b"slow down", "text/plain"), SequinRateLimited, "slow down"),
    ],
)
def test_documented_failures_stay_failed_whatever_their_body(
    stub: Stub, canned: Canned, error_class: type[SequinError], message: str
) -> None:
    client = client_for(stub(canned).url, rate_limit_retries=0)
    with pytest.raises(error_class) as caught:
        client.run_mutation(retitle("0035g00000AAAAAAAA", "X"))
    assert type(caught.value) is error_class
    assert caught.value.may_have_landed is False
    assert message in caught.value.message


def test_a_403_says_the_token_lacks_permission_not_that_it_is_wrong(stub: Stub) -> None:
    error = mutation_error(stub, Canned(403, b'{"summary": "Forbidden"}'))
    assert isinstance(error, SequinAuthError) and error.kind == ErrorKind.AUTH
    assert "permission" in error.message and "permission" in error.title.lower()
    assert "SEQUIN_API_TOKEN" not in error.message
    assert error.title != SequinAuthError.title


def test_for_a_read_an_undocumented_answer_is_just_an_error(stub: Stub) -> None:
    client = client_for(stub(Canned(204, content_type="")).url)
    with pytest.raises(SequinUnexpectedAnswer) as caught:
        client.list_syncs()
    assert caught.value.status == 204
    assert "empty" in caught.value.message


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (404, {"errors": {"detail": "Not Found"}}, "Not Found"),
        (400, {"errors": [{"message": "Email is invalid"}, "Name is blank"]}, None),
        (400, {"message": "Email is invalid"}, "Email is invalid"),
        (422, {"errors": {"Email": ["is invalid"]}}, "Email: is invalid"),
        (400, {"code": 7, "reason": "no such field"}, "reason: no such field"),
        (400, {"error": {"message": "Upstream said no", "code": "E1"}}, "Upstream said no"),
    ],
)
def test_other_error_shapes_read_as_words_never_as_json(
    stub: Stub, status: int, body: Any, message: str | None
) -> None:
    error = mutation_error(stub, Canned(status, json.dumps(body).encode()))
    assert error.may_have_landed is False
    assert "{" not in error.message and '"' not in error.message
    if message is None:
        assert error.message == "Email is invalid; Name is blank"
    else:
        assert error.message == message


def test_changeset_errors_name_their_fields(stub: Stub) -> None:
    error = mutation_error(stub, Canned(422, b'{"errors": {"Email": ["is invalid"]}}'))
    assert error.field_errors == {"Email": ["is invalid"]}


def test_json_served_as_text_plain_without_charset_is_read_as_utf8(stub: Stub) -> None:
    body = json.dumps({"error": "Ungültige E-Mail: «jörg@»"}, ensure_ascii=False).encode()
    error = mutation_error(stub, Canned(400, body, "text/plain"))
    assert isinstance(error, SequinValidationError)
    assert error.message == "Ungültige E-Mail: «jörg@»"
    assert "Ungültige" in error.body_text
