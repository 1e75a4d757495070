"""Settling unknown outcomes: did an attempt that got no clear answer reach the upstream?

The index is re-read through `collection_refresh`; every refresh that reaches the end of a
collection settles that collection's unknown attempts against the fresh index (the
`collection_refreshed` receiver below), whoever asked for the refresh.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db.models import Q, QuerySet

from sequin_admin.records.index import index_get
from sequin_admin.records.models import IndexedRecord
from sequin_admin.records.refresh import collection_refresh
from sequin_admin.records.values import fields_differing

from .journal import journal_reconcile
from .models import Kind, Mutation, MutationRecord, Outcome, Reconciliation, unanswered_before

# A created record is looked for among those created this long before the attempt and after.
CREATE_CLOCK_SKEW = timedelta(minutes=5)
CREATE_CANDIDATES = 500


def unsettled(
    *, sync_id: str | None = None, collection_id: str | None = None
) -> QuerySet[Mutation]:
    """Attempts whose outcome is unknown and not yet reconciled, or pending past any answer."""
    rows = Mutation.objects.filter(
        Q(outcome=Outcome.UNKNOWN, reconciliation=Reconciliation.NONE)
        | Q(outcome=Outcome.PENDING, created_at__lt=unanswered_before())
    )
    if sync_id:
        rows = rows.filter(sync_id=sync_id)
    if collection_id:
        rows = rows.filter(collection_id=collection_id)
    return rows.order_by("created_at", "id")


def mutation_reconcile(*, mutation: Mutation) -> Mutation:
    """Re-read the attempt's collection and record whether it was applied ("Check again").

    Raises SequinError when the records cannot be re-read.
    """
    if unsettled().filter(pk=mutation.pk).exists():
        collection_refresh(sync_id=mutation.sync_id, collection_id=mutation.collection_id)
        mutation.refresh_from_db()
    return mutation


def unsettled_reconcile(
    *, sync_id: str | None = None, collection_id: str | None = None
) -> list[Mutation]:
    """Re-read each collection that has unsettled attempts, once; returns those settled."""
    pending = list(unsettled(sync_id=sync_id, collection_id=collection_id))
    for key in dict.fromkeys((m.sync_id, m.collection_id) for m in pending):
        collection_refresh(sync_id=key[0], collection_id=key[1])
    return list(Mutation.objects.filter(pk__in=[m.pk for m in pending]).order_by("id"))


def unsettled_settle(*, sync_id: str, collection_id: str, **_: Any) -> None:
    """Settle the collection's unsettled attempts against the index as it stands now.

    The receiver of `collection_refreshed`; reads no more from Sequin.
    """
    for mutation in unsettled(sync_id=sync_id, collection_id=collection_id):
        mutation_settle(mutation=mutation)


@dataclass(frozen=True)
class RecordFinding:
    """Whether one record of an attempt holds what was sent, by the index as it stands."""

    record: MutationRecord
    applied: bool
    note: str
    # For a create found applied: the record it made.
    created_upstream_id: str = ""


def mutation_findings(*, mutation: Mutation) -> list[RecordFinding]:
    """Each record of the attempt, in request order, judged against the index as it stands
    (refresh the collection first). Writes nothing."""
    return [_finding(mutation, record) for record in mutation.records.prefetch_related("changes")]


def mutation_settle(
    *, mutation: Mutation, ended_unanswered: bool | None = None
) -> list[RecordFinding]:
    """Journal what the index says of every record of the attempt (refresh it first): an
    unknown outcome, one whose process died (`ended_unanswered`, by default when it is still
    pending), or a refused batch of which some records may have been applied."""
    findings = mutation_findings(mutation=mutation)
    applied = [f for f in findings if f.applied]
    if len(applied) == len(findings):
        verdict = Reconciliation.APPLIED
    elif not applied:
        verdict = Reconciliation.NOT_APPLIED
    else:
        verdict = Reconciliation.PARTLY
    if ended_unanswered is None:
        ended_unanswered = mutation.outcome == Outcome.PENDING
    journal_reconcile(
        mutation=mutation,
        verdict=verdict,
        note=" ".join(f.note for f in findings),
        ended_unanswered=ended_unanswered,
    )
    return findings


def _finding(mutation: Mutation, record: MutationRecord) -> RecordFinding:
    sent = {c.field: c.sent for c in record.changes.all()}
    if mutation.kind == Kind.CREATE:
        return _find_created(mutation, record, sent)
    current = index_get(
        sync_id=mutation.sync_id,
        collection_id=mutation.collection_id,
        upstream_id=record.upstream_id,
    )
    if current is None:
        return RecordFinding(record, False, f"{record.upstream_id}: not found in Sequin's records.")
    if mutation.kind == Kind.DELETE:
        if current.deleted:
            return RecordFinding(record, True, f"{record.upstream_id}: deleted.")
        return RecordFinding(record, False, f"{record.upstream_id}: still present.")
    if record.before_updated_idx is not None and current.updated_idx == record.before_updated_idx:
        return RecordFinding(
            record,
            False,
            f"{record.upstream_id}: unchanged since it was read (version {current.updated_idx}).",
        )
    differing = fields_differing(base=current.data, wanted=sent)
    if not differing:
        return RecordFinding(
            record,
            True,
            f"{record.upstream_id}: holds every value sent (version {current.updated_idx}).",
        )
    return RecordFinding(
        record, False, f"{record.upstream_id}: {', '.join(differing)} differ from what was sent."
    )


def _find_created(
    mutation: Mutation, record: MutationRecord, sent: dict[str, Any]
) -> RecordFinding:
    candidates = IndexedRecord.objects.filter(
        sync_id=mutation.sync_id,
        collection_id=mutation.collection_id,
        upstream_created_at__gte=mutation.created_at - CREATE_CLOCK_SKEW,
    ).order_by("upstream_created_at")
    for candidate in candidates[:CREATE_CANDIDATES]:
        if not fields_differing(base=candidate.data, wanted=sent):
            return RecordFinding(
                record, True, f"created as {candidate.upstream_id}.", candidate.upstream_id
            )
    return RecordFinding(
        record, False, "no record created since the attempt holds the values sent."
    )
