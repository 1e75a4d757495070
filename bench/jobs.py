"""A bulk job against a slow upstream, and what its page costs as jobs grow.

Job: 10,000 records updated with 100 ms of sandbox latency on every mutation request. The
records are created through the API and the collection refreshed into the index first (not
timed), as a person's collection is before a bulk edit or a CSV picks its records: the job
reads each record's "before" from the index and its answers replace indexed rows. The ideal
is batches x latency / concurrency (only the waiting, perfectly overlapped); the job, from
`job_start` (its items stored, the task run at once) to its end, must finish within 1.2x of
that, measured in the same run.

Page: the job's page and its progress fragment at 10 and at 10,000 records: the same number
of queries, and about the same time.
"""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings

from bench.common import (
    Environment,
    Row,
    busy_share,
    machine_busy,
    measure_interleaved,
    print_table,
    ratio,
    sandbox_process,
    say,
)
from sequin_admin.edits.jobs import ITEMS_PAGE_SIZE, job_start
from sequin_admin.edits.models import ItemOutcome, Job, JobItem, JobState
from sequin_admin.records.refresh import collection_refresh
from sequin_admin.sandbox.demo_data import DEFAULT_TOKEN, SALESFORCE_SYNC_ID

COLLECTION_ID = "salesforce:contact"
RECORDS = 10_000
LATENCY_MS = 100
CONCURRENCY = 4
LIMIT = 1.2
PAGE_ROUNDS = 30
IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


def run(env: Environment) -> list[str]:
    return [_job_speed(env), _page_cost()]


def _job_speed(env: Environment) -> str:
    cap = settings.SEQUIN_MAX_RECORDS_PER_MUTATION
    batches = -(-RECORDS // cap)
    ideal = batches * LATENCY_MS / 1000 / CONCURRENCY
    with sandbox_process() as url:
        upstream_ids = _new_records(url, RECORDS)
        with override_settings(SEQUIN_API_URL=url):
            # Bulk edit and CSV updates take their records from the index.
            collection_refresh(sync_id=SALESFORCE_SYNC_ID, collection_id=COLLECTION_ID)
        _control(
            url,
            "POST",
            "/_sandbox/faults",
            {"kind": "latency", "count": 0, "latency_ms": LATENCY_MS},
        )
        say(f"jobs: {RECORDS:,} records, {batches} batches of {cap}, {CONCURRENCY} at a time")
        floor = _plain_requests(url, upstream_ids, cap)
        with override_settings(TASKS=IMMEDIATE, JOB_CONCURRENCY=CONCURRENCY, SEQUIN_API_URL=url):
            started, cpu_started = time.perf_counter(), time.process_time()
            busy_before = machine_busy()
            job = job_start(
                user=None,
                sync_id=SALESFORCE_SYNC_ID,
                collection_id=COLLECTION_ID,
                kind="update",
                items=[(upstream_id, {"Title": "Bench job"}) for upstream_id in upstream_ids],
            )
            took = time.perf_counter() - started
            # This process's CPU over all its threads (the sandbox is another process): what
            # the admin's own work costs, whatever the machine's load does to the wall time.
            cpu = time.process_time() - cpu_started
            busy = busy_share(busy_before, machine_busy())
    job.refresh_from_db()
    if (job.state, job.succeeded) != (JobState.DONE, RECORDS):
        raise RuntimeError(f"job #{job.pk} ended {job.state} with {job.succeeded} succeeded")
    verdict = "PASS" if took <= LIMIT * ideal else "FAIL"
    print_table(
        f"Bulk job: {RECORDS:,} updates, {LATENCY_MS} ms sandbox latency per request, "
        f"sandbox in its own process, {env.database}",
        [
            Row("job start to done", "ideal", ideal * 1000, "job", took * 1000),
            Row("job start to done", "plain requests", floor * 1000, "job", took * 1000),
        ],
        notes=[
            f"ideal = {batches} batches x {LATENCY_MS} ms / {CONCURRENCY} at a time",
            f"plain requests: the same {batches} batches posted straight to the sandbox, "
            f"{CONCURRENCY} at a time, nothing journaled or indexed (what the sandbox's own "
            "work, HTTP and this machine's load add to the ideal, in this run)",
            f"admin CPU for the job: {cpu:.2f} s (this process, all threads; "
            f"{cpu / batches * 1000:.1f} ms a batch of {cap}); the ideal's wait is "
            f"{ideal:.2f} s, and the job's threads share one core (the GIL)",
            f"the machine's CPUs were busy {busy} during the job (this process, the "
            "sandbox's and the database server's)",
        ],
    )
    return (
        f"jobs: {RECORDS:,} updates in {took:.2f} s, ideal {ideal:.2f} s, "
        f"{ratio(took, ideal)} (limit {LIMIT}x) {verdict}; plain requests {floor:.2f} s, "
        f"job {ratio(took, floor)} of that; admin CPU {cpu:.2f} s "
        f"({cpu / batches * 1000:.1f} ms a batch); CPUs busy {busy}"
    )


def _plain_requests(url: str, upstream_ids: list[str], cap: int) -> float:
    """Seconds to post the job's batches with nothing around them, CONCURRENCY at a time."""
    chunks = [upstream_ids[start : start + cap] for start in range(0, len(upstream_ids), cap)]

    def post(chunk: list[str]) -> None:
        body = {
            "kind": "update",
            "sync_id": SALESFORCE_SYNC_ID,
            "collection_id": COLLECTION_ID,
            "records": [{"upstream_id": i, "data": {"Title": "Bench plain"}} for i in chunk],
        }
        _control(url, "POST", "/v1/mutations/run", body)

    started = time.perf_counter()
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        list(pool.map(post, chunks))
    return time.perf_counter() - started


def _control(url: str, method: str, path: str, body: object) -> Any:
    response = requests.request(
        method,
        f"{url}{path}",
        json=body,
        headers={"Authorization": f"Bearer {DEFAULT_TOKEN}"},
        timeout=60,
    )
    response.raise_for_status()
    return response.json()


def _new_records(url: str, count: int) -> list[str]:
    """`count` records created in the collection (not timed): the seeded demo holds fewer."""
    made: list[str] = []
    for start in range(0, count, 100):
        body = {
            "kind": "create",
            "sync_id": SALESFORCE_SYNC_ID,
            "collection_id": COLLECTION_ID,
            "records": [
                {"data": {"LastName": f"Bench {n}"}} for n in range(start, min(start + 100, count))
            ],
        }
        answer = _control(url, "POST", "/v1/mutations/run", body)
        made += [r["upstream_id"] for r in answer["records"]]
    return made


def _finished_job(size: int) -> Job:
    job = Job.objects.create(
        sync_id=SALESFORCE_SYNC_ID,
        collection_id=COLLECTION_ID,
        kind="update",
        group_id=uuid.uuid4(),
        state=JobState.DONE,
        total=size,
        sent=size,
        succeeded=size,
    )
    JobItem.objects.bulk_create(
        (
            JobItem(
                job=job,
                position=n,
                upstream_id=f"003{n:012d}",
                data={"Title": "t"},
                outcome=ItemOutcome.SUCCEEDED,
            )
            for n in range(size)
        ),
        batch_size=2000,
    )
    return job


def _page_cost() -> str:
    small, big = _finished_job(10), _finished_job(RECORDS)
    # A superuser: the job pages ask for a role on the job's collection (the access app).
    user, _ = User.objects.get_or_create(
        username="bench-jobs", defaults={"is_superuser": True, "is_staff": True}
    )
    client = Client()
    client.force_login(user)
    fragment = {"HX-Request": "true", "HX-Target": "job-progress"}

    def queries(job: Job, headers: dict[str, str]) -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(job.get_absolute_url(), headers=headers)
        if response.status_code != 200:
            raise RuntimeError(f"job page answered {response.status_code}")
        return len(captured)

    counts = {
        (name, size): queries(job, headers)
        for name, headers in (("page", {}), ("progress", fragment))
        for size, job in ((10, small), (RECORDS, big))
    }
    timings = measure_interleaved(
        {
            "page 10": lambda: client.get(small.get_absolute_url()),
            f"page {RECORDS}": lambda: client.get(big.get_absolute_url()),
            "progress 10": lambda: client.get(small.get_absolute_url(), headers=fragment),
            f"progress {RECORDS}": lambda: client.get(big.get_absolute_url(), headers=fragment),
        },
        rounds=PAGE_ROUNDS,
    )
    ms = {name: t.ms for name, t in timings.items()}
    print_table(
        f"Job page at 10 and {RECORDS:,} records, median of {PAGE_ROUNDS}",
        [
            Row("job page", "10 records", ms["page 10"], f"{RECORDS:,}", ms[f"page {RECORDS}"]),
            Row(
                "progress fragment",
                "10 records",
                ms["progress 10"],
                f"{RECORDS:,}",
                ms[f"progress {RECORDS}"],
            ),
        ],
        notes=[
            f"queries (view, size): {counts}",
            f"the job page lists one page of results: 10 rows at 10 records, "
            f"{min(ITEMS_PAGE_SIZE, RECORDS)} at {RECORDS:,} (the rows are what its time adds)",
        ],
    )
    same = all(counts[(name, 10)] == counts[(name, RECORDS)] for name in ("page", "progress"))
    return (
        f"jobs page: {counts[('page', 10)]} queries at 10 and {counts[('page', RECORDS)]} at "
        f"{RECORDS:,}, {ratio(ms[f'page {RECORDS}'], ms['page 10'])} the time; progress "
        f"{ratio(ms[f'progress {RECORDS}'], ms['progress 10'])} {'PASS' if same else 'FAIL'}"
    )
