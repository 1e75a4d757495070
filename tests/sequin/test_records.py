"""Records parsed as the service sends them: the docs' shape and the live one."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from sequin_admin.sandbox.demo_data import SALESFORCE_SYNC_ID, STRIPE_SYNC_ID
from sequin_admin.sandbox.server import SandboxServer
from sequin_admin.sequin import MutationRequest, Record, SequinClient, SequinUnexpectedAnswer
from tests.sequin.peers import Canned, StubServer, client_for

Stub = Callable[[Canned], StubServer]

# As a live consumer delivered it in July 2024 (the reference's last section), extra keys kept.
LIVE_RECORD = {
    "id": "5d2c3c5e-7b57-4b5e-8f43-0a4f1f1f7d2e",
    "sync": {"id": "f1d1c9e8-1111-4c1b-9a57-000000000001", "external_id": None, "metadata": {}},
    "collection_id": "salesforce:contact",
    "stream_id": "0d0e4f6a-2222-4a0e-8f43-000000000002",
    "provider": "salesforce",
    "upstream_id": "0035g00000XyZabAAB",
    "upstream_created_at": "2024-07-26T15:01:22.000000+00:00",
    "upstream_updated_at": "2024-07-26T15:01:23.000000+00:00",
    "inserted_at": "2024-07-26T15:01:24.414650",
    "updated_idx": 2745327036,
    "deleted": "false",
    "data": {"FirstName": "Paul"},
}


def test_a_live_record_parses_with_utc_stamps_and_its_sync_object() -> None:
    record = Record.from_json(LIVE_RECORD)
    assert record.sync_id == "f1d1c9e8-1111-4c1b-9a57-000000000001"
    assert record.collection_id == "salesforce:contact"
    assert record.deleted is False
    assert record.updated_idx == 2745327036
    assert record.inserted_at == datetime(2024, 7, 26, 15, 1, 24, 414650, tzinfo=UTC)
    assert record.upstream_updated_at == datetime(2024, 7, 26, 15, 1, 23, tzinfo=UTC)


def test_the_docs_record_parses_too() -> None:
    record = Record.from_json(
        {
            "sync_id": "s",
            "collection_id": "stripe:subscription",
            "upstream_id": "sub_1",
            "upstream_updated_at": "2023-12-15 01:29:29",
            "created_at": "2024-01-02T03:04:05Z",
            "deleted": False,
            "data": {},
        }
    )
    assert record.sync_id == "s" and record.updated_idx is None
    assert record.upstream_updated_at == datetime(2023, 12, 15, 1, 29, 29, tzinfo=UTC)
    assert record.inserted_at == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("deleted", "expected"),
    [
        ("false", False),
        ("true", True),
        ("TRUE", True),
        (0, False),
        (1, True),
        (False, False),
        (True, True),
        (None, False),
        ("MISSING", False),
    ],
)
def test_deleted_reads_every_spelling_of_a_flag(deleted: object, expected: bool) -> None:
    body = {"upstream_id": "1", **({} if deleted == "MISSING" else {"deleted": deleted})}
    assert Record.from_json(body).deleted is expected


@pytest.mark.parametrize(
    "body",
    [
        {"upstream_id": "1", "deleted": "maybe"},
        {"upstream_id": "1", "deleted": 2},
        {"upstream_id": None},
        {"upstream_id": ""},
        {"upstream_id": "1", "updated_idx": True},
    ],
)
def test_values_that_mean_nothing_sure_are_refused(body: dict[str, object]) -> None:
    with pytest.raises((KeyError, ValueError)):
        Record.from_json(body)


def test_listed_records_name_their_sync_and_carry_aware_stamps(
    client_for_sandbox: SequinClient,
) -> None:
    page = client_for_sandbox.list_records_page(
        sync_id=STRIPE_SYNC_ID, collection_id="stripe:customer", limit=20
    )
    assert len(page.records) == 20
    for record in page.records:
        assert record.sync_id == STRIPE_SYNC_ID
        assert record.deleted is False
        assert isinstance(record.updated_idx, int)
        for moment in (record.inserted_at, record.upstream_updated_at):
            assert moment is not None and moment.utcoffset() is not None


def test_returned_records_without_sync_or_collection_take_the_request_s(stub: Stub) -> None:
    answer = {"records": [{"upstream_id": "0035g00000AAAAAAAA", "data": {"Title": "X"}}]}
    peer = stub(Canned(200, json.dumps(answer).encode()))
    result = client_for(peer.url).run_mutation(
        MutationRequest(
            kind="update",
            sync_id=SALESFORCE_SYNC_ID,
            collection_id="salesforce:contact",
            records=({"upstream_id": "0035g00000AAAAAAAA", "data": {"Title": "X"}},),
        )
    )
    (record,) = result.records
    assert (record.sync_id, record.collection_id) == (SALESFORCE_SYNC_ID, "salesforce:contact")
    assert record.updated_idx is None


def test_a_delete_result_says_it_was_a_delete_and_leaves_deleted_as_sent(
    client_for_sandbox: SequinClient, sandbox: SandboxServer
) -> None:
    target = sandbox.store.any_record("stripe:customer")
    result = client_for_sandbox.run_mutation(
        MutationRequest(
            kind="delete",
            sync_id=STRIPE_SYNC_ID,
            collection_id="stripe:customer",
            upstream_ids=(target["upstream_id"],),
        )
    )
    assert result.kind == "delete"
    (record,) = result.records
    # The real profile answers as the docs' delete example does, `deleted: false`.
    assert record.deleted is not sandbox.profile.delete_answers_read_live
    stored = sandbox.store.get_record(STRIPE_SYNC_ID, "stripe:customer", target["upstream_id"])
    assert stored is not None and stored["deleted"] is True


def test_a_record_list_of_another_shape_is_unexpected(stub: Stub) -> None:
    peer = stub(Canned(200, b'{"records": [{"upstream_id": "1", "deleted": "perhaps"}]}'))
    with pytest.raises(SequinUnexpectedAnswer):
        client_for(peer.url).list_records_page(sync_id="s", collection_id="c")
