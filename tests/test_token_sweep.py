"""The Sequin token stays on the server: no page, fragment, export, error page, header or log
line carries it.

The admin talks to a sandbox whose token is a fresh random secret, so any leak, whole, is
found by a plain substring search. Every body and every header of every answer is searched.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from django.conf import LazySettings
from django.contrib.auth.models import User
from django.http import HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.test import Client, RequestFactory
from django.views.debug import technical_500_response
from django.views.defaults import server_error

from sequin_admin.access.models import Grant, Role
from sequin_admin.mutations.models import Mutation, Outcome
from sequin_admin.records.refresh import collection_refresh
from sequin_admin.sandbox.demo_data import STRIPE_SYNC_ID
from sequin_admin.sandbox.faults import Fault
from sequin_admin.sandbox.server import SandboxServer
from sequin_admin.sequin.configured import get_client
from tests.helpers import Indexed, open_record, post, send

SECRET = f"sk-sweep-{secrets.token_hex(16)}"
# A token Sequin refuses: its refusal and error pages must not show it either.
REFUSED = f"sk-refused-{secrets.token_hex(16)}"
CONTACTS = "salesforce:contact"
CLIENT_LOGGERS = ["sequin_admin", "urllib3", "requests", ""]


@pytest.fixture(scope="module")
def secret_sandbox() -> Iterator[SandboxServer]:
    server = SandboxServer(db_path=":memory:", token=SECRET, host="127.0.0.1", port=0)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def sandbox(secret_sandbox: SandboxServer, settings: LazySettings) -> Iterator[SandboxServer]:
    """Replaces the suite's sandbox (so `indexed` lists this one): the admin holds SECRET."""
    from tests.sandbox.servers import fresh

    settings.SEQUIN_API_URL = secret_sandbox.url
    settings.SEQUIN_API_TOKEN = SECRET
    with fresh(secret_sandbox):
        yield secret_sandbox


@pytest.fixture
def admin_client(client: Client, db: None) -> Client:
    client.force_login(User.objects.create_superuser("root", password="pw-for-tests-only"))
    return client


def leaks(response: HttpResponseBase, *secrets_: str) -> list[str]:
    """Where any of the secrets shows in the answer: its body or a header."""
    if isinstance(response, StreamingHttpResponse):
        body = b"".join(response.streaming_content).decode()
    else:
        body = response.content.decode()
    found = [f"body has {s[:12]}…" for s in secrets_ if s in body]
    for name, value in response.items():
        found += [f"header {name} has {s[:12]}…" for s in secrets_ if s in value]
    for morsel in response.cookies.values():
        found += [f"cookie {morsel.key}" for s in secrets_ if s in morsel.value]
    return found


def sweep(client: Client, requests: list[tuple[str, str, dict, dict]]) -> dict[str, int]:
    """Fetch each (method, url, data, headers); assert no secret in any answer. Returns the
    status of each, so the caller can check the sweep reached what it meant to."""
    statuses: dict[str, int] = {}
    for method, url, data, headers in requests:
        if method == "GET":
            response = client.get(url, data, headers=headers)
        else:
            response = client.post(url, data, headers=headers)
        where = f"{method} {url} {data or ''} {headers or ''}"
        assert not leaks(response, SECRET, REFUSED), (where, leaks(response, SECRET, REFUSED))
        statuses[where] = response.status_code
    return statuses


HTMX = {"HX-Request": "true"}


def test_the_sweep_finds_a_token_in_a_body_a_header_or_a_cookie() -> None:
    assert leaks(HttpResponse(f"<p>{SECRET}</p>"), SECRET)
    assert leaks(StreamingHttpResponse(iter(["a,", SECRET])), SECRET)
    assert leaks(HttpResponse(headers={"X-Debug": f"Bearer {SECRET}"}), SECRET)
    cookie = HttpResponse()
    cookie.set_cookie("t", SECRET)
    assert leaks(cookie, SECRET)
    assert not leaks(HttpResponse("<p>nothing here</p>"), SECRET)


def test_no_page_fragment_export_or_error_page_carries_the_token(
    admin_client: Client, indexed: Indexed, sandbox: SandboxServer, settings: LazySettings
) -> None:
    record = indexed(CONTACTS)
    user = User.objects.get(username="root")
    page = open_record(admin_client, record)
    post(admin_client, page.url, page.form_data({"Title": "Swept title"}))
    applied = Mutation.objects.get()
    sandbox.faults.set(Fault(kind="rate_limit_429", count=0, retry_after=30))
    failed = send(record, user, {"Title": "Failed title"})
    sandbox.faults.clear()
    sandbox.faults.set(Fault(kind="timeout_504", apply=False))
    unknown = send(record, user, {"Title": "Unknown title"})
    invalid = send(record, user, {"Email": "not an email"})
    settings.SEQUIN_API_TOKEN = REFUSED
    refused = send(record, user, {"Title": "Refused title"})
    assert (failed.outcome, unknown.outcome, invalid.outcome, refused.outcome) == (
        Outcome.FAILED,
        Outcome.UNKNOWN,
        Outcome.FAILED,
        Outcome.FAILED,
    )
    assert refused.response_status == 401 and invalid.error_message

    # With the refused token, a page that must read Sequin shows Sequin's refusal (502).
    stripe = f"/syncs/{STRIPE_SYNC_ID}/{quote('stripe:customer')}/"
    refusal = sweep(admin_client, [("GET", stripe, {}, {}), ("GET", "/", {}, {})])
    assert next(iter(refusal.values())) == 502
    settings.SEQUIN_API_TOKEN = SECRET

    collection = f"/syncs/{record.sync_id}/{CONTACTS}/"
    results = {**HTMX, "HX-Target": "results"}
    requests: list[tuple[str, str, dict, dict]] = [
        ("GET", "/", {}, {}),
        ("GET", f"/syncs/{record.sync_id}/", {}, {}),
        ("GET", collection, {}, {}),
        ("GET", collection, {"q": record.upstream_id}, results),
        ("GET", collection, {"q": "Swept"}, {}),
        ("GET", page.url, {}, {}),
        ("GET", page.url, {}, {**HTMX, "HX-Target": "record-editor"}),
        ("POST", page.url, page.form_data({"Title": "Previewed"}, {"action": "preview"}), HTMX),
        ("POST", f"{page.url}preview/", page.form_data({"Title": "Live preview"}), HTMX),
        ("GET", "/mutations/", {}, {}),
        ("GET", "/mutations/", {"outcome": "failed", "user": "root"}, {}),
        ("GET", "/mutations/", {"outcome": "unknown"}, {**HTMX, "HX-Target": "history-results"}),
        ("GET", "/mutations/", {"upstream_id": record.upstream_id, "field": "Title"}, {}),
        ("GET", "/mutations/chart/", {"outcome": "failed"}, HTMX),
        ("GET", "/mutations/export/", {"format": "csv"}, {}),
        ("GET", f"{collection}-/export/csv/", {"q": "Swept"}, {}),
        ("GET", f"{collection}-/export/json/", {}, {}),
        ("GET", f"{collection}-/new/", {}, {}),
        ("GET", f"{collection}-/csv/", {}, {}),
        ("GET", f"/jobs/bulk-edit/{record.sync_id}/{CONTACTS}/", {"id": record.upstream_id}, {}),
        ("GET", "/jobs/", {}, {}),
        ("GET", "/mutations/export/", {"format": "json"}, {}),
        ("GET", f"/mutations/{failed.pk}/retry/", {}, {}),
        ("GET", f"/mutations/{refused.pk}/retry/", {}, HTMX),
        ("GET", f"/mutations/{applied.pk}/revert/", {}, {}),
        ("POST", f"/mutations/{unknown.pk}/reconcile/", {}, HTMX),
        ("GET", "/no-such-page/", {}, {}),
        ("GET", "/mutations/999999/", {}, {}),
        ("GET", "/django-admin/", {}, {}),
        ("GET", "/django-admin/mutations/mutation/", {}, {}),
        ("GET", "/django-admin/mutations/mutation/", {"outcome__exact": "failed"}, {}),
        ("GET", "/django-admin/records/indexedrecord/", {"q": "Swept"}, {}),
    ]
    for m in (applied, failed, unknown, invalid, refused):
        requests += [
            ("GET", f"/mutations/{m.pk}/", {}, {}),
            ("GET", f"/django-admin/mutations/mutation/{m.pk}/change/", {}, {}),
        ]
    statuses = sweep(admin_client, requests)

    assert sorted(set(statuses.values())) == [200, 404], statuses
    detail = admin_client.get(f"/mutations/{refused.pk}/").content.decode()
    assert "401" in detail  # the refusal's page was among those swept, with its error text
    curl = admin_client.get(f"/mutations/{applied.pk}/revert/").content.decode()
    assert "curl -X POST" in curl and "$SEQUIN_API_TOKEN" in curl

    # The same pages, fragments and exports as each role on the collection: what a role may
    # not use is refused (a viewer's previews and confirmations), and no answer carries it.
    for role in (Role.VIEWER, Role.EDITOR, Role.BULK_EDITOR, Role.ADMIN):
        person = User.objects.create_user(f"swept-{role.value}")
        Grant.objects.create(user=person, role=role, collection_pattern=CONTACTS)
        as_role = Client()
        as_role.force_login(person)
        seen = set(sweep(as_role, requests).values())
        assert 200 in seen, (role, seen)
        assert (403 in seen) == (role < Role.BULK_EDITOR), (role, seen)


def test_refused_and_failed_requests_pages_carry_no_token(
    client: Client, db: None, settings: LazySettings
) -> None:
    settings.SEQUIN_API_TOKEN = SECRET
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.get("/accounts/login/")
    forbidden = csrf_client.post("/accounts/login/", {"username": "a", "password": "b"})
    assert forbidden.status_code == 403 and not leaks(forbidden, SECRET)
    too_big = "x=" + "y" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    bad = client.post("/accounts/login/", too_big, content_type="application/x-www-form-urlencoded")
    assert bad.status_code == 400 and not leaks(bad, SECRET)
    bad_host = client.get("/accounts/login/", headers={"Host": "evil.example"})
    assert bad_host.status_code == 400 and not leaks(bad_host, SECRET)
    failed = server_error(RequestFactory().get("/"))
    assert failed.status_code == 500 and not leaks(failed, SECRET)


def test_the_debug_500_page_masks_the_token_in_settings_and_environment(
    settings: LazySettings,
) -> None:
    """`make run` with the sandbox runs DEBUG: its 500 page lists settings and the request's
    environment, where the development server copies the process environment."""
    settings.DEBUG = True
    settings.SEQUIN_API_TOKEN = SECRET
    request = RequestFactory().get("/", SEQUIN_API_TOKEN=SECRET, HTTP_AUTHORIZATION=SECRET)
    try:
        raise RuntimeError("boom")
    except RuntimeError as exc:
        response = technical_500_response(request, type(exc), exc, exc.__traceback__)
    html = response.content.decode()
    assert "SEQUIN_API_TOKEN" in html  # the page did list it, masked
    assert SECRET not in html


def test_no_log_line_carries_the_token_during_a_mutation_and_a_refresh(
    indexed: Indexed, user: User, sandbox: SandboxServer, caplog: pytest.LogCaptureFixture
) -> None:
    record = indexed(CONTACTS)
    get_client().close()  # the next calls open new connections, which urllib3 logs
    for name in CLIENT_LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    send(record, user, {"Title": "Logged title"})
    sandbox.faults.set(Fault(kind="rate_limit_429", count=1, retry_after=0))
    send(record, user, {"Title": "Retried after 429"})
    sandbox.faults.set(Fault(kind="error_500"))
    send(record, user, {"Title": "Logged failure"})
    collection_refresh(sync_id=record.sync_id, collection_id=CONTACTS)

    lines = [r.getMessage() for r in caplog.records] + [caplog.text]
    assert any(r.name.startswith("urllib3") for r in caplog.records), "urllib3 logged nothing"
    assert any("/v1/mutations/run" in line for line in lines)
    assert any("/v1/records" in line for line in lines)
    assert not [line for line in lines if SECRET in line]
