"""The speed table of issue 8: one line per case, ours against a baseline measured in this run.

The collection is filled the way a person fills it: records are put into a sandbox that serves
them from its own process (Sequin runs on its own machine: its reading and serializing must
not take turns with the admin's work for one interpreter's lock), and `collection_refresh`
lists them over HTTP into the index, leaving the tables in whatever state that leaves them (no
ANALYZE). Then every page is asked for through Django's test client,
baseline and ours interleaved round after round, and each case prints

    NAME: ours X ms vs BASELINE Y ms = RATIO (target ...) PASS|FAIL

where RATIO is ours / baseline. Cases whose feature the running code does not have yet (the
page ignores `?sort=` or `?f.<field>.eq=`) print SKIP with the reason, never PASS.
"""

from __future__ import annotations

import json
import os
import random
import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.test import Client
from django.test.utils import override_settings
from django.urls import reverse

from bench.common import Environment, measure_interleaved, sandbox_process, say
from bench.record_pages import CREATED, _get, _record, _superuser
from sequin_admin.records.listing import PAGE_SIZE
from sequin_admin.records.models import IndexedRecord
from sequin_admin.records.refresh import collection_refresh
from sequin_admin.sandbox.demo_data import SALESFORCE_SYNC_ID
from sequin_admin.sandbox.ids import record_uuid
from sequin_admin.sandbox.server import SandboxServer
from sequin_admin.sandbox.store import Store
from sequin_admin.sequin import SequinClient

SYNC_ID = SALESFORCE_SYNC_ID
# Not among the sandbox's demo collections, so the index holds the bench's records only.
COLLECTION_ID = "salesforce:lead"
# Above every version the demo data uses: the sandbox's versions are unique.
FIRST_IDX = 10_000_000
SANDBOX_BATCH = 10_000
ROUNDS = 5
DEPTH = 0.9
# The fill and the plain paging take turns in slices of this many seconds, over the same
# records: a neighbour's load falls on both.
FILL_SLICE_SECONDS = 10.0
PAGE_LIMIT = 500
NOTHING = "zzqxjvw"
SORT_FIELD = "LastName"
FILTER_FIELD, FILTER_VALUE = "LeadSource", "Web"
UPSTREAM_ID = re.compile(rb"00QBENCH\d{10}")


@dataclass(frozen=True)
class Case:
    name: str
    ours_ms: float
    baseline_name: str
    baseline_ms: float
    # ours / baseline must be at most this.
    limit: float
    target: str
    skipped: str = ""

    @property
    def ratio(self) -> float:
        return self.ours_ms / self.baseline_ms if self.baseline_ms else float("nan")

    def line(self) -> str:
        head = (
            f"{self.name}: ours {self.ours_ms:,.1f} ms vs {self.baseline_name} "
            f"{self.baseline_ms:,.1f} ms = {self.ratio:.3g}x (target {self.target})"
        )
        if self.skipped:
            return f"{head} SKIP ({self.skipped})"
        return f"{head} {'PASS' if self.ratio <= self.limit else 'FAIL'}"


def run(env: Environment, *, records: int) -> list[str]:
    say(f"speed: putting {records:,} leads into a sandbox of its own...")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="sequin-bench-sandbox-") as tmp:
        db = os.path.join(tmp, "sandbox.sqlite3")
        store = Store(db)
        try:
            store.seed_if_empty()
            store_fill(store, records)
        finally:
            store.close()
        say(f"speed: sandbox filled in {time.perf_counter() - started:.0f} s; filling the index...")
        with sandbox_process(db) as url, override_settings(SEQUIN_API_URL=url):
            fill = fill_case(url, records)
    say(f"speed: {fill.line()}")

    client = Client(raise_request_exception=True)
    client.force_login(_superuser())
    cases = [fill, *page_cases(client, records)]
    title = f"Speed: {records:,} records, median of {ROUNDS} interleaved, {env.database}"
    return print_cases(title, cases, prefix="speed")


def print_cases(title: str, cases: list[Case], *, prefix: str) -> list[str]:
    """The cases' lines under `title`; returned with `prefix` for the run's summary."""
    lines = [case.line() for case in cases]
    print()
    print(f"== {title} ==")
    for line in lines:
        print(line)
    print(flush=True)
    return [f"{prefix}: {line}" for line in lines]


def sandbox_fill(sandbox: SandboxServer, count: int) -> None:
    """`count` lead-like records straight into the sandbox's store, as if synced upstream."""
    store_fill(sandbox.store, count)


def store_fill(store: Store, count: int) -> None:
    """`count` lead-like records straight into a sandbox store, as if synced upstream."""
    sync = store.get_sync(SYNC_ID)
    if sync is None:
        raise RuntimeError("the sandbox has no Salesforce sync")
    rng = random.Random("bench-speed")  # nosec B311 # seeded: the same rows on every run
    with store.locked():
        # The store has no bulk insert; the bench writes its table as the store does, locked.
        conn = store._conn
        conn.execute("DELETE FROM records WHERE collection_id = ?", (COLLECTION_ID,))
        for start in range(0, count, SANDBOX_BATCH):
            rows = []
            for position in range(start, min(count, start + SANDBOX_BATCH)):
                row = _record(COLLECTION_ID, position, rng)
                stamp = (row.upstream_created_at or CREATED).strftime("%Y-%m-%dT%H:%M:%SZ")
                rows.append(
                    (
                        record_uuid(SYNC_ID, COLLECTION_ID, row.upstream_id),
                        SYNC_ID,
                        COLLECTION_ID,
                        sync["provider"],
                        sync["stream_id"],
                        row.upstream_id,
                        FIRST_IDX + position,
                        stamp,
                        stamp,
                        stamp,
                        json.dumps(row.data, separators=(",", ":")),
                        0,
                    )
                )
            conn.execute("BEGIN")
            conn.executemany(
                "INSERT INTO records (id, sync_id, collection_id, provider, stream_id, "
                "upstream_id, updated_idx, upstream_created_at, upstream_updated_at, "
                "created_at, data, deleted) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            conn.execute("COMMIT")


def fill_case(url: str, count: int) -> Case:
    """`collection_refresh` from empty against paging the same records off the API at `url`
    (where the settings point the admin's client too)."""
    IndexedRecord.objects.filter(sync_id=SYNC_ID, collection_id=COLLECTION_ID).delete()
    api = SequinClient(base_url=url, token=settings.SEQUIN_API_TOKEN)
    ours = baseline = 0.0
    cursor: str | None = None
    fetched = 0
    while True:
        before = time.perf_counter()
        state = collection_refresh(
            sync_id=SYNC_ID,
            collection_id=COLLECTION_ID,
            time_budget=FILL_SLICE_SECONDS,
            page_size=PAGE_LIMIT,
        )
        ours += time.perf_counter() - before
        slice_records = state.refresh_fetched - fetched
        fetched = state.refresh_fetched
        before = time.perf_counter()
        paged = 0
        for page in api.iter_record_pages(
            sync_id=SYNC_ID, collection_id=COLLECTION_ID, after_cursor=cursor, limit=PAGE_LIMIT
        ):
            paged += len(page.records)
            cursor = page.cursor
            if paged >= slice_records:
                break
        baseline += time.perf_counter() - before
        if not state.refreshing:
            break
        say(f"speed: {fetched:,} records indexed")
    api.close()
    indexed = IndexedRecord.objects.filter(sync_id=SYNC_ID, collection_id=COLLECTION_ID).count()
    if indexed != count:
        raise RuntimeError(f"the fill indexed {indexed:,} records of {count:,}")
    rate = count / ours if ours else 0.0
    return Case(
        f"fill ({rate:,.0f} records/s)",
        ours * 1000,
        "paging the API",
        baseline * 1000,
        1.3,
        "<= 1.3x",
    )


def page_cases(client: Client, records: int) -> list[Case]:
    admin_url = reverse("admin:records_indexedrecord_changelist")
    view_url = reverse("collection_detail", args=[SYNC_ID, COLLECTION_ID])
    rows = IndexedRecord.objects.filter(
        sync_id=SYNC_ID, collection_id=COLLECTION_ID, deleted=False
    ).order_by("-updated_idx", "-id")
    page_number = max(2, round(records * DEPTH / PAGE_SIZE))
    before = rows[(page_number - 1) * PAGE_SIZE - 1]
    key = f"{before.updated_idx}.{before.pk}"
    middle = rows[records // 2]
    record_url = reverse("record_detail", args=[SYNC_ID, COLLECTION_ID, middle.upstream_id])
    one = middle.upstream_id.lower()

    unsorted_ids = _ids(_get(client, view_url).content)
    sort_missing = _sort_missing(client, view_url, unsorted_ids)
    filter_missing = _filter_missing(client, view_url, unsorted_ids)
    _expect(client, admin_url, {"q": one}, must=middle.upstream_id)
    _expect(client, view_url, {"q": one}, must=middle.upstream_id)
    _expect(
        client, admin_url, {"p": page_number}, must=rows[(page_number - 1) * PAGE_SIZE].upstream_id
    )
    _expect(client, view_url, {"after": key}, must=rows[(page_number - 1) * PAGE_SIZE].upstream_id)

    def get(url: str, **params: Any) -> Callable[[], object]:
        return lambda: _get(client, url, **params)

    say("speed: timing pages...")
    ms = {
        name: timing.ms
        for name, timing in measure_interleaved(
            {
                "view first": get(view_url),
                "admin first": get(admin_url),
                "view deep": get(view_url, after=key),
                "admin deep": get(admin_url, p=page_number),
                "record": get(record_url),
                "sorted": get(view_url, sort=SORT_FIELD),
                "filtered": get(view_url, **{f"f.{FILTER_FIELD}.eq": FILTER_VALUE}),
                "search one": get(view_url, q=one),
                "admin search one": get(admin_url, q=one),
                "search nothing": get(view_url, q=NOTHING),
                "admin search nothing": get(admin_url, q=NOTHING),
            },
            rounds=ROUNDS,
        ).items()
    }
    first, deep = ms["view first"], ms["view deep"]
    return [
        Case(
            "first page", first, "Django admin changelist", ms["admin first"], 0.1, ">= 10x faster"
        ),
        Case(
            f"page {page_number:,} (90% deep)",
            deep,
            "Django admin changelist",
            ms["admin deep"],
            0.1,
            ">= 10x faster",
        ),
        Case("deep page vs first", deep, "our first page", first, 1.5, "<= 1.5x"),
        Case("a record's page", ms["record"], "our first page", first, 1.5, "<= 1.5x"),
        Case(
            f"sorted by {SORT_FIELD}",
            ms["sorted"],
            "our first page",
            first,
            3.0,
            "<= 3x",
            skipped=sort_missing,
        ),
        Case(
            f"filtered {FILTER_FIELD} = {FILTER_VALUE}",
            ms["filtered"],
            "our first page",
            first,
            3.0,
            "<= 3x",
            skipped=filter_missing,
        ),
        Case(
            "search matching one",
            ms["search one"],
            "changelist search",
            ms["admin search one"],
            0.2,
            ">= 5x faster",
        ),
        Case(
            "search matching nothing",
            ms["search nothing"],
            "changelist search",
            ms["admin search nothing"],
            0.2,
            ">= 5x faster",
        ),
    ]


def _ids(content: bytes) -> list[bytes]:
    return list(dict.fromkeys(UPSTREAM_ID.findall(content)))


def _sort_missing(client: Client, view_url: str, unsorted_ids: list[bytes]) -> str:
    sorted_ids = _ids(_get(client, view_url, sort=SORT_FIELD).content)
    if sorted_ids == unsorted_ids:
        return f"not built: the page ignores ?sort={SORT_FIELD}"
    names = dict(
        IndexedRecord.objects.filter(
            sync_id=SYNC_ID, upstream_id__in=[i.decode() for i in sorted_ids]
        ).values_list("upstream_id", f"data__{SORT_FIELD}")
    )
    shown = [names[i.decode()] for i in sorted_ids]
    if shown != sorted(shown):
        return f"the page is not in {SORT_FIELD} order"
    return ""


def _filter_missing(client: Client, view_url: str, unsorted_ids: list[bytes]) -> str:
    params = {f"f.{FILTER_FIELD}.eq": FILTER_VALUE}
    filtered_ids = _ids(_get(client, view_url, **params).content)
    if filtered_ids == unsorted_ids:
        return f"not built: the page ignores ?f.{FILTER_FIELD}.eq="
    values = set(
        IndexedRecord.objects.filter(
            sync_id=SYNC_ID, upstream_id__in=[i.decode() for i in filtered_ids]
        ).values_list(f"data__{FILTER_FIELD}", flat=True)
    )
    if values != {FILTER_VALUE} or len(filtered_ids) < PAGE_SIZE:
        return f"the page shows {FILTER_FIELD} values {sorted(values)}"
    return ""


def _expect(client: Client, url: str, params: dict[str, Any], *, must: str) -> None:
    """Baseline and ours must show the record the case is about, or the timing means nothing."""
    if must.encode() not in _get(client, url, **params).content:
        raise RuntimeError(f"GET {url} {params} does not show {must}")
