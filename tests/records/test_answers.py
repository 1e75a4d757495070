"""What a successful mutation's answer does to the index: merged, never trusted blindly."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from sequin_admin import planner_statistics
from sequin_admin.records.index import index_apply_answer, index_get, index_upsert
from sequin_admin.records.models import IndexedRecord
from sequin_admin.sequin import MutationRequest, Record
from sequin_admin.sequin.types import MutationResult
from tests.helpers import plan_of

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


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner statistics")
def test_a_batch_s_records_are_probed_by_id_once_the_index_has_filled_their_collection(
    db: None,
    planner_counts: None,
    django_capture_on_commit_callbacks: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # However big the test database's table was at its last ANALYZE, these rows are stale.
    monkeypatch.setattr(planner_statistics, "SCALE_FACTOR", 0.0)
    ids = [f"003{n:05d}" for n in range(3 * 400)]
    with django_capture_on_commit_callbacks(execute=True):
        for start in range(0, len(ids), 400):  # in pages, as a refresh writes them
            with transaction.atomic():
                index_upsert(records=[row(upstream_id=i) for i in ids[start : start + 400]])
    batch = ids[:100]
    request = MutationRequest(
        kind="update",
        sync_id=SYNC,
        collection_id=COLLECTION,
        records=tuple({"upstream_id": i, "data": {"Title": "Batch"}} for i in batch),
    )

    with CaptureQueriesContext(connection) as queries:
        answer(
            request, *[row(upstream_id=i, data={"Title": "Batch"}, updated_idx=20) for i in batch]
        )

    lookups = [
        q["sql"]
        for q in queries
        if q["sql"].startswith("SELECT") and "upstream_id IN (" in q["sql"]
    ]
    assert len(lookups) == 1
    plan = plan_of(lookups[0])
    assert "unique_indexed_record" in plan and "record_keyset" not in plan, plan
    merged = index_get(sync_id=SYNC, collection_id=COLLECTION, upstream_id=batch[-1])
    assert merged is not None and merged.data == {**HELD, "Title": "Batch"}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner statistics")
def test_only_new_rows_count_towards_the_statistics(db: None, planner_counts: None) -> None:
    """A refresh writing a collection again changes nothing the planner must know; the
    rows it adds do."""
    table = IndexedRecord._meta.db_table
    ids = [f"003{n:05d}" for n in range(300)]
    index_upsert(records=[row(upstream_id=i) for i in ids])
    assert planner_statistics._written[table] == 300

    again = index_upsert(records=[row(upstream_id=i, updated_idx=11) for i in [*ids, "003new"]])

    assert again == 301
    assert planner_statistics._written[table] == 301
