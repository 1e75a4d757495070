"""What a successful mutation's answer does to the index: merged, never trusted blindly."""

from __future__ import annotations

import pytest

from sequin_admin.records.index import index_apply_answer, index_get, index_upsert
from sequin_admin.sequin import MutationRequest, Record
from sequin_admin.sequin.types import MutationResult

SYNC, COLLECTION = "sync-1", "salesforce:contact"
HELD = {"FirstName": "Ada", "Title": "Engineer", "Email": "ada@example.com"}


def row(**changes: object) -> Record:
    fields: dict = {
        "sync_id": SYNC,
        "collection_id": COLLECTION,
        "upstream_id": "003A",
        "data": dict(HELD),
        "deleted": False,
        "updated_idx": 10,
        "upstream_created_at": None,
        "upstream_updated_at": None,
    }
    return Record(**{**fields, **changes})


def answer(request: MutationRequest, *records: Record) -> None:
    index_apply_answer(
        result=MutationResult(records=records, status=200, body={}, kind=request.kind),
        request=request,
    )


def update(data: dict) -> MutationRequest:
    return MutationRequest(
        kind="update",
        sync_id=SYNC,
        collection_id=COLLECTION,
        records=({"upstream_id": "003A", "data": data},),
    )


@pytest.fixture
def held(db: None) -> None:
    index_upsert(records=[row()])


def current() -> dict:
    found = index_get(sync_id=SYNC, collection_id=COLLECTION, upstream_id="003A")
    assert found is not None
    return {
        "data": found.data,
        "idx": found.updated_idx,
        "pending": found.reread_pending,
        "deleted": found.deleted,
    }


def test_an_answer_with_only_the_patched_fields_is_merged(held: None) -> None:
    answer(update({"Title": "CTO"}), row(data={"Title": "CTO"}, updated_idx=11))
    assert current() == {
        "data": {**HELD, "Title": "CTO"},
        "idx": 11,
        "pending": False,
        "deleted": False,
    }


def test_an_answer_without_a_version_is_kept_and_marked_for_a_re_read(held: None) -> None:
    answer(update({"Title": "CTO"}), row(data={"Title": "CTO"}, updated_idx=None))
    assert current() == {
        "data": {**HELD, "Title": "CTO"},
        "idx": 10,
        "pending": True,
        "deleted": False,
    }
    index_upsert(records=[row(data={**HELD, "Title": "CTO"}, updated_idx=12)])  # the listing
    assert current()["pending"] is False and current()["idx"] == 12


def test_an_older_version_in_an_answer_changes_nothing(held: None) -> None:
    answer(update({"Title": "Stale"}), row(data={"Title": "Stale"}, updated_idx=9))
    assert current()["data"] == HELD


def test_a_delete_answered_deleted_false_still_deletes(held: None) -> None:
    request = MutationRequest(
        kind="delete", sync_id=SYNC, collection_id=COLLECTION, upstream_ids=("003A",)
    )
    answer(request, row(deleted=False, updated_idx=None))
    assert current()["deleted"] is True


def test_a_returned_record_without_a_sync_takes_the_request_s(held: None) -> None:
    answer(update({"Title": "CTO"}), row(sync_id="", data={"Title": "CTO"}, updated_idx=11))
    assert current()["data"]["Title"] == "CTO"
    assert index_get(sync_id="", collection_id=COLLECTION, upstream_id="003A") is None
