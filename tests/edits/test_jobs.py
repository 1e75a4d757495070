"""The job engine against the real sandbox over HTTP: batching, refusals judged record by
record, 429 backoff, cancel, retry of the failures, a run that finds batches in flight."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import LazySettings
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sequin_admin.edits import jobs
from sequin_admin.edits.jobs import (
    job_cancel,
    job_progress,
    job_retry_failures,
    job_run,
    job_start,
)
from sequin_admin.edits.models import ItemOutcome, Job, JobItem, JobState
from sequin_admin.mutations.journal import journal_start
from sequin_admin.mutations.models import Mutation, Outcome, Reconciliation, Source
from sequin_admin.records.models import IndexedRecord
from sequin_admin.sandbox.demo_data import SALESFORCE_SYNC_ID
from sequin_admin.sandbox.faults import Fault
from sequin_admin.sandbox.server import SandboxServer
from sequin_admin.sequin import MutationRequest, SequinClient
from tests.helpers import plan_of

CONTACTS = "salesforce:contact"
IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
QUEUED_ONLY = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _jobs_run_at_once(settings: LazySettings) -> None:
    """The task runs inside `job_start`; its batch threads see the committed rows."""
    settings.TASKS = IMMEDIATE
    settings.SEQUIN_MAX_RECORDS_PER_MUTATION = 10
    settings.JOB_CONCURRENCY = 1  # batch threads would contend for the in-memory test database


@pytest.fixture
def contacts(indexed: Callable[..., IndexedRecord]) -> list[IndexedRecord]:
    indexed(CONTACTS)
    return list(
        IndexedRecord.objects.filter(collection_id=CONTACTS, deleted=False).order_by("upstream_id")
    )


def upstream_title(sandbox: SandboxServer, upstream_id: str) -> str | None:
    record = sandbox.store.get_record(SALESFORCE_SYNC_ID, CONTACTS, upstream_id)
    assert record is not None
    return record["data"]["Title"]


def start(user: User | None, items: list[tuple[str | None, dict]], kind: str = "update") -> Job:
    job = job_start(
        user=user, sync_id=SALESFORCE_SYNC_ID, collection_id=CONTACTS, kind=kind, items=items
    )
    job.refresh_from_db()
    return job


def outcomes(job: Job) -> list[str]:
    return list(job.items.order_by("position").values_list("outcome", flat=True))


@pytest.mark.skipif(
    connection.vendor == "sqlite",
    reason="batch threads need a database other threads can open, and SQLite's test database "
    "is in memory; bench/jobs.py runs four at a time on SQLite",
)
def test_a_job_has_at_most_its_concurrency_of_requests_under_way(
    sandbox: SandboxServer,
    contacts: list[IndexedRecord],
    user: User,
    settings: LazySettings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings.JOB_CONCURRENCY = 2
    sandbox.faults.set(Fault(kind="latency", count=0, latency_ms=100))
    under_way, most, lock = 0, 0, threading.Lock()
    send = SequinClient.run_mutation

    def counted(client: SequinClient, request: MutationRequest) -> Any:
        nonlocal under_way, most
        with lock:
            under_way += 1
            most = max(most, under_way)
        try:
            return send(client, request)
        finally:
            with lock:
                under_way -= 1

    monkeypatch.setattr(SequinClient, "run_mutation", counted)
    job = start(user, [(r.upstream_id, {"Title": "Two at a time"}) for r in contacts[:60]])
    assert (job.state, job.succeeded) == (JobState.DONE, 60)
    # Batches in hand are twice the concurrency, journaled before they wait for a slot.
    assert most == 2


def test_a_job_sends_batches_at_the_cap_sharing_its_group(
    sandbox: SandboxServer, contacts: list[IndexedRecord], user: User
) -> None:
    chosen = contacts[:25]
    job = start(user, [(r.upstream_id, {"Title": "Bulk title"}) for r in chosen])

    assert job.state == JobState.DONE
    attempts = Mutation.objects.filter(group_id=job.group_id).order_by("id")
    assert [a.records.count() for a in attempts] == [10, 10, 5]
    assert {a.source for a in attempts} == {Source.JOB}
    assert {a.outcome for a in attempts} == {Outcome.SUCCEEDED}
    assert outcomes(job) == [ItemOutcome.SUCCEEDED] * 25
    assert all(upstream_title(sandbox, r.upstream_id) == "Bulk title" for r in chosen)
    progress = job_progress(job=job)
    assert (progress.total, progress.sent, progress.succeeded, progress.failed) == (25, 25, 25, 0)
    assert progress.percent == 100 and progress.seconds_left is None
    assert job.username == "ada" and job.finished_at is not None


def test_a_refused_batch_is_judged_record_by_record(
    sandbox: SandboxServer, contacts: list[IndexedRecord], user: User, settings: LazySettings
) -> None:
    """The sandbox applies the records before the bad one; the job says which."""
    settings.SEQUIN_MAX_RECORDS_PER_MUTATION = 5
    items: list[tuple[str | None, dict]] = [
        (r.upstream_id, {"Title": "Partly"}) for r in contacts[:5]
    ]
    items[2] = (contacts[2].upstream_id, {"Email": "not-an-email"})
    job = start(user, items)

    assert outcomes(job) == ["succeeded", "succeeded", "failed", "failed", "failed"]
    attempt = Mutation.objects.get(group_id=job.group_id)
    assert attempt.outcome == Outcome.FAILED
    assert attempt.reconciliation == Reconciliation.PARTLY
    failed = job.items.get(position=3)
    assert failed.message.startswith("Not applied") and "refused" in failed.message
    assert upstream_title(sandbox, contacts[1].upstream_id) == "Partly"
    assert upstream_title(sandbox, contacts[3].upstream_id) != "Partly"
    assert (job.succeeded, job.failed, job.unknown) == (2, 3, 0)


def test_a_failure_in_one_batch_leaves_the_others_alone(
    sandbox: SandboxServer, contacts: list[IndexedRecord], user: User, settings: LazySettings
) -> None:
    settings.SEQUIN_MAX_RECORDS_PER_MUTATION = 3
    items: list[tuple[str | None, dict]] = [
        (r.upstream_id, {"Title": "Across"}) for r in contacts[:9]
    ]
    items[3] = (contacts[3].upstream_id, {"Email": "broken"})  # first of the second batch
    job = start(user, items)

    assert outcomes(job) == ["succeeded"] * 3 + ["failed"] * 3 + ["succeeded"] * 3
    verdicts = list(
        Mutation.objects.filter(group_id=job.group_id)
        .order_by("request_body__records__0__upstream_id")
        .values_list("outcome", flat=True)
    )
    assert sorted(verdicts) == ["failed", "succeeded", "succeeded"]


def test_one_record_refused_is_failed_with_the_upstream_words(
    sandbox: SandboxServer, contacts: list[IndexedRecord], user: User
) -> None:
    job = start(user, [(contacts[0].upstream_id, {"Email": "nope"})])
    item = job.items.get()
    assert item.outcome == ItemOutcome.FAILED
    assert item.message == item.mutation.error_message != ""


def test_a_rate_limit_pauses_the_job_then_the_batch_goes_out_again(
    sandbox: SandboxServer, contacts: list[IndexedRecord], user: User
) -> None:
    # The client retries twice within its bound; the third 429 reaches the job.
    sandbox.faults.set(Fault(kind="rate_limit_429", count=3, retry_after=1))
    job = start(user, [(r.upstream_id, {"Title": "After 429"}) for r in contacts[:10]])

    assert job.state == JobState.DONE
    assert outcomes(job) == [ItemOutcome.SUCCEEDED] * 10
    attempts = list(Mutation.objects.filter(group_id=job.group_id).order_by("id"))
    assert [(a.outcome, a.error_kind) for a in attempts] == [
        (Outcome.FAILED, "rate_limited"),
        (Outcome.SUCCEEDED, ""),
    ]
    assert attempts[0].retry_after == 1
    assert {i.mutation_id for i in job.items.all()} == {attempts[1].pk}


def test_a_queued_job_is_cancelled_at_once(
    contacts: list[IndexedRecord], user: User, settings: LazySettings
) -> None:
    settings.TASKS = QUEUED_ONLY
    job = start(user, [(r.upstream_id, {"Title": "Never"}) for r in contacts[:4]])
    assert job.state == JobState.QUEUED

    job = job_cancel(job=job)

    assert job.state == JobState.CANCELLED
    assert outcomes(job) == [ItemOutcome.CANCELLED] * 4
    assert job.cancelled == 4 and job.sent == 0
    assert not Mutation.objects.exists()


def test_cancel_stops_a_running_job_after_its_batches_in_flight(
    sandbox: SandboxServer,
    contacts: list[IndexedRecord],
    user: User,
    settings: LazySettings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The person cancels while the second batch is under way (from the job's own thread:
    the in-memory test database takes one writer at a time)."""
    settings.SEQUIN_MAX_RECORDS_PER_MUTATION = 5
    settled = jobs._Runner._settle
    batches_settled = []

    def settle_then_cancel(runner: jobs._Runner, *args: Any, **kwargs: Any) -> None:
        if len(batches_settled) == 1:
            job_cancel(job=runner.job)
        settled(runner, *args, **kwargs)
        batches_settled.append(args)

    monkeypatch.setattr(jobs._Runner, "_settle", settle_then_cancel)
    job = start(user, [(r.upstream_id, {"Title": "Stopped"}) for r in contacts[:40]])

    assert job.state == JobState.CANCELLED
    assert (job.succeeded, job.cancelled, job.sent) == (10, 30, 10)
    assert outcomes(job) == [ItemOutcome.SUCCEEDED] * 10 + [ItemOutcome.CANCELLED] * 30
    assert Mutation.objects.filter(group_id=job.group_id).count() == 2
    assert upstream_title(sandbox, contacts[10].upstream_id) != "Stopped"


def test_retry_the_failures_sends_only_those(
    sandbox: SandboxServer, contacts: list[IndexedRecord], user: User
) -> None:
    items: list[tuple[str | None, dict]] = [
        (r.upstream_id, {"Title": "Retry me"}) for r in contacts[:4]
    ]
    items[3] = (contacts[3].upstream_id, {"Email": "bad"})
    job = start(user, items)
    JobItem.objects.filter(job=job, position=3).update(data={"Email": "fixed@example.com"})

    retry = job_retry_failures(job=job, user=user)

    assert retry is not None and retry.retry_of == job
    retry.refresh_from_db()
    assert list(retry.items.values_list("upstream_id", flat=True)) == [contacts[3].upstream_id]
    assert retry.state == JobState.DONE and retry.succeeded == 1
    assert job_retry_failures(job=retry, user=user) is None


def test_a_new_run_settles_batches_left_in_flight_before_sending(
    sandbox: SandboxServer, contacts: list[IndexedRecord], user: User, settings: LazySettings
) -> None:
    """What a dead worker leaves: one batch journaled pending and applied upstream, one marked
    in flight but never journaled, the rest never sent."""
    settings.TASKS = QUEUED_ONLY
    settings.SEQUIN_MAX_RECORDS_PER_MUTATION = 2
    job = start(user, [(r.upstream_id, {"Title": "Resumed"}) for r in contacts[:6]])
    first, second = (
        list(job.items.filter(position__lt=2)),
        list(job.items.filter(position__in=[2, 3])),
    )
    JobItem.objects.filter(pk__in=[i.pk for i in first]).update(
        outcome=ItemOutcome.IN_FLIGHT, batch_token="job:dead:0"
    )
    JobItem.objects.filter(pk__in=[i.pk for i in second]).update(
        outcome=ItemOutcome.IN_FLIGHT, batch_token="job:dead:2"
    )
    request = MutationRequest(
        kind="update",
        sync_id=SALESFORCE_SYNC_ID,
        collection_id=CONTACTS,
        records=tuple({"upstream_id": i.upstream_id, "data": i.data} for i in first),
    )
    journal_start(
        request=request,
        user=user,
        source=Source.JOB,
        seen={},
        form_token="job:dead:0",
        group_id=job.group_id,
    )
    for item in first:  # the dead worker's request reached the upstream
        sandbox.store.write_as_upstream(SALESFORCE_SYNC_ID, CONTACTS, item.upstream_id, item.data)

    job_run(job_id=job.pk)

    job.refresh_from_db()
    assert job.state == JobState.DONE
    assert outcomes(job) == [ItemOutcome.SUCCEEDED] * 6
    dead = Mutation.objects.get(form_token="job:dead:0")
    assert (dead.outcome, dead.reconciliation) == (Outcome.UNKNOWN, Reconciliation.APPLIED)
    # The reconciled batch was not sent again: its records are in that entry only.
    for item in first:
        carried = Mutation.objects.filter(
            group_id=job.group_id, records__upstream_id=item.upstream_id
        )
        assert list(carried) == [dead]
    assert Mutation.objects.filter(group_id=job.group_id).count() == 3


def test_a_create_job_records_the_new_ids(
    sandbox: SandboxServer, contacts: list[IndexedRecord], user: User
) -> None:
    job = start(user, [(None, {"LastName": f"New {n}"}) for n in range(3)], kind="create")
    assert job.state == JobState.DONE and job.succeeded == 3
    for item in job.items.all():
        made = sandbox.store.get_record(SALESFORCE_SYNC_ID, CONTACTS, item.upstream_id)
        assert made is not None and made["data"]["LastName"] == item.data["LastName"]


def test_a_create_whose_answer_was_lost_is_found_not_sent_again(
    sandbox: SandboxServer, contacts: list[IndexedRecord], user: User
) -> None:
    """A 504 after the write: the re-read finds the records made; nothing is offered again."""
    sandbox.faults.set(Fault(kind="timeout_504"))
    job = start(user, [(None, {"LastName": f"Lost answer {n}"}) for n in range(2)], kind="create")

    assert outcomes(job) == [ItemOutcome.SUCCEEDED] * 2
    attempt = Mutation.objects.get(group_id=job.group_id)
    assert (attempt.outcome, attempt.reconciliation) == (Outcome.UNKNOWN, Reconciliation.APPLIED)
    for item in job.items.all():
        assert item.message.startswith("Applied: created as")
        made = sandbox.store.get_record(SALESFORCE_SYNC_ID, CONTACTS, item.upstream_id)
        assert made is not None and made["data"]["LastName"] == item.data["LastName"]
    assert job_retry_failures(job=job, user=user) is None


def test_a_create_of_unknown_outcome_is_never_offered_again(
    sandbox: SandboxServer, contacts: list[IndexedRecord], user: User
) -> None:
    """The answer is lost and the records cannot be re-read: the outcome stays unknown, and a
    create that may have landed is not retried."""
    sandbox.faults.set(Fault(kind="timeout_504"))
    sandbox.faults.set(Fault(kind="error_500", count=0, match="/v1/records"))
    job = start(user, [(None, {"LastName": "Maybe made"})], kind="create")

    assert outcomes(job) == [ItemOutcome.UNKNOWN]
    assert job.items.get().message.startswith("Could not re-read the records")
    assert job_retry_failures(job=job, user=user) is None


def test_a_delete_job(sandbox: SandboxServer, contacts: list[IndexedRecord], user: User) -> None:
    job = start(user, [(r.upstream_id, {}) for r in contacts[:3]], kind="delete")
    assert job.state == JobState.DONE and job.succeeded == 3
    for row in contacts[:3]:
        record = sandbox.store.get_record(SALESFORCE_SYNC_ID, CONTACTS, row.upstream_id)
        assert record is not None and record["deleted"]


def test_a_rate_limited_create_is_failed_not_sent_again(
    sandbox: SandboxServer, contacts: list[IndexedRecord], user: User
) -> None:
    sandbox.faults.set(Fault(kind="rate_limit_429", retry_after=0))
    job = start(user, [(None, {"LastName": "Limited"})], kind="create")

    assert outcomes(job) == [ItemOutcome.FAILED]
    assert Mutation.objects.filter(group_id=job.group_id).count() == 1
    retry = job_retry_failures(job=job, user=user)
    assert retry is not None  # refused for sure, so the person may send it again


# The job's counts move by increments with its items; checked against the items after every
# step of a run, not only at its end (where a run counts them from the items once more).

COUNTED = ("sent", "succeeded", "failed", "unknown", "cancelled")


def counts_on_row(job_id: int) -> dict[str, int]:
    return dict(zip(COUNTED, Job.objects.values_list(*COUNTED).get(pk=job_id), strict=True))


def counts_of_items(job_id: int) -> dict[str, int]:
    found = [i.outcome for i in JobItem.objects.filter(job_id=job_id)]
    return {
        "sent": sum(o in jobs.SENT for o in found),
        "succeeded": found.count(ItemOutcome.SUCCEEDED),
        "failed": found.count(ItemOutcome.FAILED),
        "unknown": found.count(ItemOutcome.UNKNOWN),
        "cancelled": found.count(ItemOutcome.CANCELLED),
    }


@pytest.fixture
def steps_checked(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, int]]:
    """After each batch taken, settled or sent back to the queue, the job's row says what its
    items say. Returns the counts seen after each step."""
    seen: list[dict[str, int]] = []

    def checked(name: str) -> None:
        original = getattr(jobs._Runner, name)

        def step(runner: jobs._Runner, *args: Any, **kwargs: Any) -> Any:
            result = original(runner, *args, **kwargs)
            on_row = counts_on_row(runner.job.pk)
            assert on_row == counts_of_items(runner.job.pk), f"after {name}"
            seen.append(on_row)
            return result

        monkeypatch.setattr(jobs._Runner, name, step)

    for name in ("_next_batch", "_settle", "_requeue"):
        checked(name)
    return seen


def test_counts_follow_the_items_across_partial_failures_and_a_rate_limit(
    sandbox: SandboxServer,
    contacts: list[IndexedRecord],
    user: User,
    settings: LazySettings,
    steps_checked: list[dict[str, int]],
) -> None:
    settings.SEQUIN_MAX_RECORDS_PER_MUTATION = 3
    sandbox.faults.set(Fault(kind="rate_limit_429", count=3, retry_after=0))
    items: list[tuple[str | None, dict]] = [
        (r.upstream_id, {"Title": "Counted"}) for r in contacts[:9]
    ]
    items[4] = (contacts[4].upstream_id, {"Email": "broken"})  # inside the second batch
    job = start(user, items)

    assert (
        outcomes(job) == ["succeeded"] * 3 + ["succeeded", "failed", "failed"] + ["succeeded"] * 3
    )
    assert counts_on_row(job.pk) == {
        "sent": 9,
        "succeeded": 7,
        "failed": 2,
        "unknown": 0,
        "cancelled": 0,
    }
    # The rate-limited first batch went back to the queue (its requeue, then the settle that
    # called it), then out again: sent rose, fell and rose.
    sent = [step["sent"] for step in steps_checked]
    assert sent[:4] == [3, 0, 0, 3]
    assert len(steps_checked) >= 7


def test_counts_follow_the_items_when_a_running_job_is_cancelled(
    sandbox: SandboxServer,
    contacts: list[IndexedRecord],
    user: User,
    settings: LazySettings,
    steps_checked: list[dict[str, int]],
) -> None:
    settings.SEQUIN_MAX_RECORDS_PER_MUTATION = 4
    taken = jobs._Runner._next_batch  # already checked by the fixture

    def cancel_after_two(runner: jobs._Runner) -> Any:
        if runner.job.items.exclude(outcome=ItemOutcome.PENDING).count() == 8:
            job_cancel(job=runner.job)
        return taken(runner)

    jobs._Runner._next_batch = cancel_after_two  # type: ignore[method-assign]
    try:
        job = start(user, [(r.upstream_id, {"Title": "Cut short"}) for r in contacts[:20]])
    finally:
        jobs._Runner._next_batch = taken  # type: ignore[method-assign]

    assert job.state == JobState.CANCELLED
    assert counts_on_row(job.pk) == counts_of_items(job.pk)
    assert (job.sent, job.succeeded, job.cancelled) == (job.succeeded, job.succeeded, 20 - job.sent)
    assert job.succeeded >= 8 and job.cancelled > 0


def test_counts_follow_the_items_when_a_run_resumes_a_dead_one(
    sandbox: SandboxServer,
    contacts: list[IndexedRecord],
    user: User,
    settings: LazySettings,
    steps_checked: list[dict[str, int]],
) -> None:
    """A dead run's batch in flight and never journaled goes back to the queue, one journaled
    pending is judged; the counts the dead run left on the row were wrong (a crash between
    two versions): the new run starts from its items."""
    settings.TASKS = QUEUED_ONLY
    settings.SEQUIN_MAX_RECORDS_PER_MUTATION = 2
    job = start(user, [(r.upstream_id, {"Title": "Resumed"}) for r in contacts[:6]])
    first = list(job.items.filter(position__lt=2))
    JobItem.objects.filter(pk__in=[i.pk for i in first]).update(
        outcome=ItemOutcome.IN_FLIGHT, batch_token="job:dead:0"
    )
    JobItem.objects.filter(position__in=[2, 3], job=job).update(
        outcome=ItemOutcome.IN_FLIGHT, batch_token="job:dead:2"
    )
    Job.objects.filter(pk=job.pk).update(sent=1, succeeded=5, state=JobState.RUNNING)
    request = MutationRequest(
        kind="update",
        sync_id=SALESFORCE_SYNC_ID,
        collection_id=CONTACTS,
        records=tuple({"upstream_id": i.upstream_id, "data": i.data} for i in first),
    )
    journal_start(request=request, user=user, source=Source.JOB, seen={}, form_token="job:dead:0")

    job_run(job_id=job.pk)

    job.refresh_from_db()
    assert job.state == JobState.DONE
    assert outcomes(job) == [ItemOutcome.SUCCEEDED] * 6
    assert counts_on_row(job.pk) == {
        "sent": 6,
        "succeeded": 6,
        "failed": 0,
        "unknown": 0,
        "cancelled": 0,
    }
    # Recovery: the never-sent batch went back (sent 4 -> 2), the judged one was sent again
    # after its re-read found nothing applied (the dead run's request never arrived).
    assert steps_checked[0]["sent"] == 2


# The items' indexes: each one more is written for every item three times (start, batch,
# settle), so the queries of a run must be served by the few there are.


def test_a_batch_is_settled_through_its_job_s_items_in_flight(
    sandbox: SandboxServer, contacts: list[IndexedRecord], user: User
) -> None:
    with CaptureQueriesContext(connection) as queries:
        job = start(user, [(r.upstream_id, {"Title": "Planned"}) for r in contacts[:15]])
    assert (job.state, job.succeeded) == (JobState.DONE, 15)
    settles = [q["sql"] for q in queries if "AND batch_token = " in q["sql"]]
    assert len(settles) == 2  # batches of 10 and 5
    if connection.vendor == "postgresql":
        # As a job of thousands leaves its items (planner_statistics analyzes them once
        # job_start has written them); on a dozen rows unanalyzed any index of the job will do.
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {JobItem._meta.db_table}")
    assert re.search(r"\bjob_item_outcome\b", plan_of(settles[0]))


def test_deleting_an_attempt_finds_its_items_by_their_partial_index(
    sandbox: SandboxServer, contacts: list[IndexedRecord], user: User
) -> None:
    job = start(user, [(r.upstream_id, {"Title": "Kept"}) for r in contacts[:12]])
    attempt = Mutation.objects.filter(group_id=job.group_id).earliest("id")

    with CaptureQueriesContext(connection) as queries:
        attempt.delete()

    unlinks = [
        q["sql"] for q in queries if q["sql"].startswith(f'UPDATE "{JobItem._meta.db_table}"')
    ]
    assert len(unlinks) == 1
    assert re.search(r"\bjob_item_mutation\b", plan_of(unlinks[0]))
    assert list(job.items.filter(mutation__isnull=True).values_list("position", flat=True)) == list(
        range(10)
    )
