"""Deep pages of a collection cost what the first page costs.

Ours: `index_page`, keyset paging on (updated_idx, id), and the collection view built on it.
Baselines: Django's Paginator over the same queryset in the same order (OFFSET paging plus
COUNT(*)), and the stock Django admin changelist of IndexedRecord (records/admin.py).
"""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.db import connection, transaction
from django.http import HttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from bench.common import Environment, Row, measure_interleaved, print_table, ratio, say
from sequin_admin.records.index import search_text_for
from sequin_admin.records.listing import PAGE_SIZE, index_page
from sequin_admin.records.models import IndexedCollection, IndexedRecord
from sequin_admin.sandbox.demo_words import (
    COMPANY_WORDS,
    FIRST_NAMES,
    LAST_NAMES,
    LEAD_SOURCES,
    PLACES,
    TITLES,
    TLDS,
)

DEFAULT_RECORDS = 300_000
# A sync id no real Sequin uses, so refilling never touches records of a real sync.
SYNC_ID = "bench-sync"
COLLECTION_ID = "salesforce:contact"
BATCH = 5_000
DEPTH = 0.9
ROUNDS = 5
# A second, small collection: the first page of a keyset index should cost the same there.
SMALL_COLLECTION_ID = "salesforce:lead"
SMALL_RECORDS = 1_000
# The small collection's versions (1 to SMALL_RECORDS) sit below the big one's: the stock
# admin lists every collection together, and its page n must hold the same rows as ours.
FIRST_IDX = 10_000
CREATED = datetime(2019, 3, 1, tzinfo=UTC)


def run(env: Environment, *, records: int) -> list[str]:
    say(f"record_pages: filling {records:,} records...")
    started = time.perf_counter()
    # The stock changelist lists every collection of the index: what an earlier benchmark of
    # this run indexed (speed's leads, with higher versions) would fill its pages instead.
    IndexedRecord.objects.exclude(sync_id=SYNC_ID).delete()
    fill(COLLECTION_ID, records)
    fill(SMALL_COLLECTION_ID, SMALL_RECORDS)
    analyze()
    say(f"record_pages: filled in {time.perf_counter() - started:.1f} s")

    rows = IndexedRecord.objects.filter(
        sync_id=SYNC_ID, collection_id=COLLECTION_ID, deleted=False
    ).order_by("-updated_idx", "-id")
    # Page n starts right after the last row of page n - 1: that row's key asks index_page for
    # exactly the rows Paginator.page(n) holds. Fetched once, outside the timing.
    page_number = max(2, round(records * DEPTH / PAGE_SIZE))
    before = rows[(page_number - 1) * PAGE_SIZE - 1]
    key = f"{before.updated_idx}.{before.pk}"
    _check_same_rows(rows, page_number, key)

    client = Client(raise_request_exception=True)
    client.force_login(_superuser())
    admin_url = reverse("admin:records_indexedrecord_changelist")
    view_url = reverse("collection_detail", args=[SYNC_ID, COLLECTION_ID])
    _check_pages_show(client, admin_url, view_url, rows, page_number, key)

    timings = measure_interleaved(
        {
            "ours first": lambda: index_page(sync_id=SYNC_ID, collection_id=COLLECTION_ID),
            "ours small": lambda: index_page(sync_id=SYNC_ID, collection_id=SMALL_COLLECTION_ID),
            "ours deep": lambda: index_page(
                sync_id=SYNC_ID, collection_id=COLLECTION_ID, after=key
            ),
            # A fresh Paginator each time: it caches its count.
            "paginator first": lambda: list(Paginator(rows, PAGE_SIZE).page(1)),
            "paginator deep": lambda: list(Paginator(rows, PAGE_SIZE).page(page_number)),
            "admin first": lambda: _get(client, admin_url),
            "admin deep": lambda: _get(client, admin_url, p=page_number),
            "view first": lambda: _get(client, view_url),
            "view deep": lambda: _get(client, view_url, after=key),
        },
        rounds=ROUNDS,
    )
    ms = {name: timing.ms for name, timing in timings.items()}
    depth = f"page {page_number:,} ({DEPTH:.0%} down)"
    table = [
        Row(
            "first page, query",
            "Paginator.page(1)",
            ms["paginator first"],
            "index_page",
            ms["ours first"],
        ),
        Row(
            f"{depth}, query",
            f"Paginator.page({page_number})",
            ms["paginator deep"],
            "index_page(after=)",
            ms["ours deep"],
        ),
        Row("first page, HTTP", "Django admin", ms["admin first"], "our view", ms["view first"]),
        Row(
            f"{depth}, HTTP",
            f"Django admin ?p={page_number}",
            ms["admin deep"],
            "our view ?after=",
            ms["view deep"],
        ),
    ]
    ours_growth = ratio(ms["ours deep"], ms["ours first"])
    paginator_growth = ratio(ms["paginator deep"], ms["paginator first"])
    view_growth = ratio(ms["view deep"], ms["view first"])
    admin_growth = ratio(ms["admin deep"], ms["admin first"])
    admin_vs_view = ratio(ms["admin deep"], ms["view deep"])
    print_table(
        f"Record pages: {records:,} records in one collection, {PAGE_SIZE} a page, "
        f"median of {ROUNDS}, {env.database}",
        table,
        notes=[
            f"deep/first, query: index_page {ours_growth}, Paginator {paginator_growth}",
            f"deep/first, HTTP:  our view {view_growth}, Django admin {admin_growth}",
            f"Django admin deep page / our view deep page: {admin_vs_view}",
            f"index_page first page, {records:,} / {SMALL_RECORDS:,} records: "
            f"{ratio(ms['ours first'], ms['ours small'])} ({ms['ours small']:.2f} ms on the small "
            "collection; near 1 when the index serves the order)",
            f"index_page plan: {_plan(key)}",
        ],
    )
    return [
        f"record_pages: deep/first {ours_growth} for index_page vs {paginator_growth} "
        f"for Paginator; Django admin deep page = {admin_vs_view} our view's"
    ]


def fill(collection_id: str, count: int) -> None:
    """`count` contact-like records with distinct, increasing versions, in one transaction."""
    IndexedRecord.objects.filter(sync_id=SYNC_ID, collection_id=collection_id).delete()
    rng = random.Random(f"bench-record-pages {collection_id}")  # nosec B311  # reproducible rows
    with transaction.atomic():
        for start in range(0, count, BATCH):
            IndexedRecord.objects.bulk_create(
                [
                    _record(collection_id, position, rng)
                    for position in range(start, min(count, start + BATCH))
                ],
                batch_size=BATCH,
            )
    # Marked as listed, so the view shows the index and never calls Sequin to fill it.
    IndexedCollection.objects.update_or_create(
        sync_id=SYNC_ID,
        collection_id=collection_id,
        defaults={"record_count": count, "last_refreshed_at": timezone.now(), "cursor": ""},
    )


def analyze() -> None:
    """Table statistics, as a database that has lived with its data would have: the query
    planner chooses differently on a table it believes empty."""
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {IndexedRecord._meta.db_table}")


def _plan(key: str) -> str:
    """How the database runs index_page's deep query: an index range scan, or a sort of the
    whole collection (what makes a first page cost more as the collection grows)."""
    with CaptureQueriesContext(connection) as queries:
        index_page(sync_id=SYNC_ID, collection_id=COLLECTION_ID, after=key)
    sql = queries.captured_queries[-1]["sql"]
    explain = "EXPLAIN QUERY PLAN" if connection.vendor == "sqlite" else "EXPLAIN"
    with connection.cursor() as cursor:
        cursor.execute(f"{explain} {sql}")
        return "; ".join(str(row[-1]).strip() for row in cursor.fetchall())


def _record(collection_id: str, position: int, rng: random.Random) -> IndexedRecord:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    company = rng.choice(COMPANY_WORDS)
    place = rng.choice(PLACES)
    prefix = "00Q" if collection_id == SMALL_COLLECTION_ID else "003"
    upstream_id = f"{prefix}BENCH{position:010d}"  # 18 characters, like a Salesforce id
    created = CREATED + timedelta(minutes=7 * position)
    updated = created + timedelta(days=rng.randrange(400))
    data: dict[str, Any] = {
        "Id": upstream_id,
        "FirstName": first,
        "LastName": last,
        "Email": f"{first}.{last}@{company.replace(' ', '')}{rng.choice(TLDS)}".lower(),
        "Phone": f"{place[5]} 555 {rng.randrange(10_000):04d}",
        "Title": rng.choice(TITLES),
        "LeadSource": rng.choice(LEAD_SOURCES),
        "MailingCity": place[0],
        "HasOptedOutOfEmail": rng.random() < 0.1,
        "Description": None,
        "CreatedDate": created.strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
        "LastModifiedDate": updated.strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
    }
    return IndexedRecord(
        sync_id=SYNC_ID,
        collection_id=collection_id,
        upstream_id=upstream_id,
        data=data,
        deleted=False,
        updated_idx=(1 if collection_id == SMALL_COLLECTION_ID else FIRST_IDX) + position,
        upstream_created_at=created,
        upstream_updated_at=updated,
        search_text=search_text_for(upstream_id, data),
    )


def _check_same_rows(rows: Any, page_number: int, key: str) -> None:
    """Baseline and ours must return the very same page, or the comparison means nothing."""
    ours = [r.pk for r in index_page(sync_id=SYNC_ID, collection_id=COLLECTION_ID, after=key).rows]
    theirs = [r.pk for r in Paginator(rows, PAGE_SIZE).page(page_number)]
    if ours != theirs:
        raise RuntimeError(f"index_page and Paginator disagree on page {page_number}")


def _check_pages_show(
    client: Client, admin_url: str, view_url: str, rows: Any, page_number: int, key: str
) -> None:
    first_row = rows[(page_number - 1) * PAGE_SIZE]
    for response in (_get(client, admin_url, p=page_number), _get(client, view_url, after=key)):
        if first_row.upstream_id.encode() not in response.content:
            raise RuntimeError(f"{response.wsgi_request.get_full_path()} misses the page's rows")


def _get(client: Client, url: str, **params: Any) -> HttpResponse:
    response = client.get(url, params)
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} {params} answered {response.status_code}")
    return response


def _superuser() -> Any:
    user, created = get_user_model().objects.get_or_create(
        username="bench", defaults={"is_staff": True, "is_superuser": True}
    )
    if created:
        # No password: force_login needs none, and hashing one is not what is measured.
        user.set_unusable_password()
        user.save()
    return user
