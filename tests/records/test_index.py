"""The record index: incremental, resumable refresh; keyset pages; search."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sequin_admin.records import index
from sequin_admin.records.index import (
    Reference,
    index_picklists,
    index_references,
    index_upsert,
)
from sequin_admin.records.listing import index_page
from sequin_admin.records.models import IndexedCollection, IndexedRecord
from sequin_admin.records.refresh import collection_refresh
from sequin_admin.sandbox.demo_data import HUBSPOT_SYNC_ID, STRIPE_SYNC_ID
from sequin_admin.sandbox.server import SandboxServer
from sequin_admin.sequin import Record

pytestmark = pytest.mark.django_db
COMPANIES = "hubspot:company"


def refresh(**kwargs: Any) -> IndexedCollection:
    return collection_refresh(sync_id=HUBSPOT_SYNC_ID, collection_id=COMPANIES, **kwargs)


def test_first_refresh_lists_the_whole_collection(sandbox: SandboxServer) -> None:
    state = refresh()
    expected = sandbox.store.count_records(COMPANIES)
    assert state.record_count + state.deleted_count == expected
    assert IndexedRecord.objects.filter(collection_id=COMPANIES).count() == expected
    assert state.cursor
    assert state.last_refreshed_at is not None
    assert not state.refreshing


def test_second_refresh_fetches_only_what_changed(sandbox: SandboxServer) -> None:
    refresh()
    changed = sandbox.store.any_record(COMPANIES)
    sandbox.store.write_as_upstream(
        HUBSPOT_SYNC_ID, COMPANIES, changed["upstream_id"], {"city": "Reykjavik"}
    )
    state = refresh()
    assert state.refresh_fetched == 1
    row = IndexedRecord.objects.get(upstream_id=changed["upstream_id"])
    assert row.data["city"] == "Reykjavik"
    assert "reykjavik" in row.search_text


def test_refresh_in_slices_resumes_from_the_stored_cursor(sandbox: SandboxServer) -> None:
    state = refresh(time_budget=0.0, page_size=100)
    assert state.refreshing
    first_slice = IndexedRecord.objects.count()
    assert 0 < first_slice < sandbox.store.count_records(COMPANIES)
    while state.refreshing:
        state = refresh(time_budget=0.0, page_size=100)
    assert IndexedRecord.objects.count() == sandbox.store.count_records(COMPANIES)


def test_an_older_version_never_replaces_a_newer_one() -> None:
    def record(idx: int, name: str) -> Record:
        return Record(
            sync_id="s",
            collection_id="c",
            upstream_id="1",
            data={"name": name},
            deleted=False,
            updated_idx=idx,
            upstream_created_at=None,
            upstream_updated_at=None,
        )

    index_upsert(records=[record(10, "new")])
    index_upsert(records=[record(9, "old")])
    assert IndexedRecord.objects.get().data == {"name": "new"}


MOMENTS = [
    datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC),  # no microseconds: none written
    datetime(2024, 5, 6, 7, 8, 9, 120, tzinfo=UTC),
    datetime(1969, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),  # before the epoch
    datetime(2024, 1, 1, 2, 30, tzinfo=timezone(timedelta(hours=5, minutes=30))),  # 2023 in UTC
    datetime(2024, 7, 1, 22, 15, 0, 5, tzinfo=ZoneInfo("America/New_York")),  # summer time
]


@pytest.mark.parametrize("moment", MOMENTS, ids=str)
def test_upserted_datetimes_are_stored_as_django_stores_them(moment: datetime) -> None:
    if connection.vendor == "sqlite":
        # The path under test: index_upsert's own formatting, not Django's adapter.
        assert index._datetime_adapter() is index._sqlite_utc_text
    later = moment + timedelta(days=1, microseconds=1)
    key = {"sync_id": "s", "collection_id": "c"}
    index_upsert(
        records=[
            Record(
                **key,
                upstream_id="by-upsert",
                data={},
                deleted=False,
                updated_idx=1,
                upstream_created_at=moment,
                upstream_updated_at=later,
            )
        ]
    )
    IndexedRecord.objects.create(
        **key, upstream_id="by-orm", upstream_created_at=moment, upstream_updated_at=later
    )
    with connection.cursor() as cursor:
        # As text: SQLite's driver would parse the stored text back into equal datetimes.
        cursor.execute(
            "SELECT CAST(upstream_created_at AS TEXT), CAST(upstream_updated_at AS TEXT) "
            "FROM records_indexedrecord ORDER BY upstream_id"
        )
        by_orm, by_upsert = cursor.fetchall()
    assert by_upsert == by_orm
    assert IndexedRecord.objects.get(upstream_id="by-upsert").upstream_created_at == moment


def test_keyset_pages_walk_every_record_once_newest_first(
    sandbox: SandboxServer,
) -> None:
    refresh()
    seen: list[int] = []
    after = None
    while True:
        page = index_page(sync_id=HUBSPOT_SYNC_ID, collection_id=COMPANIES, after=after, limit=100)
        seen.extend(r.updated_idx for r in page.rows)
        if not page.next_key:
            break
        after = page.next_key
    assert len(seen) == IndexedRecord.objects.filter(deleted=False).count()
    assert seen == sorted(seen, reverse=True)


def test_previous_page_returns_to_the_same_rows(sandbox: SandboxServer) -> None:
    refresh()
    first = index_page(sync_id=HUBSPOT_SYNC_ID, collection_id=COMPANIES, limit=20)
    second = index_page(
        sync_id=HUBSPOT_SYNC_ID, collection_id=COMPANIES, after=first.next_key, limit=20
    )
    back = index_page(
        sync_id=HUBSPOT_SYNC_ID, collection_id=COMPANIES, before=second.previous_key, limit=20
    )
    assert [r.pk for r in back.rows] == [r.pk for r in first.rows]


def test_a_page_runs_no_count(sandbox: SandboxServer) -> None:
    refresh()
    with CaptureQueriesContext(connection) as queries:
        index_page(sync_id=HUBSPOT_SYNC_ID, collection_id=COMPANIES, q="a")
    assert len(queries) == 1
    assert "COUNT(" not in queries[0]["sql"].upper()


def test_search_matches_every_term_in_any_value(sandbox: SandboxServer) -> None:
    refresh()
    target = IndexedRecord.objects.filter(collection_id=COMPANIES).order_by("pk")[7]
    name = target.data["name"]
    page = index_page(sync_id=HUBSPOT_SYNC_ID, collection_id=COMPANIES, q=name.upper())
    assert target.pk in [r.pk for r in page.rows]
    assert all(name.lower() in r.search_text for r in page.rows)
    nothing = index_page(sync_id=HUBSPOT_SYNC_ID, collection_id=COMPANIES, q="zzzqqq-none")
    assert nothing.rows == []


def test_refresh_records_command(sandbox: SandboxServer) -> None:
    call_command("refresh_records", "--sync", STRIPE_SYNC_ID, "--as-system")
    state = IndexedCollection.objects.get(sync_id=STRIPE_SYNC_ID, collection_id="stripe:customer")
    assert state.record_count + state.deleted_count == sandbox.store.count_records(
        "stripe:customer"
    )


@pytest.mark.django_db
def test_references_found_in_the_index_with_their_titles_in_one_query() -> None:
    IndexedRecord.objects.bulk_create(
        [
            IndexedRecord(
                sync_id="h",
                collection_id="hubspot:company",
                upstream_id="77",
                data={"name": "Acme"},
            ),
            IndexedRecord(
                sync_id="other", collection_id="hubspot:company", upstream_id="78", data={}
            ),
        ]
    )
    data = {
        "properties": {"associatedcompanyid": "77", "firstname": "Ada"},
        "associatedcompanyid": 78,  # indexed only under another sync
        "email": "ada@acme.io",
    }
    with CaptureQueriesContext(connection) as queries:
        found = index_references(sync_id="h", collection_id="hubspot:contact", data=data)
    assert len(queries.captured_queries) == 1
    assert found == {
        "properties": [
            Reference(
                path="properties.associatedcompanyid",
                sync_id="h",
                collection_id="hubspot:company",
                upstream_id="77",
                title="Acme",
            )
        ]
    }


@pytest.mark.django_db
def test_picklists_come_from_a_sample_of_the_newest_records_and_are_cached() -> None:
    cache.clear()
    IndexedRecord.objects.bulk_create(
        IndexedRecord(
            sync_id="s",
            collection_id="salesforce:lead",
            upstream_id=f"l{i}",
            updated_idx=i,
            data={"Status": "Closed" if i % 3 == 0 else "Open", "Email": f"p{i}@x.io"},
        )
        for i in range(40)
    )
    found = index_picklists(sync_id="s", collection_id="salesforce:lead")
    assert found == {"Status": ["Open", "Closed"]}
    with CaptureQueriesContext(connection) as queries:
        assert index_picklists(sync_id="s", collection_id="salesforce:lead") == found
    assert not queries.captured_queries
