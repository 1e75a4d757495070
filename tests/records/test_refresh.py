"""The fill: pages fetched ahead of the write by a thread, and an upsert that finds stored
versions through the unique index whatever the table's statistics."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sequin_admin.records.index import index_upsert
from sequin_admin.records.models import IndexedRecord
from sequin_admin.records.refresh import prefetched
from sequin_admin.sequin import Record, RecordPage, SequinError

SYNC = "sync-refresh"
COLLECTION = "salesforce:lead"


def page(number: int) -> RecordPage:
    record = Record(
        sync_id=SYNC,
        collection_id=COLLECTION,
        upstream_id=f"R{number}",
        data={"n": number},
        deleted=False,
        updated_idx=number,
        upstream_created_at=None,
        upstream_updated_at=None,
    )
    return RecordPage(records=(record,), cursor=f"c{number}")


def fetcher_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "record-pages-ahead"]


def test_pages_arrive_in_order_and_the_fetcher_ends() -> None:
    got = [p.cursor for p in prefetched(iter([page(n) for n in range(7)]), depth=2)]
    assert got == [f"c{n}" for n in range(7)]
    assert fetcher_threads() == []


def test_the_fetcher_runs_ahead_of_the_reader_by_depth_pages() -> None:
    fetched: list[int] = []
    reached_three = threading.Event()

    def pages() -> Iterator[RecordPage]:
        for n in range(10):
            fetched.append(n)
            if n == 3:
                reached_three.set()
            yield page(n)

    ahead = prefetched(pages(), depth=2)
    first = next(ahead)
    # While the first page is being written, the next ones are fetched: two queued, one in hand.
    assert reached_three.wait(timeout=5)
    assert first.cursor == "c0"
    assert fetched[:4] == [0, 1, 2, 3]
    assert len(fetched) <= 4
    ahead.close()
    assert fetcher_threads() == []


def test_an_error_arrives_after_the_pages_before_it() -> None:
    failure = SequinError("Sequin is down", status=502)

    def pages() -> Iterator[RecordPage]:
        yield page(1)
        yield page(2)
        raise failure

    got = []
    with pytest.raises(SequinError) as raised:
        for p in prefetched(pages(), depth=1):
            got.append(p.cursor)
    assert got == ["c1", "c2"]
    assert raised.value is failure
    assert fetcher_threads() == []


def test_stopping_early_stops_the_fetcher_blocked_on_a_full_queue() -> None:
    ahead = prefetched(iter([page(n) for n in range(100)]), depth=1)
    assert next(ahead).cursor == "c0"
    ahead.close()
    assert fetcher_threads() == []


def record(number: int, **changes: Any) -> Record:
    return replace(page(number).records[0], **changes)


@pytest.mark.django_db
def test_upsert_is_one_statement_per_page_whatever_the_table_holds() -> None:
    """The stored versions are found by the unique constraint arbitrating the conflict, not
    by a lookup the planner could run as a walk of the collection."""
    counts = []
    for size in (100, 2_000):
        index_upsert(records=[record(n) for n in range(size)])
        with CaptureQueriesContext(connection) as queries:
            index_upsert(records=[record(n, updated_idx=n + 10_000) for n in range(0, 500)])
        counts.append(len(queries))
        sql = queries.captured_queries[0]["sql"]
        assert "ON CONFLICT" in sql
        assert "SELECT" not in sql
    # One statement per batch of rows the database takes at once (a page on PostgreSQL).
    assert counts[0] == counts[1]
    if connection.vendor == "postgresql":
        assert counts[0] == 1


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner")
def test_postgres_upsert_arbitrates_on_the_unique_index_of_a_table_never_analyzed() -> None:
    index_upsert(records=[record(n) for n in range(2_000)])
    with CaptureQueriesContext(connection) as queries:
        index_upsert(records=[record(7, updated_idx=70)])
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {queries.captured_queries[0]['sql']}")
        plan = " | ".join(row[0] for row in cursor.fetchall())
    assert "Conflict Arbiter Indexes: unique_indexed_record" in plan, plan


@pytest.mark.django_db
def test_upsert_counts_what_it_wrote_and_never_goes_back_a_version() -> None:
    assert index_upsert(records=[record(1), record(2)]) == 2
    assert index_upsert(records=[record(1, data={"n": "old"}, updated_idx=0)]) == 0
    assert index_upsert(records=[record(2, data={"n": "same"})]) == 1
    assert index_upsert(records=[record(1, data={"n": "new"}, updated_idx=5)]) == 1
    stored = dict(IndexedRecord.objects.values_list("upstream_id", "data"))
    assert stored == {"R1": {"n": "new"}, "R2": {"n": "same"}}
    assert "same" in IndexedRecord.objects.get(upstream_id="R2").search_text
