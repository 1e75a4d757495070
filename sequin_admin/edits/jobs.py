"""Bulk jobs: many records sent in batches by a background worker, every record accounted for.

The API (keyword-only; views, the CSV upload and `manage.py mutate` use only these):

``job_start(*, user, sync_id, collection_id, kind, items, query_string="", description="",
retry_of=None) -> Job``
    `items` is a sequence of ``(upstream_id | None, data)``: ``(id, fields to set)`` for an
    update, ``(id, {})`` for a delete, ``(None, fields of the new record)`` for a create.
    Stores the job and all its items in one transaction (nothing asked for is lost), then
    enqueues `job_task` (django-tasks) with the job's id. Raises ValueError on no items.
``job_cancel(*, job) -> Job``
    A queued job is cancelled at once; a running one stops sending (state "cancelling"),
    lets the batches in flight finish and marks the rest cancelled.
``job_retry_failures(*, job, user) -> Job | None``
    A new job of the same kind with only the items that failed (and, except for creates,
    those whose outcome stayed unknown; a create that may have landed is never offered
    again). None when there is nothing to retry.
``job_progress(*, job) -> JobProgress``
    Counts (sent, succeeded, failed, unknown, cancelled, total) and the seconds left.
``job_items_page(*, job, after=-1, outcome="", limit=ITEMS_PAGE_SIZE) -> JobItemsPage``
    Per-record results, keyset-paged by position: page 200 costs what page 1 costs.
``job_resume_if_stale(*, job) -> bool`` / ``jobs_resume_stale() -> list[Job]``
    A running job whose worker stopped beating (killed, machine gone) for JOB_STALE_AFTER
    seconds is enqueued again; `manage.py resume_jobs` runs the sweep before a worker starts,
    and the job's page checks its own job on every poll.

How a job runs (`job_run`, the task's body): a run first takes the job's lease (one run at a
time), then settles the batches a dead run left in flight, then sends the items never sent,
at most SEQUIN_MAX_RECORDS_PER_MUTATION per batch and JOB_CONCURRENCY batches at once, each
through `mutation_run` (one journaled attempt; the job's group id; the batch's token as the
attempt's `form_token`, so a batch is never journaled or sent twice under one token). A
batch Sequin answered with success is settled in the answer's transaction (`on_answer`):
its items' outcomes commit with the attempt's journaled answer, or, should settling fail,
the answer is committed alone and the batch stays in flight for the next run to settle.
Before a batch is sent its items are marked in flight with that token. A batch found in
flight is never sent blindly again: no journal entry under its token means it never left
(it goes back to the queue); an entry still pending means its worker died mid-call, and the
records are re-read and judged (`mutation_settle`) as unknown outcomes are: those applied
succeed, an update or delete found not applied goes back to the queue (sent again only after
that re-read), a create found not applied fails (it might still land). A refused batch of
several records (a 4xx) is judged record by record the same way. A 429 that outlasts the
client's own retries pauses the job for the Retry-After and the batch goes out again (a
create's batch is failed instead: a create is never sent again by itself).
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Count
from django.utils import timezone
from django_tasks import task

from sequin_admin.access.decorators import Scope
from sequin_admin.bulk_rows import rows_insert, rows_update
from sequin_admin.mutations.models import Mutation, Outcome, Source
from sequin_admin.mutations.reconcile import mutation_settle
from sequin_admin.mutations.run import mutation_run, seen_in_index
from sequin_admin.mutations.selectors import mutation_for_form
from sequin_admin.records.refresh import collection_refresh
from sequin_admin.sequin import ErrorKind, MutationRequest, SequinError

from .models import ACTIVE_STATES, ItemOutcome, Job, JobItem, JobKind, JobState

logger = logging.getLogger(__name__)

User = AbstractBaseUser | AnonymousUser | None
ItemSpec = tuple[str | None, dict[str, Any]]
ITEMS_PAGE_SIZE = 50
# Outcomes an item ends with; the others mean it still has to be sent or settled.
SETTLED = (ItemOutcome.SUCCEEDED, ItemOutcome.FAILED, ItemOutcome.UNKNOWN, ItemOutcome.CANCELLED)
SENT = (ItemOutcome.IN_FLIGHT, ItemOutcome.SUCCEEDED, ItemOutcome.FAILED, ItemOutcome.UNKNOWN)
# A refused batch of several records: the upstream may have applied those before the bad one.
REFUSALS_TO_JUDGE = (ErrorKind.VALIDATION, ErrorKind.NOT_FOUND)


# Starting, cancelling, retrying


def job_start(
    *,
    user: User,
    sync_id: str,
    collection_id: str,
    kind: str,
    items: Sequence[ItemSpec],
    query_string: str = "",
    description: str = "",
    retry_of: Job | None = None,
) -> Job:
    if not items:
        raise ValueError("A job needs at least one record.")
    if kind not in JobKind.values:
        raise ValueError(f"Unknown job kind {kind!r}.")
    real_user = user if isinstance(user, get_user_model()) and user.is_authenticated else None
    with transaction.atomic():
        job = Job.objects.create(
            user=real_user,
            username=real_user.get_username() if real_user else "",
            sync_id=sync_id,
            collection_id=collection_id,
            kind=kind,
            group_id=uuid.uuid4(),
            query_string=query_string,
            description=description[:300],
            retry_of=retry_of,
            total=len(items),
        )
        rows_insert(
            JobItem,
            ("job", "position", "upstream_id", "data"),
            [
                (job.pk, n, upstream_id or "", dict(data))
                for n, (upstream_id, data) in enumerate(items)
            ],
            returning=False,
        )
    job_task.enqueue(job_id=job.pk)
    return job


def job_cancel(*, job: Job) -> Job:
    with transaction.atomic():
        if Job.objects.filter(pk=job.pk, state=JobState.QUEUED, lease__isnull=True).update(
            state=JobState.CANCELLED, finished_at=timezone.now()
        ):
            _cancel_pending(job.pk)
            _recount(job.pk)
        else:
            Job.objects.filter(pk=job.pk, state=JobState.RUNNING).update(state=JobState.CANCELLING)
    job.refresh_from_db()
    return job


def job_retry_failures(*, job: Job, user: User) -> Job | None:
    retryable = job.items.filter(outcome=ItemOutcome.FAILED)
    if job.kind != JobKind.CREATE:
        retryable = job.items.filter(outcome__in=[ItemOutcome.FAILED, ItemOutcome.UNKNOWN])
    items = [(i.upstream_id or None, i.data) for i in retryable.order_by("position")]
    if not items or job.active:
        return None
    return job_start(
        user=user,
        sync_id=job.sync_id,
        collection_id=job.collection_id,
        kind=job.kind,
        items=items,
        query_string=job.query_string,
        description=f"Retry of the failures of job #{job.pk}",
        retry_of=job,
    )


# Reading


@dataclass(frozen=True)
class JobProgress:
    total: int
    sent: int
    succeeded: int
    failed: int
    unknown: int
    cancelled: int
    percent: int
    seconds_left: float | None


def job_progress(*, job: Job) -> JobProgress:
    """From the counts on the job's row: the same cost at 10 and at 10,000 records."""
    seconds_left = None
    if job.active and job.started_at and job.sent:
        elapsed = (timezone.now() - job.started_at).total_seconds()
        remaining = job.total - job.sent - job.cancelled
        seconds_left = max(0.0, remaining * elapsed / job.sent)
    return JobProgress(
        total=job.total,
        sent=job.sent,
        succeeded=job.succeeded,
        failed=job.failed,
        unknown=job.unknown,
        cancelled=job.cancelled,
        percent=job.percent_done,
        seconds_left=seconds_left,
    )


@dataclass(frozen=True)
class JobItemsPage:
    rows: list[JobItem]
    next_after: int | None


def job_items_page(
    *, job: Job, after: int = -1, outcome: str = "", limit: int = ITEMS_PAGE_SIZE
) -> JobItemsPage:
    rows = job.items.filter(position__gt=after)
    if outcome:
        rows = rows.filter(outcome=outcome)
    fetched = list(rows.select_related("mutation").order_by("position")[: limit + 1])
    more = len(fetched) > limit
    fetched = fetched[:limit]
    return JobItemsPage(rows=fetched, next_after=fetched[-1].position if more else None)


# Lost workers


def _stale_before() -> datetime:
    return timezone.now() - timedelta(seconds=settings.JOB_STALE_AFTER)


def job_resume_if_stale(*, job: Job) -> bool:
    """Enqueue the job again if its worker stopped beating; at most once per stale period."""
    if job.state not in (JobState.RUNNING, JobState.CANCELLING):
        return False
    if job.heartbeat_at and job.heartbeat_at >= _stale_before():
        return False
    # Dropping the lease lets the new run claim the job; a run still alive somewhere notices
    # its lease gone at its next heartbeat and stops sending.
    released = Job.objects.filter(pk=job.pk, lease=job.lease, heartbeat_at=job.heartbeat_at).update(
        lease=None, heartbeat_at=timezone.now()
    )
    if released:
        logger.warning("Job %s lost its worker; enqueued again", job.pk)
        job_task.enqueue(job_id=job.pk)
    return bool(released)


def jobs_resume_stale() -> list[Job]:
    stale = Job.objects.filter(
        state__in=[JobState.RUNNING, JobState.CANCELLING], heartbeat_at__lt=_stale_before()
    )
    return [job for job in stale if job_resume_if_stale(job=job)]


# Running


@task()
def job_task(job_id: int) -> None:
    job_run(job_id=job_id)


def job_run(*, job_id: int) -> None:
    lease = uuid.uuid4()
    now = timezone.now()
    claimed = Job.objects.filter(pk=job_id, state__in=ACTIVE_STATES, lease__isnull=True).update(
        lease=lease, heartbeat_at=now
    )
    if not claimed:
        return  # another run holds it, or it ended
    Job.objects.filter(pk=job_id, state=JobState.QUEUED).update(state=JobState.RUNNING)
    Job.objects.filter(pk=job_id, started_at__isnull=True).update(started_at=now)
    job = Job.objects.select_related("user").get(pk=job_id)
    runner = _Runner(job, lease)
    with _heartbeat(job_id, lease, runner.lease_lost):
        runner.run()


@contextmanager
def _heartbeat(job_id: int, lease: uuid.UUID, lost: threading.Event) -> Iterator[None]:
    stop = threading.Event()

    def beat() -> None:
        try:
            while not stop.wait(settings.JOB_HEARTBEAT_SECONDS):
                try:
                    kept = Job.objects.filter(pk=job_id, lease=lease).update(
                        heartbeat_at=timezone.now()
                    )
                except DatabaseError:
                    logger.warning("Job %s: heartbeat not written; trying again", job_id)
                    continue
                if not kept:
                    lost.set()
                    return
        finally:
            connection.close()

    thread = threading.Thread(target=beat, name=f"job-{job_id}-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


# One re-read of a collection at a time in this process: batches settled together share it.
_reread_lock = threading.Lock()


class _Runner:
    def __init__(self, job: Job, lease: uuid.UUID) -> None:
        self.job = job
        self.lease = lease
        self.lease_lost = threading.Event()
        self.cap = settings.SEQUIN_MAX_RECORDS_PER_MUTATION
        self.concurrency = settings.JOB_CONCURRENCY
        # At most `concurrency` attempts under way; twice as many batches in hand, so one
        # batch's answer is journaled while the others wait for Sequin.
        self.send_slot = threading.BoundedSemaphore(self.concurrency)
        self.in_hand = 2 * self.concurrency
        self._paused_until = 0.0
        self._pause_lock = threading.Lock()
        self._pool_connections: dict[int, BaseDatabaseWrapper] = {}

    def run(self) -> None:
        self._recover_in_flight()
        try:
            self._send_all()
        finally:
            self._close_pool_connections()
        self._finish()

    def _send_all(self) -> None:
        with ThreadPoolExecutor(self.in_hand, thread_name_prefix=f"job-{self.job.pk}") as pool:
            in_flight: set[Future[None]] = set()
            while True:
                done = {f for f in in_flight if f.done()}
                for future in done:
                    future.result()  # a fault of our own surfaces here, not silently
                in_flight -= done
                if self._stopping():
                    break
                if len(in_flight) >= self.in_hand:
                    wait(in_flight, return_when=FIRST_COMPLETED)
                    continue
                pause = self._paused_until - time.monotonic()
                if pause > 0:
                    time.sleep(min(pause, 0.5))
                    continue
                batch = self._next_batch()
                if not batch:
                    if not in_flight:
                        break
                    wait(in_flight, return_when=FIRST_COMPLETED)
                    continue
                if self.concurrency == 1:
                    self._send(batch)  # no thread to hand over to: one connection
                else:
                    in_flight.add(pool.submit(self._send_in_thread, batch))
            for future in in_flight:
                future.result()

    def _stopping(self) -> bool:
        if self.lease_lost.is_set():
            return True
        # Asked before every batch: plain SQL, one row by key (the ORM's query costs more).
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT state FROM {_JOBS} WHERE id = %s", [self.job.pk])  # nosec B608 # the model's table
            found = cursor.fetchone()
        return found is None or found[0] != JobState.RUNNING

    def _next_batch(self) -> list[_Item]:
        """The first `cap` pending items, marked in flight under a new batch token, and the
        job's sent count moved by as many: one UPDATE ... RETURNING, one increment, one commit
        (reading the items as model instances, then updating them by 100 ids, cost more than
        the batch's journal)."""
        token = f"job:{self.job.pk}:{uuid.uuid4().hex[:20]}"
        quote = connection.ops.quote_name
        table, key = quote(JobItem._meta.db_table), quote(JobItem._meta.pk.column)
        # The model's own names; every value is bound.
        sql = (
            f"UPDATE {table} SET outcome = %s, batch_token = %s "  # nosec B608 # model names
            f"WHERE {key} IN (SELECT {key} FROM {table} WHERE job_id = %s AND outcome = %s "
            f"ORDER BY position LIMIT %s) RETURNING {key}, position, upstream_id, data"
        )
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                sql,
                [ItemOutcome.IN_FLIGHT, token, self.job.pk, ItemOutcome.PENDING, self.cap],
            )
            rows = cursor.fetchall()
            _tally(self.job.pk, sent=len(rows))
        # JSON comes back as text on both backends (Django loads PostgreSQL's jsonb as text).
        batch = [
            _Item(
                pk,
                position,
                upstream_id,
                json.loads(data) if isinstance(data, str) else data,
                token,
            )
            for pk, position, upstream_id, data in rows
        ]
        # RETURNING promises no order; a batch goes out in the job's order.
        batch.sort(key=lambda item: item.position)
        return batch

    def _send_in_thread(self, batch: list[_Item]) -> None:
        # The pool thread keeps its connection for its next batches (opening one costs more
        # than a batch's own queries); run() closes them all once the pool is done.
        self._pool_connections.setdefault(threading.get_ident(), connections[DEFAULT_DB_ALIAS])
        self._send(batch)

    def _close_pool_connections(self) -> None:
        """The pool threads' connections, closed here: those threads have ended."""
        for wrapper in self._pool_connections.values():
            wrapper.inc_thread_sharing()
            try:
                wrapper.close()
            finally:
                wrapper.dec_thread_sharing()
        self._pool_connections.clear()

    def _send(self, batch: list[_Item]) -> None:
        job = self.job
        ids = [i.upstream_id for i in batch]
        request = MutationRequest(
            kind=job.kind,  # type: ignore[arg-type]  # a JobKind value
            sync_id=job.sync_id,
            collection_id=job.collection_id,
            records=tuple(_record_of(i) for i in batch) if job.kind != JobKind.DELETE else (),
            upstream_ids=tuple(ids) if job.kind == JobKind.DELETE else (),
        )
        seen = {}
        if job.kind != JobKind.CREATE:
            seen = seen_in_index(
                sync_id=job.sync_id, collection_id=job.collection_id, upstream_ids=ids
            )
        settled: list[Mutation] = []

        def settle_answered(answered: Mutation) -> None:
            # In the answer's transaction: the batch's outcomes commit with its journal entry.
            self._settle(batch, answered)
            settled.append(answered)

        mutation, _ = mutation_run(
            request=request,
            user=job.user,
            source=Source.JOB,
            seen=seen,
            form_token=batch[0].batch_token,
            group_id=job.group_id,
            send_slot=self.send_slot,
            on_answer=settle_answered,
        )
        if not settled:
            self._settle(batch, mutation)

    def _recover_in_flight(self) -> None:
        """Settle what a dead run left in flight, before anything new is sent."""
        # The counts move by increments from here on; they start from the items themselves,
        # whatever an earlier run (or one that lost its lease) left on the job's row.
        _recount(self.job.pk)
        left = (
            self.job.items.filter(outcome=ItemOutcome.IN_FLIGHT)
            .order_by("position")
            .values_list("pk", "position", "upstream_id", "data", "batch_token")
        )
        batches: dict[str, list[_Item]] = {}
        for pk, position, upstream_id, data, token in left:
            batches.setdefault(token, []).append(_Item(pk, position, upstream_id, data, token))
        for token, batch in batches.items():
            mutation = mutation_for_form(form_token=token) if token else None
            if mutation is None:
                # Never journaled, so never sent: it goes out as if new.
                self._requeue(batch)
            else:
                self._settle(batch, mutation, recovering=True)

    def _settle(self, batch: list[_Item], mutation: Mutation, recovering: bool = False) -> None:
        """Give every item of the batch its outcome from the batch's journal entry; the job's
        counts move in the same commit."""
        if mutation.applied:
            unconfirmed = mutation.outcome == Outcome.CONSUMERS_UNCONFIRMED
            note = "Saved upstream; consumers not confirmed in time." if unconfirmed else ""
            if self.job.kind == JobKind.CREATE:
                made = list(mutation.records.values_list("upstream_id", flat=True))
                for item, upstream_id in zip(batch, made, strict=False):
                    item.upstream_id = upstream_id
                    _settle_item(item, ItemOutcome.SUCCEEDED, mutation, note)
                _save(self.job.pk, batch)
            else:
                # The common case: one UPDATE by the batch's token, not by 100 ids, among the
                # job's items in flight (job_item_outcome: the batches a run has in hand).
                # Inside the answer's transaction (on_answer) its savepoint is the one there.
                with transaction.atomic(savepoint=False), connection.cursor() as cursor:
                    cursor.execute(
                        f"UPDATE {_ITEMS} SET outcome = %s, mutation_id = %s, message = %s "  # nosec B608 # the model's table
                        "WHERE job_id = %s AND outcome = %s AND batch_token = %s",
                        [
                            ItemOutcome.SUCCEEDED,
                            mutation.pk,
                            note,
                            self.job.pk,
                            ItemOutcome.IN_FLIGHT,
                            batch[0].batch_token,
                        ],
                    )
                    _tally(self.job.pk, succeeded=cursor.rowcount)
            return
        if mutation.outcome == Outcome.FAILED and mutation.error_kind == ErrorKind.RATE_LIMITED:
            self._pause(mutation.retry_after)
            if self.job.kind == JobKind.CREATE:
                # A create is never sent again by itself (design.md): the person retries it.
                for item in batch:
                    _settle_item(item, ItemOutcome.FAILED, mutation, mutation.error_message)
                _save(self.job.pk, batch)
            else:
                self._requeue(batch)
        elif mutation.outcome == Outcome.FAILED and (
            len(batch) == 1 or mutation.error_kind not in REFUSALS_TO_JUDGE
        ):
            for item in batch:
                _settle_item(item, ItemOutcome.FAILED, mutation, mutation.error_message)
            _save(self.job.pk, batch)
        else:
            self._judge(batch, mutation, recovering)

    def _judge(self, batch: list[_Item], mutation: Mutation, recovering: bool) -> None:
        """Re-read the collection and judge each record: a refused batch of several records,
        an unknown outcome, or a batch whose worker died mid-call."""
        try:
            with _reread_lock:
                collection_refresh(sync_id=mutation.sync_id, collection_id=mutation.collection_id)
                mutation.refresh_from_db()
                findings = mutation_settle(
                    mutation=mutation, ended_unanswered=mutation.outcome == Outcome.PENDING
                )
        except SequinError as exc:
            for item in batch:
                _settle_item(
                    item, ItemOutcome.UNKNOWN, mutation, f"Could not re-read the records: {exc}"
                )
            _save(self.job.pk, batch)
            return
        again = []
        refused = mutation.outcome == Outcome.FAILED
        for item, finding in zip(batch, findings, strict=False):
            if finding.applied:
                item.upstream_id = item.upstream_id or finding.created_upstream_id
                _settle_item(item, ItemOutcome.SUCCEEDED, mutation, f"Applied: {finding.note}")
            elif recovering and self.job.kind != JobKind.CREATE:
                # The worker died before the answer and the re-read shows nothing applied:
                # an update or delete is safe to send again; a create is not (it may land
                # late and would then be made twice).
                again.append(item)
            elif refused:
                _settle_item(
                    item,
                    ItemOutcome.FAILED,
                    mutation,
                    f"Not applied ({finding.note}) The batch was refused: {mutation.error_message}",
                )
            else:
                _settle_item(item, ItemOutcome.FAILED, mutation, f"Not applied: {finding.note}")
        _save(self.job.pk, [i for i in batch if i not in again], requeued=again)

    def _requeue(self, batch: list[_Item]) -> None:
        _save(self.job.pk, [], requeued=batch)

    def _pause(self, retry_after: float | None) -> None:
        with self._pause_lock:
            until = time.monotonic() + (retry_after if retry_after is not None else 1.0)
            self._paused_until = max(self._paused_until, until)

    def _finish(self) -> None:
        if self.lease_lost.is_set():
            return  # another run holds the job now
        with transaction.atomic():
            job = Job.objects.select_for_update().get(pk=self.job.pk)
            if job.lease != self.lease:
                return
            if job.state == JobState.CANCELLING:
                _cancel_pending(job.pk)
                job.state = JobState.CANCELLED
            elif not job.items.filter(outcome__in=[ItemOutcome.PENDING, ItemOutcome.IN_FLIGHT]):
                job.state = JobState.DONE
            else:
                return  # left unfinished by a fault; the stale sweep takes it up again
            job.finished_at = timezone.now()
            job.lease = None
            job.save(update_fields=["state", "finished_at", "lease"])
        # The increments are kept in step with the items; the count at the end is read from
        # the items all the same, once, so a job's final numbers never depend on them.
        _recount(job.pk)


@dataclass(eq=False)  # one item is one object: `in` and `==` by identity
class _Item:
    """A job's item as a run handles it: plain values, not a model instance (100 instances
    a batch, and their JSON, cost more than the queries that read them)."""

    pk: int
    position: int
    upstream_id: str
    data: dict[str, Any]
    batch_token: str
    outcome: str = ItemOutcome.IN_FLIGHT
    mutation_id: int | None = None
    message: str = ""


_JOBS = Job._meta.db_table
_ITEMS = JobItem._meta.db_table
_COUNTS = ("sent", "succeeded", "failed", "unknown", "cancelled")


def _record_of(item: _Item) -> dict[str, Any]:
    if item.upstream_id:
        return {"upstream_id": item.upstream_id, "data": item.data}
    return {"data": item.data}


def _settle_item(item: _Item, outcome: str, mutation: Mutation, message: str) -> None:
    item.outcome = outcome
    item.mutation_id = mutation.pk
    item.message = message


def _save(job_id: int, items: Sequence[_Item], requeued: Sequence[_Item] = ()) -> None:
    """Items that were in flight: `items` with the outcomes given them, `requeued` back to
    pending (no longer sent); the job's counts moved by as much, in the same commit (the
    caller's, when it has one)."""
    with transaction.atomic(savepoint=False):
        rows_update(
            JobItem,
            ("outcome", "mutation", "message", "upstream_id"),
            [(i.pk, (i.outcome, i.mutation_id, i.message, i.upstream_id)) for i in items],
        )
        if requeued:
            JobItem.objects.filter(pk__in=[i.pk for i in requeued]).update(
                outcome=ItemOutcome.PENDING,
                batch_token="",  # nosec B106 # a batch's key in the journal, not a secret
            )
        ended = Counter(i.outcome for i in items)
        _tally(
            job_id,
            sent=-len(requeued),
            succeeded=ended[ItemOutcome.SUCCEEDED],
            failed=ended[ItemOutcome.FAILED],
            unknown=ended[ItemOutcome.UNKNOWN],
        )


def _tally(job_id: int, **moved: int) -> None:
    """Move the job's counts by `moved` (count name -> items added, or taken when negative),
    in the caller's transaction with the items' change: no grouped count over a job's items
    (which grows with the job) for every batch."""
    if not set(moved) <= set(_COUNTS):
        raise ValueError(f"Not a count of a job: {sorted(set(moved) - set(_COUNTS))}")
    changes = [(name, moved[name]) for name in _COUNTS if moved.get(name)]
    if not changes:
        return
    # Plain SQL: twice a batch, and the ORM's UPDATE with F() costs more than the statement.
    assignments = ", ".join(f"{name} = {name} + %s" for name, _ in changes)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {_JOBS} SET {assignments} WHERE id = %s",  # nosec B608 # the model's names
            [*(n for _, n in changes), job_id],
        )


def _cancel_pending(job_id: int) -> None:
    JobItem.objects.filter(job_id=job_id, outcome=ItemOutcome.PENDING).update(
        outcome=ItemOutcome.CANCELLED, message="Cancelled before it was sent."
    )


def _recount(job_id: int) -> None:
    """The job's counts from its items: one grouped read, one write (when a run starts and
    ends, and on a cancel; between them `_tally` keeps them)."""
    counts = dict(
        JobItem.objects.filter(job_id=job_id)
        .order_by()
        .values("outcome")
        .annotate(n=Count("id"))
        .values_list("outcome", "n")
    )
    Job.objects.filter(pk=job_id).update(
        sent=sum(counts.get(o, 0) for o in SENT),
        succeeded=counts.get(ItemOutcome.SUCCEEDED, 0),
        failed=counts.get(ItemOutcome.FAILED, 0),
        unknown=counts.get(ItemOutcome.UNKNOWN, 0),
        cancelled=counts.get(ItemOutcome.CANCELLED, 0),
    )


def job_scope(kwargs: Mapping[str, Any]) -> Scope | None:
    """For `@role_required` on `/jobs/<job_id>/...`: the job's collection."""
    found = Job.objects.filter(pk=kwargs["job_id"]).values_list("sync_id", "collection_id").first()
    return None if found is None else Scope(sync_id=found[0], collection_id=found[1])
