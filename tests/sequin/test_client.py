"""The real client against the sandbox over HTTP: every answer maps to its typed result."""

from __future__ import annotations

import socket

import pytest

from sequin_admin.sandbox.demo_data import (
    CONSUMER_IDS,
    DEFAULT_TOKEN,
    HUBSPOT_SYNC_ID,
    SALESFORCE_SYNC_ID,
    STRIPE_SYNC_ID,
)
from sequin_admin.sandbox.faults import Fault
from sequin_admin.sandbox.server import SandboxServer
from sequin_admin.sequin import (
    ErrorKind,
    MutationRequest,
    SequinAuthError,
    SequinClient,
    SequinConsumersNotConfirmed,
    SequinNotFound,
    SequinOutcomeUnknown,
    SequinRateLimited,
    SequinUnexpectedAnswer,
    SequinUnreachable,
    SequinValidationError,
)

CONTACTS = "salesforce:contact"


def contact(sandbox: SandboxServer) -> dict:
    return sandbox.store.any_record(CONTACTS)


def update(upstream_id: str, data: dict, **extra: object) -> MutationRequest:
    return MutationRequest(
        kind="update",
        sync_id=SALESFORCE_SYNC_ID,
        collection_id=CONTACTS,
        records=({"upstream_id": upstream_id, "data": data},),
        **extra,
    )


def test_list_syncs_returns_typed_syncs(client_for_sandbox: SequinClient) -> None:
    syncs = {s.id: s for s in client_for_sandbox.list_syncs()}
    assert set(syncs) == {SALESFORCE_SYNC_ID, HUBSPOT_SYNC_ID, STRIPE_SYNC_ID}
    salesforce = syncs[SALESFORCE_SYNC_ID]
    assert salesforce.provider == "salesforce"
    assert CONTACTS in salesforce.collection_ids
    assert salesforce.status == "active"


def test_get_sync_and_unknown_sync(client_for_sandbox: SequinClient) -> None:
    assert client_for_sandbox.get_sync(STRIPE_SYNC_ID).provider == "stripe"
    with pytest.raises(SequinNotFound) as caught:
        client_for_sandbox.get_sync("00000000-0000-0000-0000-000000000000")
    assert caught.value.status == 404


def test_record_pages_cover_a_collection_once_and_resume(
    client_for_sandbox: SequinClient,
) -> None:
    pages = list(
        client_for_sandbox.iter_record_pages(
            sync_id=SALESFORCE_SYNC_ID, collection_id="salesforce:account", limit=300
        )
    )
    ids = [r.upstream_id for page in pages for r in page.records]
    assert len(pages) > 1
    assert len(ids) == len(set(ids))
    assert all(r.collection_id == "salesforce:account" for p in pages for r in p.records)

    resumed = list(
        client_for_sandbox.iter_record_pages(
            sync_id=SALESFORCE_SYNC_ID,
            collection_id="salesforce:account",
            after_cursor=pages[0].cursor,
            limit=300,
        )
    )
    assert [r.upstream_id for p in resumed for r in p.records] == ids[len(pages[0].records) :]


def test_incremental_listing_returns_only_changed_records(
    client_for_sandbox: SequinClient, sandbox: SandboxServer
) -> None:
    pages = list(
        client_for_sandbox.iter_record_pages(
            sync_id=STRIPE_SYNC_ID, collection_id="stripe:customer"
        )
    )
    last_cursor = pages[-1].cursor
    changed = sandbox.store.any_record("stripe:customer")
    sandbox.store.write_as_upstream(
        STRIPE_SYNC_ID, "stripe:customer", changed["upstream_id"], {"name": "Changed Upstream"}
    )
    again = list(
        client_for_sandbox.iter_record_pages(
            sync_id=STRIPE_SYNC_ID, collection_id="stripe:customer", after_cursor=last_cursor
        )
    )
    records = [r for p in again for r in p.records]
    assert [r.upstream_id for r in records] == [changed["upstream_id"]]
    assert records[0].data["name"] == "Changed Upstream"


def test_update_sends_patch_and_returns_the_record(
    client_for_sandbox: SequinClient, sandbox: SandboxServer
) -> None:
    before = contact(sandbox)
    result = client_for_sandbox.run_mutation(update(before["upstream_id"], {"Title": "CFO"}))
    assert result.status == 200
    assert result.kind == "update"
    (record,) = result.records
    assert (record.sync_id, record.collection_id) == (SALESFORCE_SYNC_ID, CONTACTS)
    assert record.data["Title"] == "CFO"
    assert record.upstream_updated_at is not None
    if sandbox.profile.partial_update_answers:
        assert record.data == {"Title": "CFO"}
    else:
        assert record.data["LastName"] == before["data"]["LastName"]
    if sandbox.profile.answers_carry_updated_idx:
        assert record.updated_idx > before["updated_idx"]
    else:
        assert record.updated_idx is None
    after = sandbox.store.get_record(SALESFORCE_SYNC_ID, CONTACTS, before["upstream_id"])
    assert after is not None
    assert (after["data"]["Title"], after["data"]["LastName"]) == (
        "CFO",
        before["data"]["LastName"],
    )


def test_update_with_null_clears_a_field(
    client_for_sandbox: SequinClient, sandbox: SandboxServer
) -> None:
    before = contact(sandbox)
    result = client_for_sandbox.run_mutation(update(before["upstream_id"], {"Title": None}))
    assert result.records[0].data["Title"] is None


def test_validation_error_keeps_the_upstream_words(
    client_for_sandbox: SequinClient, sandbox: SandboxServer
) -> None:
    with pytest.raises(SequinValidationError) as caught:
        client_for_sandbox.run_mutation(update(contact(sandbox)["upstream_id"], {"Email": "nope"}))
    assert caught.value.status == 400
    assert "Email" in caught.value.message
    assert "nope" in caught.value.message
    assert caught.value.kind == ErrorKind.VALIDATION and not caught.value.may_have_landed


def test_unknown_consumer_gives_field_errors_from_the_management_shape(
    client_for_sandbox: SequinClient, sandbox: SandboxServer
) -> None:
    request = update(
        contact(sandbox)["upstream_id"], {"Title": "X"}, await_consumer_ids=("no-such-consumer",)
    )
    with pytest.raises(SequinValidationError) as caught:
        client_for_sandbox.run_mutation(request)
    assert caught.value.status == 422
    assert "await_consumer_ids" in caught.value.field_errors


def test_wrong_token_is_an_auth_error_that_never_repeats_the_token(
    sandbox: SandboxServer,
) -> None:
    secret = "s3cr3t-token-value"
    client = SequinClient(base_url=sandbox.url, token=secret, timeout=(2.0, 5.0))
    with pytest.raises(SequinAuthError) as caught:
        client.list_syncs()
    assert caught.value.status == 401
    assert secret not in str(caught.value)
    assert secret not in caught.value.body_text
    assert secret not in repr(client)


def test_unknown_record_is_not_found(client_for_sandbox: SequinClient) -> None:
    with pytest.raises(SequinNotFound):
        client_for_sandbox.run_mutation(update("003000000000000AAA", {"Title": "X"}))


def test_rate_limited_update_is_retried_after_retry_after(
    sandbox: SandboxServer,
) -> None:
    waits: list[float] = []
    client = SequinClient(
        base_url=sandbox.url, token=DEFAULT_TOKEN, timeout=(2.0, 5.0), sleep=waits.append
    )
    sandbox.faults.set(Fault(kind="rate_limit_429", count=1, retry_after=3))
    result = client.run_mutation(update(contact(sandbox)["upstream_id"], {"Title": "After wait"}))
    assert result.attempts == 2
    assert waits == [3.0]
    assert result.records[0].data["Title"] == "After wait"


def test_rate_limit_beyond_the_bound_raises_with_retry_after(sandbox: SandboxServer) -> None:
    waits: list[float] = []
    client = SequinClient(
        base_url=sandbox.url, token=DEFAULT_TOKEN, timeout=(2.0, 5.0), sleep=waits.append
    )
    sandbox.faults.set(Fault(kind="rate_limit_429", count=0, retry_after=4))
    with pytest.raises(SequinRateLimited) as caught:
        client.run_mutation(update(contact(sandbox)["upstream_id"], {"Title": "X"}))
    assert caught.value.retry_after == 4.0
    assert sum(waits) <= client.max_retry_wait


def test_rate_limited_create_is_never_retried(sandbox: SandboxServer) -> None:
    waits: list[float] = []
    client = SequinClient(
        base_url=sandbox.url, token=DEFAULT_TOKEN, timeout=(2.0, 5.0), sleep=waits.append
    )
    sandbox.faults.set(Fault(kind="rate_limit_429", count=1, retry_after=1))
    create = MutationRequest(
        kind="create",
        sync_id=SALESFORCE_SYNC_ID,
        collection_id=CONTACTS,
        records=({"data": {"LastName": "Atreides", "FirstName": "Paul"}},),
    )
    with pytest.raises(SequinRateLimited):
        client.run_mutation(create)
    assert waits == []


def test_504_means_outcome_unknown(
    client_for_sandbox: SequinClient, sandbox: SandboxServer
) -> None:
    sandbox.faults.set(Fault(kind="timeout_504", count=1, apply=True))
    with pytest.raises(SequinOutcomeUnknown) as caught:
        client_for_sandbox.run_mutation(update(contact(sandbox)["upstream_id"], {"Title": "X"}))
    assert caught.value.status == 504
    assert caught.value.kind == ErrorKind.UNKNOWN and caught.value.may_have_landed
    assert "timed out" in caught.value.message


def test_read_timeout_on_a_mutation_is_unknown_and_on_a_read_is_unreachable(
    sandbox: SandboxServer,
) -> None:
    client = SequinClient(base_url=sandbox.url, token=DEFAULT_TOKEN, timeout=(1.0, 0.3))
    sandbox.faults.set(Fault(kind="latency", count=1, latency_ms=1200))
    with pytest.raises(SequinOutcomeUnknown):
        client.run_mutation(update(contact(sandbox)["upstream_id"], {"Title": "Slow"}))
    sandbox.faults.set(Fault(kind="latency", count=1, latency_ms=1200, match="/v1/syncs"))
    with pytest.raises(SequinUnreachable):
        client.list_syncs()


def test_dropped_connection_on_a_mutation_is_unknown(
    client_for_sandbox: SequinClient, sandbox: SandboxServer
) -> None:
    sandbox.faults.set(Fault(kind="drop", count=1, apply=False))
    with pytest.raises(SequinOutcomeUnknown):
        client_for_sandbox.run_mutation(update(contact(sandbox)["upstream_id"], {"Title": "X"}))


def test_dropped_connection_on_a_read_is_unreachable(
    client_for_sandbox: SequinClient, sandbox: SandboxServer
) -> None:
    sandbox.faults.set(Fault(kind="drop", count=1, match="/v1/syncs"))
    with pytest.raises(SequinUnreachable):
        client_for_sandbox.list_syncs()


def test_500_after_await_means_consumers_not_confirmed(
    client_for_sandbox: SequinClient, sandbox: SandboxServer
) -> None:
    sandbox.faults.set(Fault(kind="consumers_500", count=1))
    request = update(
        contact(sandbox)["upstream_id"],
        {"Title": "Awaited"},
        await_consumer_ids=(CONSUMER_IDS[0],),
        await_consumers_timeout=1000,
    )
    with pytest.raises(SequinConsumersNotConfirmed) as caught:
        client_for_sandbox.run_mutation(request)
    assert caught.value.kind == ErrorKind.CONSUMERS_UNCONFIRMED


def test_plain_500_is_unexpected(client_for_sandbox: SequinClient, sandbox: SandboxServer) -> None:
    sandbox.faults.set(Fault(kind="error_500", count=1))
    with pytest.raises(SequinUnexpectedAnswer) as caught:
        client_for_sandbox.run_mutation(update(contact(sandbox)["upstream_id"], {"Title": "X"}))
    assert caught.value.status == 500


def test_body_that_is_not_json_is_unexpected_and_kept(
    client_for_sandbox: SequinClient, sandbox: SandboxServer
) -> None:
    sandbox.faults.set(Fault(kind="garbage", count=1, status=502))
    with pytest.raises(SequinUnexpectedAnswer) as caught:
        client_for_sandbox.run_mutation(update(contact(sandbox)["upstream_id"], {"Title": "X"}))
    assert caught.value.status == 502
    assert "<" in caught.value.body_text


def test_nothing_listening_is_unreachable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = SequinClient(base_url=f"http://127.0.0.1:{port}", token="t", timeout=(0.5, 0.5))
    with pytest.raises(SequinUnreachable):
        client.run_mutation(update("003", {"Title": "X"}))


def test_batches_above_the_cap_are_refused_before_sending(sandbox: SandboxServer) -> None:
    client = SequinClient(base_url=sandbox.url, token=DEFAULT_TOKEN, max_records_per_mutation=2)
    request = MutationRequest(
        kind="update",
        sync_id=SALESFORCE_SYNC_ID,
        collection_id=CONTACTS,
        records=tuple({"upstream_id": str(i), "data": {}} for i in range(3)),
    )
    with pytest.raises(ValueError, match="SEQUIN_MAX_RECORDS_PER_MUTATION"):
        client.run_mutation(request)


def test_rate_limited_read_is_retried_by_the_client_not_the_transport(
    sandbox: SandboxServer,
) -> None:
    waits: list[float] = []
    client = SequinClient(
        base_url=sandbox.url, token=DEFAULT_TOKEN, timeout=(2.0, 5.0), sleep=waits.append
    )
    sandbox.faults.set(Fault(kind="rate_limit_429", count=1, retry_after=2, match="/v1/syncs"))
    assert len(client.list_syncs()) == 3
    assert waits == [2.0]
    sandbox.faults.set(Fault(kind="rate_limit_429", count=0, retry_after=2, match="/v1/syncs"))
    with pytest.raises(SequinRateLimited):
        client.list_syncs()


@pytest.mark.parametrize(
    "body",
    [
        b'{"records": [{"collection_id": "c", "data": {}}]}',  # no upstream_id
        b'{"records": [{"upstream_id": "1", "updated_idx": "seven"}]}',
        b'{"records": {"not": "a list"}}',
        b"[1, 2, 3]",
    ],
)
def test_answers_not_shaped_as_documented_are_unexpected(body: bytes) -> None:
    """A stand-in peer that answers 200 with JSON of the wrong shape."""
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    class Wrong(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Wrong)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        client = SequinClient(
            base_url=f"http://127.0.0.1:{server.server_port}", token="t", timeout=(1, 2)
        )
        with pytest.raises(SequinUnexpectedAnswer):
            client.list_records_page(sync_id="s", collection_id="c")
    finally:
        server.shutdown()
        server.server_close()
