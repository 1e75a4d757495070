"""Issue 8's `/mutations/` row: the history on a journal as big as bulk jobs make it.

How the journal is filled, and why that is the user's path: a journal of a million attempts
is what bulk jobs leave (one attempt per batch), and a job journals each batch through
`journal_start` and `journal_finish`, whose records and changes go through the journal's
bulk writer (`sequin_admin.bulk_rows`). This bench writes what they write, with the same
writer, a job at a time: jobs of `ATTEMPTS_PER_JOB` batches, each job one group (one line of
the history), every attempt answered (succeeded, status 200, Sequin's answer as the body),
its records with what came back and their field changes sent and returned, the columns the
journal leaves at their defaults left so. Three multi-row INSERTs per job instead of eight
statements per attempt: a million attempts in minutes (the journal's own functions manage
40 to 110 attempts/s, hours for a million). No HTTP call: the answer is what the sandbox
gives. The attempts' times spread over the chart's 30 days, oldest first, as jobs run one
after another. The tables are left as the writes leave them: no ANALYZE or VACUUM beyond
what the database does by itself.

One thing differs from a real job: a real batch holds 100 records, here `RECORDS_PER_ATTEMPT`
(a million attempts of 100 records would be 200 million journal rows). The history reads the
attempt rows, their first `SHOWN_RECORDS` records and a count of the rest
(`mutation_page`), so a line costs the same for 2 or 100 records
(tests/mutations/test_lines.py); `?field=` reads the lines by the fields their groups
changed (`group_fields`), not their attempts' records.

Then, interleaved with our first list page (the baseline, `speed`'s collection when it ran,
else filled here as `speed` fills it): `/mutations/` first page, its chart (`/mutations/chart/`,
which the page asks for once drawn), `?field=` and `?user=`, through Django's test
client, each printed as one line `NAME: ours X ms vs BASELINE Y ms = RATIO (target <= 1.5x)
PASS|FAIL`.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from bench import speed
from bench.common import Environment, measure_interleaved, say
from bench.record_pages import _get, _superuser
from bench.speed import ROUNDS, Case, print_cases
from sequin_admin.bulk_rows import rows_insert
from sequin_admin.mutations.models import (
    FieldChange,
    Mutation,
    MutationRecord,
    Outcome,
    Source,
    group_fields_text,
)
from sequin_admin.mutations.selectors import CHART_DAYS
from sequin_admin.records.models import IndexedRecord
from sequin_admin.records.refresh import collection_refresh
from sequin_admin.sequin import MutationRequest

SYNC_ID = "bench-history"
COLLECTION_ID = "salesforce:lead"
# A bulk job of 100 batches: 10,000 records at 100 a batch.
ATTEMPTS_PER_JOB = 100
# A real batch holds 100 records; see the module's docstring for why these hold fewer.
RECORDS_PER_ATTEMPT = 2
# Jobs written per transaction: a commit each (an fsync on PostgreSQL) cost more than the
# rows; the rows are the same whichever transaction wrote them.
JOBS_PER_COMMIT = 10
DURATION_MS = 40
# The columns journal_start and journal_finish set on a job's attempt; the others keep
# their defaults, as they do for a job.
MUTATION_COLUMNS = (
    "created_at",
    "finished_at",
    "duration_ms",
    "user",
    "username",
    "source",
    "kind",
    "sync_id",
    "collection_id",
    "request_body",
    "outcome",
    "response_status",
    "response_body",
    "group_id",
    "latest_of_group",
    "group_fields",
)
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
    title = f"History: {attempts:,} attempts, median of {ROUNDS} interleaved, {env.database}"
    return print_cases(title, history_cases(client), prefix="history")


def journal_fill(attempts: int) -> None:
    """`attempts` journaled attempts, jobs of `ATTEMPTS_PER_JOB` batches, all succeeded,
    written a job at a time by the journal's bulk writer (see the module's docstring)."""
    bench_user = _superuser()
    colleague, _ = get_user_model().objects.get_or_create(username=OTHER_USER)
    now = timezone.now()
    # The jobs ran over the chart's days, oldest first: ids and times grow together.
    first = now - timedelta(days=CHART_DAYS)
    step = (now - first) / max(attempts, 1)
    jobs = -(-attempts // ATTEMPTS_PER_JOB)
    for first_job in range(0, jobs, JOBS_PER_COMMIT):
        with transaction.atomic():
            for job in range(first_job, min(jobs, first_job + JOBS_PER_COMMIT)):
                user = colleague if job % OTHER_USER_EVERY == 1 else bench_user
                end = min(attempts, (job + 1) * ATTEMPTS_PER_JOB)
                _journal_job(
                    range(job * ATTEMPTS_PER_JOB, end),
                    user=user,
                    field=FIELDS[job % len(FIELDS)],
                    group_id=uuid.UUID(int=job + 1),
                    at=lambda position: first + step * position,
                )
        if first_job and first_job % (100_000 // ATTEMPTS_PER_JOB) == 0:
            say(f"history: {first_job * ATTEMPTS_PER_JOB:,} attempts journaled")


def _journal_job(
    positions: range,
    *,
    user: Any,
    field: str,
    group_id: uuid.UUID,
    at: Callable[[int], datetime],
) -> None:
    """One job's batches as `journal_start` and `journal_finish` leave them: the attempt, its
    records and their changes, answered; three multi-row INSERTs for the whole job."""
    batches = [
        [f"00QHIST{position:08d}{n:02d}" for n in range(RECORDS_PER_ATTEMPT)]
        for position in positions
    ]
    fields_of_job = group_fields_text([field])
    rows = []
    for position, upstream_ids in zip(positions, batches, strict=True):
        value = f"v{position % 7}"
        request = MutationRequest(
            kind="update",
            sync_id=SYNC_ID,
            collection_id=COLLECTION_ID,
            records=tuple({"upstream_id": u, "data": {field: value}} for u in upstream_ids),
        )
        answer = {
            "data": [
                {"record": {"upstream_id": u, "data": {field: value}}, "updated_idx": position + 1}
                for u in upstream_ids
            ]
        }
        started = at(position)
        rows.append(
            (
                started,
                started + timedelta(milliseconds=DURATION_MS),
                DURATION_MS,
                user.pk,
                user.get_username(),
                Source.JOB,
                request.kind,
                SYNC_ID,
                COLLECTION_ID,
                request.body(),
                Outcome.SUCCEEDED,
                200,
                json.dumps(answer, indent=2),
                group_id,
                # journal_start marks a job's newest attempt its group's latest, and unmarks
                # the one before it; each holds the fields its group changed so far.
                position == positions[-1],
                fields_of_job,
            )
        )
    mutation_ids = rows_insert(Mutation, MUTATION_COLUMNS, rows)
    record_ids = rows_insert(
        MutationRecord,
        ("mutation", "upstream_id", "before_updated_idx", "returned_updated_idx", "returned_data"),
        [
            (mutation_id, u, position, position + 1, {field: f"v{position % 7}"})
            for mutation_id, position, upstream_ids in zip(
                mutation_ids, positions, batches, strict=True
            )
            for u in upstream_ids
        ],
    )
    owners = [
        position
        for position, upstream_ids in zip(positions, batches, strict=True)
        for _ in upstream_ids
    ]
    rows_insert(
        FieldChange,
        ("record", "field", "before", "had_before", "sent", "returned", "has_returned"),
        [
            (record_id, field, "before", True, f"v{p % 7}", f"v{p % 7}", True)
            for record_id, p in zip(record_ids, owners, strict=True)
        ],
    )


def history_cases(client: Client) -> list[Case]:
    history_url = reverse("mutation_list")
    chart_url = reverse("mutation_chart")
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
                "chart": get(chart_url, headers={"HX-Request": "true"}),
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
        case("/mutations/ its chart (/mutations/chart/, asked for by the page)", "chart"),
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
