"""Running mutations: every attempt goes through `mutation_run`, which journals it."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import IntegrityError
from django.db.models import Q, QuerySet
from django.utils import timezone

from sequin_admin.records.index import index_get, index_refresh, index_upsert
from sequin_admin.records.models import IndexedRecord
from sequin_admin.sequin import MutationRequest, SequinError
from sequin_admin.sequin.configured import get_client

from .journal import Seen, journal_finish, journal_reconcile, journal_start
from .models import (
    Kind,
    Mutation,
    MutationRecord,
    Outcome,
    Reconciliation,
    Source,
    unanswered_before,
)

logger = logging.getLogger(__name__)

User = AbstractBaseUser | AnonymousUser | None


def mutation_run(
    *,
    request: MutationRequest,
    user: User,
    source: Source,
    seen: Mapping[str, Seen],
    form_token: str | None = None,
    group_id: uuid.UUID | None = None,
    retry_of: Mutation | None = None,
    revert_of: Mutation | None = None,
) -> tuple[Mutation, bool]:
    """Journal, send, journal the answer, index what came back.

    Returns the attempt and whether it is new: a `form_token` seen before returns the first
    attempt and sends nothing.
    """
    try:
        mutation = journal_start(
            request=request,
            user=user,
            source=source,
            seen=seen,
            form_token=form_token,
            group_id=group_id,
            retry_of=retry_of,
            revert_of=revert_of,
        )
    except IntegrityError:
        if form_token and (first := Mutation.objects.filter(form_token=form_token).first()):
            return first, False
        raise
    started = time.monotonic()
    try:
        result = get_client().run_mutation(request)
    except SequinError as exc:
        journal_finish(mutation=mutation, duration_ms=_ms_since(started), error=exc)
    except Exception as exc:
        logger.exception("Mutation %s failed inside the admin", mutation.pk)
        journal_finish(mutation=mutation, duration_ms=_ms_since(started), unexpected=exc)
    else:
        journal_finish(mutation=mutation, duration_ms=_ms_since(started), result=result)
        index_upsert(records=result.records)
    return mutation, True


def mutation_run_in_batches(
    *,
    kind: str,
    sync_id: str,
    collection_id: str,
    records: Sequence[dict[str, Any]],
    user: User,
    source: Source,
    seen: Mapping[str, Seen],
) -> list[Mutation]:
    """Split an edit of many records by SEQUIN_MAX_RECORDS_PER_MUTATION; one group id."""
    size = settings.SEQUIN_MAX_RECORDS_PER_MUTATION
    group_id = uuid.uuid4()
    attempts = []
    for start in range(0, len(records), size):
        chunk = records[start : start + size]
        request = MutationRequest(
            kind=kind,  # type: ignore[arg-type]
            sync_id=sync_id,
            collection_id=collection_id,
            records=tuple(chunk) if kind != "delete" else (),
            upstream_ids=tuple(r["upstream_id"] for r in chunk) if kind == "delete" else (),
        )
        mutation, _ = mutation_run(
            request=request, user=user, source=source, seen=seen, group_id=group_id
        )
        attempts.append(mutation)
    return attempts


def _ms_since(started: float) -> int:
    return round((time.monotonic() - started) * 1000)


# Unknown outcomes


def mutations_needing_reconciliation(
    *, sync_id: str | None = None, collection_id: str | None = None
) -> QuerySet[Mutation]:
    rows = Mutation.objects.filter(
        Q(outcome=Outcome.UNKNOWN, reconciliation=Reconciliation.NONE)
        | Q(outcome=Outcome.PENDING, created_at__lt=unanswered_before())
    )
    if sync_id:
        rows = rows.filter(sync_id=sync_id)
    if collection_id:
        rows = rows.filter(collection_id=collection_id)
    return rows.order_by("created_at", "id")


def mutation_reconcile(*, mutation: Mutation, refresh: bool = True) -> Mutation:
    """Re-read the records and record whether an unknown attempt was applied.

    Raises SequinError when the records cannot be re-read.
    """
    unanswered = mutation.outcome == Outcome.PENDING
    if unanswered and mutation.created_at >= unanswered_before():
        return mutation  # still in flight
    if not unanswered and mutation.outcome != Outcome.UNKNOWN:
        return mutation
    if refresh:
        index_refresh(
            client=get_client(), sync_id=mutation.sync_id, collection_id=mutation.collection_id
        )
    findings = [_finding(mutation, record) for record in mutation.records.all()]
    applied = [f for f in findings if f[0]]
    if len(applied) == len(findings):
        verdict = Reconciliation.APPLIED
    elif not applied:
        verdict = Reconciliation.NOT_APPLIED
    else:
        verdict = Reconciliation.PARTLY
    note = " ".join(f[1] for f in findings)
    return journal_reconcile(
        mutation=mutation, verdict=verdict, note=note, ended_unanswered=unanswered
    )


def mutations_reconcile(
    *, sync_id: str | None = None, collection_id: str | None = None, refresh: bool = True
) -> list[Mutation]:
    """Reconcile every unknown attempt; each collection is re-read once (or not at all, right
    after a refresh)."""
    pending = list(mutations_needing_reconciliation(sync_id=sync_id, collection_id=collection_id))
    refreshed: set[tuple[str, str]] = set()
    if not refresh:
        refreshed = {(m.sync_id, m.collection_id) for m in pending}
    done = []
    for mutation in pending:
        key = (mutation.sync_id, mutation.collection_id)
        done.append(mutation_reconcile(mutation=mutation, refresh=key not in refreshed))
        refreshed.add(key)
    return done


def _finding(mutation: Mutation, record: MutationRecord) -> tuple[bool, str]:
    changes = list(record.changes.all())
    if mutation.kind == Kind.CREATE:
        return _find_created(mutation, {c.field: c.sent for c in changes})
    current = index_get(
        sync_id=mutation.sync_id,
        collection_id=mutation.collection_id,
        upstream_id=record.upstream_id,
    )
    if current is None:
        return False, f"{record.upstream_id}: not found in Sequin's records."
    if mutation.kind == Kind.DELETE:
        if current.deleted:
            return True, f"{record.upstream_id}: deleted."
        return False, f"{record.upstream_id}: still present."
    if record.before_updated_idx is not None and current.updated_idx == record.before_updated_idx:
        return False, (
            f"{record.upstream_id}: unchanged since it was read (version {current.updated_idx})."
        )
    matching = [c.field for c in changes if current.data.get(c.field) == c.sent]
    if len(matching) == len(changes):
        return (
            True,
            f"{record.upstream_id}: holds every value sent (version {current.updated_idx}).",
        )
    differing = ", ".join(c.field for c in changes if c.field not in matching)
    return False, f"{record.upstream_id}: {differing} differ from what was sent."


def _find_created(mutation: Mutation, sent: dict[str, Any]) -> tuple[bool, str]:
    since = mutation.created_at - timedelta(minutes=5)
    candidates = IndexedRecord.objects.filter(
        sync_id=mutation.sync_id,
        collection_id=mutation.collection_id,
        upstream_created_at__gte=since,
    ).order_by("upstream_created_at")
    for candidate in candidates[:500]:
        if all(candidate.data.get(name) == value for name, value in sent.items()):
            return True, f"created as {candidate.upstream_id}."
    return False, "no record created since the attempt holds the values sent."


def seen_in_index(
    *, sync_id: str, collection_id: str, upstream_ids: Sequence[str]
) -> dict[str, Seen]:
    """What the index holds for these records: the "before" of an edit made without a form."""
    rows = IndexedRecord.objects.filter(
        sync_id=sync_id, collection_id=collection_id, upstream_id__in=upstream_ids
    )
    return {r.upstream_id: Seen(data=r.data, updated_idx=r.updated_idx) for r in rows}


def mutations_prune(*, older_than_days: int, dry_run: bool = False) -> int:
    """Retention: delete attempts older than the cut-off (their records and fields follow)."""
    old = Mutation.objects.filter(created_at__lt=timezone.now() - timedelta(days=older_than_days))
    if dry_run:
        return old.count()
    _, per_model = old.delete()
    return per_model.get(Mutation._meta.label, 0)
