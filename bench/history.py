"""Issue 8's `/mutations/` row: the history on a journal as big as bulk jobs make it.

The journal is filled the way a bulk job fills it: attempts in groups (one group per job, its
batches), each written by `journal_start` and completed by `journal_finish`, the journal's own
functions, with the answer Sequin gives. The documented faster path: no HTTP call between the
two (the answer is made here, as the sandbox would give it), `ATTEMPTS_PER_COMMIT` attempts to
a transaction, and one record of one field per attempt (a real batch holds up to 100 records;
the history's list, chart and filters read the attempt rows, and the field filter joins the
records and their changes, so those joined tables are one row per attempt here). No SQL of
its own: every row is the journal's.

Then, interleaved with our first list page (the baseline, `speed`'s collection when it ran,
else the demo data's): `/mutations/` first page, its chart (the results fragment htmx asks
for, which holds the chart), `?field=` and `?user=`, through Django's test client, each
printed as one line `NAME: ours X ms vs BASELINE Y ms = RATIO (target <= 1.5x) PASS|FAIL`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import Client
from django.urls import reverse

from bench import speed
from bench.common import Environment, measure_interleaved, say
from bench.record_pages import _get, _superuser
from bench.speed import ROUNDS, Case
from sequin_admin.mutations.journal import Seen, journal_finish, journal_start
from sequin_admin.mutations.models import Mutation, Source
from sequin_admin.records.models import IndexedRecord
from sequin_admin.records.refresh import collection_refresh
from sequin_admin.sequin import MutationRequest, MutationResult
from sequin_admin.sequin.types import Record

SYNC_ID = "bench-history"
COLLECTION_ID = "salesforce:lead"
# A bulk job of 100 batches: 10,000 records at 100 a batch.
ATTEMPTS_PER_JOB = 100
ATTEMPTS_PER_COMMIT = 1_000
# The fields the jobs change, in turn; the `?field=` case asks for the rarest.
FIELDS = ("Status", "Rating", "LeadSource", "Industry", "Title")
RARE_FIELD = "Title"
# One job in this many is someone else's: the `?user=` case asks for them.
OTHER_USER_EVERY = 20
OTHER_USER = "bench-colleague"


def run(env: Environment, *, attempts: int, records: int) -> list[str]:
    index_ready(env, records=records)
    say(f"history: journaling {attempts:,} attempts as bulk jobs do...")
    started = time.perf_counter()
    journal_fill(attempts)
    elapsed = time.perf_counter() - started
    say(f"history: journaled in {elapsed:.0f} s ({attempts / elapsed:,.0f} attempts/s)")
    client = Client(raise_request_exception=True)
    client.force_login(_superuser())
    cases = history_cases(client)
    lines = [case.line() for case in cases]
    print()
    print(f"== History: {attempts:,} attempts, median of {ROUNDS} interleaved, {env.database} ==")
    for line in lines:
        print(line)
    print(flush=True)
    return [f"history: {line}" for line in lines]


def journal_fill(attempts: int) -> None:
    """`attempts` journaled attempts, jobs of `ATTEMPTS_PER_JOB` batches, all succeeded."""
    bench_user = _superuser()
    colleague, _ = get_user_model().objects.get_or_create(username=OTHER_USER)
    for start in range(0, attempts, ATTEMPTS_PER_COMMIT):
        with transaction.atomic():
            for position in range(start, min(attempts, start + ATTEMPTS_PER_COMMIT)):
                job = position // ATTEMPTS_PER_JOB
                _journal_batch(
                    position,
                    user=colleague if job % OTHER_USER_EVERY == 1 else bench_user,
                    field=FIELDS[job % len(FIELDS)],
                    group_id=uuid.UUID(int=job + 1),
                )
        if start and start % 100_000 == 0:
            say(f"history: {start:,} attempts journaled")


def _journal_batch(position: int, *, user: Any, field: str, group_id: uuid.UUID) -> Mutation:
    upstream_id = f"00QHIST{position:010d}"
    request = MutationRequest(
        kind="update",
        sync_id=SYNC_ID,
        collection_id=COLLECTION_ID,
        records=({"upstream_id": upstream_id, "data": {field: f"v{position % 7}"}},),
    )
    mutation = journal_start(
        request=request,
        user=user,
        source=Source.JOB,
        seen={upstream_id: Seen(data={field: "before"}, updated_idx=position)},
        group_id=group_id,
    )
    returned = Record(
        sync_id=SYNC_ID,
        collection_id=COLLECTION_ID,
        upstream_id=upstream_id,
        data={field: f"v{position % 7}"},
        deleted=False,
        updated_idx=position + 1,
        upstream_created_at=None,
        upstream_updated_at=None,
    )
    result = MutationResult(records=(returned,), status=200, body={"data": []})
    return journal_finish(mutation=mutation, duration_ms=40, result=result)


def history_cases(client: Client) -> list[Case]:
    history_url = reverse("mutation_list")
    baseline_url, baseline_name = _first_list_page()
    newest = Mutation.objects.order_by("-id").values_list("id", flat=True).first()
    # Every case must show what it is about, or its time means nothing.
    _expect(client, history_url, {}, must=f"/mutations/{newest}/")
    rare = Mutation.objects.filter(records__changes__field=RARE_FIELD).order_by("-id").first()
    theirs = Mutation.objects.filter(username=OTHER_USER).order_by("-id").first()
    if rare is None or theirs is None:
        raise RuntimeError("the journal has no attempt for the field or the user cases")
    _expect(client, history_url, {"field": RARE_FIELD}, must=f"/mutations/{rare.pk}/")
    _expect(client, history_url, {"user": OTHER_USER}, must=f"/mutations/{theirs.pk}/")

    def get(url: str, headers: dict[str, str] | None = None, **params: Any) -> Callable[[], Any]:
        def fetch() -> Any:
            response = client.get(url, params, headers=headers or {})
            if response.status_code != 200:
                raise RuntimeError(f"GET {url} {params} answered {response.status_code}")
            return response

        return fetch

    say("history: timing pages...")
    ms = {
        name: timing.ms
        for name, timing in measure_interleaved(
            {
                "list first": get(baseline_url),
                "history first": get(history_url),
                "chart": get(history_url, headers={"HX-Request": "true"}),
                "field": get(history_url, field=RARE_FIELD),
                "user": get(history_url, user=OTHER_USER),
            },
            rounds=ROUNDS,
        ).items()
    }
    first = ms["list first"]

    def case(name: str, key: str) -> Case:
        return Case(name, ms[key], baseline_name, first, 1.5, "<= 1.5x")

    return [
        case("/mutations/ first page", "history first"),
        case("/mutations/ its chart (results fragment)", "chart"),
        case(f"/mutations/ ?field={RARE_FIELD}", "field"),
        case(f"/mutations/ ?user={OTHER_USER}", "user"),
    ]


def index_ready(env: Environment, *, records: int) -> None:
    """`speed`'s collection in the index, filled as `speed` fills it, unless it ran before."""
    if _speed_rows().exists():
        return
    say(f"history: indexing {records:,} leads for the baseline, as speed does...")
    speed.sandbox_fill(env.sandbox, records)
    while collection_refresh(
        sync_id=speed.SYNC_ID,
        collection_id=speed.COLLECTION_ID,
        time_budget=speed.FILL_SLICE_SECONDS,
        page_size=speed.PAGE_LIMIT,
    ).refreshing:
        pass


def _speed_rows() -> Any:
    return IndexedRecord.objects.filter(
        sync_id=speed.SYNC_ID, collection_id=speed.COLLECTION_ID, deleted=False
    )


def _first_list_page() -> tuple[str, str]:
    """Our first list page, of `speed`'s collection."""
    url = reverse("collection_detail", args=[speed.SYNC_ID, speed.COLLECTION_ID])
    return url, f"our first list page ({_speed_rows().count():,} records)"


def _expect(client: Client, url: str, params: dict[str, Any], *, must: str) -> None:
    if must.encode() not in _get(client, url, **params).content:
        raise RuntimeError(f"GET {url} {params} does not show {must}")
