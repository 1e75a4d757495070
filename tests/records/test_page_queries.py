"""The list, record and history pages ask the database the same number of questions whatever
the size of the index or the journal and whichever page is shown (two sizes, counted)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from sequin_admin.mutations.models import Mutation, Outcome
from sequin_admin.records.index import index_upsert
from sequin_admin.records.listing import PAGE_SIZE, index_page
from sequin_admin.records.models import IndexedCollection
from sequin_admin.sequin import Record

pytestmark = pytest.mark.django_db
SYNC = "sync-queries"
COLLECTION = "salesforce:lead"
SIZES = (PAGE_SIZE * 2 + 7, PAGE_SIZE * 6 + 3)


def fill_index(count: int) -> None:
    index_upsert(
        records=[
            Record(
                sync_id=SYNC,
                collection_id=COLLECTION,
                upstream_id=f"L{n:05d}",
                data={"Name": f"Lead {n}", "LeadSource": "Web"},
                deleted=False,
                updated_idx=n + 1,
                upstream_created_at=None,
                upstream_updated_at=None,
            )
            for n in range(count)
        ]
    )
    # Listed already: the page reads the index and never calls Sequin to fill it.
    IndexedCollection.objects.update_or_create(
        sync_id=SYNC,
        collection_id=COLLECTION,
        defaults={"record_count": count, "last_refreshed_at": timezone.now()},
    )


def fill_journal(count: int, user: User) -> None:
    """Journal rows as the journal writes them, without a call to Sequin each."""
    Mutation.objects.bulk_create(
        Mutation(
            user=user,
            username=user.username,
            kind="update",
            sync_id=SYNC,
            collection_id=COLLECTION,
            request_body={"records": [{"upstream_id": f"L{n:05d}", "data": {"Name": "x"}}]},
            outcome=Outcome.SUCCEEDED,
        )
        for n in range(count)
    )


def queries_for(fetch: Callable[[], object]) -> int:
    with CaptureQueriesContext(connection) as queries:
        fetch()
    return len(queries)


def deep_key(count: int) -> str:
    key = None
    for _ in range(count // PAGE_SIZE - 1):
        key = index_page(sync_id=SYNC, collection_id=COLLECTION, after=key).next_key
    assert key is not None
    return key


def get(client: Client, url: str, **params: str) -> Callable[[], object]:
    def fetch() -> object:
        response = client.get(url, params)
        assert response.status_code == 200
        return response

    return fetch


def test_the_list_page_asks_the_same_whatever_the_size_and_depth(signed_in: Client) -> None:
    url = reverse("collection_detail", args=[SYNC, COLLECTION])
    counts = []
    for size in SIZES:
        fill_index(size)
        # Whether the database has a text index is asked once per process, before counting.
        get(signed_in, url, q="lead")()
        counts.append(
            (
                queries_for(get(signed_in, url)),
                queries_for(get(signed_in, url, after=deep_key(size))),
                # A term matching more than a page at both sizes: the count is asked for at both.
                queries_for(get(signed_in, url, q="lead")),
            )
        )
    assert counts[0] == counts[1]
    first, deep, _ = counts[0]
    assert first == deep


def test_the_record_page_asks_the_same_whatever_the_size(signed_in: Client) -> None:
    counts = []
    for size in SIZES:
        fill_index(size)
        url = reverse("record_detail", args=[SYNC, COLLECTION, f"L{size // 2:05d}"])
        # Cold (the picklists' sample is read) and warm (it comes from the cache): the first
        # view after a fill must not be counted against a warm one.
        cache.clear()
        counts.append((queries_for(get(signed_in, url)), queries_for(get(signed_in, url))))
    assert counts[0] == counts[1]
    cold, warm = counts[0]
    assert warm == cold - 1


def test_the_record_page_reads_its_record_and_its_collection_once_each(
    signed_in: Client,
) -> None:
    fill_index(SIZES[0])
    fetch = get(signed_in, reverse("record_detail", args=[SYNC, COLLECTION, "L00003"]))
    fetch()  # the first view samples the collection for its picklists, then caches them
    with CaptureQueriesContext(connection) as queries:
        fetch()
    tables = [q["sql"].split(" FROM ", 1)[-1].split(" ", 1)[0] for q in queries]
    assert tables.count('"records_indexedrecord"') == 1, tables
    assert tables.count('"records_indexedcollection"') == 1, tables


def test_the_history_page_asks_the_same_whatever_the_size_and_depth(
    signed_in: Client, user: User
) -> None:
    url = reverse("mutation_list")
    counts = []
    for size in SIZES:
        fill_journal(size - Mutation.objects.count(), user)
        deep = Mutation.objects.order_by("-pk").values_list("pk", flat=True)[size - PAGE_SIZE]
        counts.append(
            (
                queries_for(get(signed_in, url)),
                queries_for(get(signed_in, url, after=str(deep))),
                queries_for(get(signed_in, url, user=user.username)),
            )
        )
    assert counts[0] == counts[1]
