"""Filling the index from a listing: pages fetched ahead of the write by a thread, an upsert
that finds stored versions through the unique index whatever the table's statistics, and
cursors of any length."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import LazySettings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sequin_admin.records import search
from sequin_admin.records.index import index_upsert
from sequin_admin.records.models import IndexedRecord
from sequin_admin.records.refresh import collection_refresh, prefetched
from sequin_admin.sequin import Record, RecordPage, SequinError
from tests.sequin.peers import Canned, Received, StubServer

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
    # Both times a page of 500 rows already stored, in a table of 500 and then of 2,000.
    for size in (500, 2_000):
        index_upsert(records=[record(n) for n in range(size)])
        with CaptureQueriesContext(connection) as queries:
            index_upsert(records=[record(n, updated_idx=n + 10_000) for n in range(0, 500)])
        counts.append(len(queries))
        statements = [q["sql"] for q in queries if "SAVEPOINT" not in q["sql"]]
        upserts = [sql for sql in statements if "ON CONFLICT" in sql]
        assert upserts
        # Rows come from the bound values (VALUES, or on PostgreSQL the page bound as one JSON
        # document), never from a read of the table.
        assert all(" FROM " not in sql.replace(" FROM json_to_recordset(", "") for sql in upserts)
        if connection.vendor == "postgresql":
            # One statement for the page, nothing else.
            assert statements == upserts and len(upserts) == 1
    # The same per page however many rows the table holds.
    assert counts[0] == counts[1]


@pytest.mark.django_db
def test_sqlite_writes_the_fts_rows_of_an_upsert_itself_and_leaves_the_triggers_on() -> None:
    if not search.fts_written_here(connection.cursor(), connection.alias):
        pytest.skip(
            "no FTS5 table here (PostgreSQL, or SQLite without FTS5 trigram): no rows to write"
        )
    with CaptureQueriesContext(connection) as queries:
        index_upsert(records=[record(n, data={"n": f"first{n}"}) for n in range(5)])
    assert any("RETURNING" in q["sql"] for q in queries)
    lookup = next(q["sql"] for q in queries if q["sql"].startswith("SELECT id, search_text"))
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {lookup}")
        plan = " | ".join(str(row[-1]) for row in cursor.fetchall())
    # Each stored row is found by the unique constraint's index, never by a scan.
    assert "(sync_id=? AND collection_id=? AND upstream_id=?)" in plan, plan
    assert "SCAN" not in plan, plan
    # Replaced rows lose their old text; rows the upsert skipped keep theirs.
    index_upsert(records=[record(1, data={"n": "second"}, updated_idx=9)])
    index_upsert(records=[record(2, data={"n": "older"}, updated_idx=0)])
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {search.FTS_PAUSED_TABLE}")
        assert cursor.fetchone()[0] == 0

    def matching(term: str) -> list[int]:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT rowid FROM {search.FTS_TABLE} WHERE {search.FTS_TABLE} MATCH %s",
                [search.fts_phrases([term])],
            )
            return sorted(row[0] for row in cursor.fetchall())

    ids = dict(IndexedRecord.objects.values_list("upstream_id", "id"))
    assert matching("first1") == []
    assert matching("second") == [ids["R1"]]
    assert matching("first2") == [ids["R2"]]
    assert matching("older") == []
    # Any other writer is still followed by the triggers.
    IndexedRecord.objects.filter(upstream_id="R3").update(search_text="r3 third")
    IndexedRecord.objects.create(
        sync_id=SYNC, collection_id=COLLECTION, upstream_id="R9", search_text="r9 ninth"
    )
    assert matching("third") == [ids["R3"]]
    assert matching("first3") == []
    assert matching("ninth") == [IndexedRecord.objects.get(upstream_id="R9").pk]


@pytest.mark.django_db
def test_sqlite_replaces_the_fts_rows_of_stored_records_of_several_collections() -> None:
    if not search.fts_written_here(connection.cursor(), connection.alias):
        pytest.skip(
            "no FTS5 table here (PostgreSQL, or SQLite without FTS5 trigram): no rows to write"
        )
    first = [record(1, data={"n": "alpha"}), record(1, data={"n": "gamma"}, collection_id="x")]
    index_upsert(records=first)
    index_upsert(records=[replace(r, data={"n": "beta"}, updated_idx=5) for r in first])
    with connection.cursor() as cursor:
        # Raises where the FTS table holds another text than the row's.
        cursor.execute(
            f"INSERT INTO {search.FTS_TABLE}({search.FTS_TABLE}, rank) "
            "VALUES ('integrity-check', 1)"
        )
        cursor.execute(
            f"SELECT count(*) FROM {search.FTS_TABLE} WHERE {search.FTS_TABLE} MATCH %s",
            [search.fts_phrases(["beta"])],
        )
        assert cursor.fetchone()[0] == 2


@pytest.mark.django_db
def test_sqlite_writes_a_pages_fts_rows_after_all_its_upsert_statements() -> None:
    """Every upsert statement opens a savepoint, at which FTS5 writes what it holds in memory
    to a new segment: FTS rows written between the statements would make a segment each."""
    if not search.fts_written_here(connection.cursor(), connection.alias):
        pytest.skip(
            "no FTS5 table here (PostgreSQL, or SQLite without FTS5 trigram): no rows to write"
        )
    index_upsert(records=[record(n) for n in range(0, 500, 2)])
    with CaptureQueriesContext(connection) as queries:
        # Half of them stored already, with another text: FTS deletes and inserts.
        index_upsert(
            records=[record(n, data={"n": f"v{n}"}, updated_idx=n + 1) for n in range(500)]
        )
    statements = [q["sql"] for q in queries]
    upserts = [i for i, sql in enumerate(statements) if "ON CONFLICT" in sql]
    fts_writes = [
        i for i, sql in enumerate(statements) if f"INSERT INTO {search.FTS_TABLE}(" in sql
    ]
    assert len(upserts) > 1, "500 rows are more than one statement binds"
    assert len(fts_writes) == 2
    assert min(fts_writes) > max(upserts)


@pytest.mark.django_db
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="checks PostgreSQL's plan; SQLite's upsert is checked by the FTS test above",
)
def test_postgres_upsert_arbitrates_on_the_unique_index_of_a_table_never_analyzed() -> None:
    index_upsert(records=[record(n) for n in range(2_000)])
    with CaptureQueriesContext(connection) as queries:
        index_upsert(records=[record(7, updated_idx=70)])
    with connection.cursor() as cursor:
        upsert = next(q["sql"] for q in queries if "ON CONFLICT" in q["sql"])
        cursor.execute(f"EXPLAIN {upsert}")
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


# Opaque cursors have no documented length; a live one was longer than the 500 characters
# the index's column once held (PostgreSQL refused it, SQLite did not notice).
LONG_CURSOR = "opaque-" + "x" * 2_000


def one_page_with_a_long_cursor(request: Received) -> Canned:
    query = parse_qs(urlsplit(request.path).query)
    if "after_cursor" in query:  # the next page is empty: the listing ends
        return Canned(200, json.dumps({"records": [], "cursor": LONG_CURSOR}).encode())
    records = [{"sync_id": "s", "collection_id": "hubspot:company", "upstream_id": "u1"}]
    return Canned(200, json.dumps({"records": records, "cursor": LONG_CURSOR}).encode())


def test_a_cursor_longer_than_500_characters_is_stored_and_resumed_from(
    settings: LazySettings, db: None
) -> None:
    peer = StubServer(one_page_with_a_long_cursor).start()
    try:
        settings.SEQUIN_API_URL = peer.url
        state = collection_refresh(sync_id="s", collection_id="hubspot:company")
        state.refresh_from_db()
        assert state.cursor == LONG_CURSOR
        assert IndexedRecord.objects.filter(upstream_id="u1").exists()
        collection_refresh(sync_id="s", collection_id="hubspot:company")
        resumed = parse_qs(urlsplit(peer.received[-1].path).query)
        assert resumed["after_cursor"] == [LONG_CURSOR]
    finally:
        peer.stop()
