"""Where requests go and how they travel: the base URL, timeouts, what is sent, what is not
followed, and what of the environment is ignored."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import pytest

from sequin_admin.sandbox.demo_data import (
    CONSUMER_IDS,
    DEFAULT_TOKEN,
    SALESFORCE_SYNC_ID,
    SEARCH_INDEXER_CONSUMER_ID,
)
from sequin_admin.sandbox.faults import Fault
from sequin_admin.sandbox.server import SandboxServer
from sequin_admin.sequin import (
    MutationRequest,
    SequinConsumersNotConfirmed,
    SequinError,
    SequinInvalidRequest,
    SequinUnexpectedAnswer,
)
from tests.sequin.peers import Canned, Received, StubServer, client_for

Stub = Callable[[Canned], StubServer]
CONTACTS = "salesforce:contact"


def retitle(upstream_id: str, title: object, **extra: object) -> MutationRequest:
    return MutationRequest(
        kind="update",
        sync_id=SALESFORCE_SYNC_ID,
        collection_id=CONTACTS,
        records=({"upstream_id": upstream_id, "data": {"Title": title}},),
        **extra,
    )


def title_of(sandbox: SandboxServer, upstream_id: str) -> object:
    record = sandbox.store.get_record(SALESFORCE_SYNC_ID, CONTACTS, upstream_id)
    assert record is not None
    return record["data"]["Title"]


# --- base URL ---------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["", "/", "/v1", "/v1/"])
def test_a_base_url_ending_in_v1_is_the_same_service(sandbox: SandboxServer, suffix: str) -> None:
    client = client_for(sandbox.url + suffix)
    assert client.base_url == sandbox.url
    assert len(client.list_syncs()) == 3


def test_another_path_in_the_base_url_is_kept(stub: Stub) -> None:
    peer = stub(Canned(200, b'{"data": []}'))
    client_for(peer.url + "/sequin/").list_syncs()
    assert peer.received[0].path == "/sequin/v1/syncs"


# --- timeouts ---------------------------------------------------------------------------------


def test_an_awaiting_mutation_reads_for_the_await_timeout_plus_the_read_timeout() -> None:
    client = client_for("http://127.0.0.1:1", timeout=(2.0, 5.0))
    assert client.timeout_for(retitle("1", "X")) == (2.0, 5.0)
    awaited = retitle("1", "X", await_consumer_ids=("c",), await_consumers_timeout=1500)
    assert client.timeout_for(awaited) == (2.0, 6.5)
    # Sequin waits 30 s when the request names no timeout.
    assert client.timeout_for(retitle("1", "X", await_consumer_ids=("c",))) == (2.0, 35.0)


def test_a_long_await_ends_with_sequin_s_answer_not_an_unknown_outcome(
    sandbox: SandboxServer,
) -> None:
    """The read timeout alone (0.5 s) is shorter than the await; the answer still arrives."""
    upstream_id = sandbox.store.any_record(CONTACTS)["upstream_id"]
    client = client_for(sandbox.url, timeout=(2.0, 0.5))
    sandbox.faults.set(Fault(kind="consumers_late"))
    request = retitle(
        upstream_id, "Saved", await_consumer_ids=(CONSUMER_IDS[0],), await_consumers_timeout=1000
    )
    with pytest.raises(SequinConsumersNotConfirmed) as caught:
        client.run_mutation(request)
    assert caught.value.status == 500
    assert title_of(sandbox, upstream_id) == "Saved"


def test_consumers_slower_than_the_read_timeout_still_confirm(sandbox: SandboxServer) -> None:
    upstream_id = sandbox.store.any_record(CONTACTS)["upstream_id"]
    client = client_for(sandbox.url, timeout=(2.0, 0.05))  # search-indexer takes 120 ms
    request = retitle(
        upstream_id,
        "Indexed",
        await_consumer_ids=(SEARCH_INDEXER_CONSUMER_ID,),
        await_consumers_timeout=2000,
    )
    assert client.run_mutation(request).records[0].data["Title"] == "Indexed"


# --- what is sent -----------------------------------------------------------------------------


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, {1j}])
def test_a_value_json_cannot_hold_is_refused_before_anything_is_sent(
    stub: Stub, value: object
) -> None:
    peer = stub(Canned(200, b'{"records": [{"upstream_id": "1"}]}'))
    with pytest.raises(SequinInvalidRequest) as caught:
        client_for(peer.url).run_mutation(retitle("1", value))
    assert isinstance(caught.value, ValueError)
    assert caught.value.may_have_landed is False
    assert peer.received == []


def test_each_path_part_is_quoted_whole(stub: Stub) -> None:
    peer = stub(Canned(404, b'{"summary": "Not found"}'))
    with pytest.raises(SequinError):
        client_for(peer.url).get_sync("a/../b?c=1#d")
    assert peer.received[0].path == "/v1/syncs/a%2F..%2Fb%3Fc%3D1%23d"


def test_a_sync_id_cannot_reach_another_endpoint(sandbox: SandboxServer) -> None:
    with pytest.raises(SequinError) as caught:
        client_for(sandbox.url).get_sync("?")
    assert caught.value.status == 404  # not the list of syncs at /v1/syncs/?


# --- redirects and the environment -------------------------------------------------------------


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirect_is_not_followed_and_the_mutation_may_have_landed(
    stub: Stub, sandbox: SandboxServer, status: int
) -> None:
    upstream_id = sandbox.store.any_record(CONTACTS)["upstream_id"]
    before = title_of(sandbox, upstream_id)
    location = f"{sandbox.url}/v1/mutations/run"
    peer = stub(Canned(status, b"", "", headers={"Location": location}))
    with pytest.raises(SequinUnexpectedAnswer) as caught:
        client_for(peer.url).run_mutation(retitle(upstream_id, "Redirected"))
    assert caught.value.status == status and caught.value.may_have_landed
    assert location in caught.value.message
    assert title_of(sandbox, upstream_id) == before


def test_a_redirected_read_is_an_unexpected_answer(stub: Stub, sandbox: SandboxServer) -> None:
    peer = stub(Canned(302, b"", "", headers={"Location": f"{sandbox.url}/v1/syncs"}))
    with pytest.raises(SequinUnexpectedAnswer):
        client_for(peer.url).list_syncs()


def test_proxy_variables_are_ignored(
    stub: Stub, sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    proxy = stub(Canned(502, b"proxied", "text/plain"))
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY"):
        monkeypatch.setenv(name, proxy.url)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    assert len(client_for(sandbox.url).list_syncs()) == 3
    assert proxy.received == []


def test_a_netrc_entry_does_not_replace_the_token(
    sandbox: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login someone password something-else\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    assert len(client_for(sandbox.url).list_syncs()) == 3


def test_a_token_echoed_back_in_an_answer_is_masked_before_anything_reads_it(
    stub: Stub,
) -> None:
    def echo(request: Received) -> Canned:
        body = f'{{"error": "refused {request.headers["Authorization"]}"}}'
        return Canned(403, body.encode())

    client = client_for(stub(echo).url)
    with pytest.raises(SequinError) as refused:
        client.run_mutation(retitle("0031", "x"))
    assert DEFAULT_TOKEN not in refused.value.body_text + refused.value.message
    assert "refused Bearer ********" in refused.value.body_text
