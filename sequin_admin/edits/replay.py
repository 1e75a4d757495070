"""Retry and revert: new attempts built from a journaled one, through the conflict check.

Whether an attempt may be retried or reverted is the attempt's own property
(`Mutation.retryable`, `Mutation.revertible`), so the history can ask without this module.

Both re-read the collection first (raising SequinError when they cannot: nothing is sent
blind), send only what the upstream does not already hold, and link the new attempt to the
original in the journal.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from sequin_admin.mutations.journal import Seen
from sequin_admin.mutations.models import Kind, Mutation, Source
from sequin_admin.mutations.run import User, mutation_run
from sequin_admin.records.index import index_get
from sequin_admin.records.models import IndexedRecord
from sequin_admin.records.refresh import collection_refresh
from sequin_admin.records.values import fields_differing
from sequin_admin.sequin import MutationRequest
from sequin_admin.sequin.types import MutationKind

from .conflicts import Conflict, conflicts_for

ReplayStatus = Literal["sent", "conflict", "nothing", "refused"]
CATCH_UP_SECONDS = 5.0


@dataclass
class Replay:
    status: ReplayStatus
    mutation: Mutation | None = None
    conflicts: list[Conflict] = field(default_factory=list)
    message: str = ""


def mutation_retry(
    *, mutation: Mutation, user: User, keep_mine: Collection[str] | None = None
) -> Replay:
    """Send the same payload again. `keep_mine` holds "upstream_id.field" choices made
    after a conflict; without it, any record that moved on upstream stops the retry."""
    if not mutation.retryable:
        return Replay("refused", message="Only a failed or unknown attempt can be retried.")
    _catch_up(mutation)
    if mutation.kind == Kind.DELETE:
        ids = [r.upstream_id for r in mutation.records.all()]
        live = {uid: r for uid in ids if (r := _current(mutation, uid)) and not r.deleted}
        if not live:
            return Replay("nothing", message="Every record is already deleted.")
        request = MutationRequest(
            kind="delete",
            sync_id=mutation.sync_id,
            collection_id=mutation.collection_id,
            upstream_ids=tuple(live),
        )
        return _send(
            request,
            mutation,
            user,
            {uid: Seen(data=r.data, updated_idx=r.updated_idx) for uid, r in live.items()},
            Source.RETRY,
        )

    records: list[dict[str, Any]] = []
    seen: dict[str, Seen] = {}
    conflicts: list[Conflict] = []
    for record in mutation.records.prefetch_related("changes"):
        changes = {c.field: c.sent for c in record.changes.all()}
        original = {c.field: c.before for c in record.changes.all() if c.had_before}
        current = _current(mutation, record.upstream_id) if record.upstream_id else None
        if current is not None:
            changes = fields_differing(base=current.data, wanted=changes)
            moved = (
                record.before_updated_idx is not None
                and current.updated_idx > record.before_updated_idx
            )
            if changes and moved:
                if keep_mine is None:
                    conflicts += conflicts_for(
                        original=original,
                        changes=changes,
                        current=current.data,
                        upstream_id=record.upstream_id,
                    )
                    continue
                changes = {
                    k: v for k, v in changes.items() if f"{record.upstream_id}.{k}" in keep_mine
                }
        if not changes:
            continue
        item: dict[str, Any] = {"data": changes}
        if record.upstream_id:
            item = {"upstream_id": record.upstream_id, "data": changes}
            seen[record.upstream_id] = (
                Seen(data=current.data, updated_idx=current.updated_idx)
                if current is not None
                else Seen(data=original, updated_idx=record.before_updated_idx)
            )
        records.append(item)
    if conflicts:
        return Replay("conflict", conflicts=conflicts)
    if not records:
        return Replay("nothing", message="The upstream already holds every value: nothing to send.")
    request = MutationRequest(
        kind=cast("MutationKind", mutation.kind),  # Kind's values are the client's kinds
        sync_id=mutation.sync_id,
        collection_id=mutation.collection_id,
        records=tuple(records),
        await_consumer_ids=tuple(mutation.await_consumer_ids),
        await_consumers_timeout=mutation.request_body.get("await_consumers_timeout"),
    )
    return _send(request, mutation, user, seen, Source.RETRY)


def mutation_revert(*, mutation: Mutation, user: User) -> Replay:
    """Put back the before-values of the fields nobody has changed since."""
    if not mutation.revertible:
        return Replay("refused", message="Only an applied update can be reverted.")
    _catch_up(mutation)
    records: list[dict[str, Any]] = []
    seen: dict[str, Seen] = {}
    left: list[str] = []
    for record in mutation.records.prefetch_related("changes"):
        current = _current(mutation, record.upstream_id)
        if current is None:
            left.append(f"{record.upstream_id} is no longer listed")
            continue
        changes = list(record.changes.all())
        moved = fields_differing(base=current.data, wanted={c.field: c.sent for c in changes})
        left += [f"{record.upstream_id} {name} changed since" for name in moved]
        data = {
            c.field: c.before if c.had_before else None for c in changes if c.field not in moved
        }
        if data:
            records.append({"upstream_id": record.upstream_id, "data": data})
            seen[record.upstream_id] = Seen(data=current.data, updated_idx=current.updated_idx)
    note = f"Left as they are: {'; '.join(left)}." if left else ""
    if not records:
        return Replay("nothing", message=note or "Nothing to put back.")
    request = MutationRequest(
        kind="update",
        sync_id=mutation.sync_id,
        collection_id=mutation.collection_id,
        records=tuple(records),
    )
    replay = _send(request, mutation, user, seen, Source.REVERT)
    replay.message = note
    return replay


def _send(
    request: MutationRequest, original: Mutation, user: User, seen: dict[str, Seen], source: Source
) -> Replay:
    retry = source == Source.RETRY
    new, _ = mutation_run(
        request=request,
        user=user,
        source=source,
        seen=seen,
        retry_of=original if retry else None,
        revert_of=None if retry else original,
    )
    return Replay("sent", mutation=new)


def _catch_up(mutation: Mutation) -> None:
    collection_refresh(
        sync_id=mutation.sync_id,
        collection_id=mutation.collection_id,
        time_budget=CATCH_UP_SECONDS,
    )


def _current(mutation: Mutation, upstream_id: str) -> IndexedRecord | None:
    return index_get(
        sync_id=mutation.sync_id, collection_id=mutation.collection_id, upstream_id=upstream_id
    )
