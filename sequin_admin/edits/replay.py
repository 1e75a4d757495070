"""Retry and revert: new attempts built from a journaled one, through the conflict check.

Whether an attempt may be retried or reverted is the attempt's own property
(`Mutation.retryable`, `Mutation.revertible`), so the history can ask without this module.

Both re-read the collection first (raising SequinError when they cannot: nothing is sent
blind), send only what the upstream does not already hold, and link the new attempt to the
original in the journal.

A person confirms before anything is sent on their behalf: `replay_plan` says exactly what
would be sent (the request and each field's from → to) with a signed one-time `token`;
`replay_confirm` sends it only if the plan, made again, is still the one confirmed, and at
most once per token (a double click finds the first attempt).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from django.core import signing

from sequin_admin.mutations.journal import Seen
from sequin_admin.mutations.models import Kind, Mutation, Source
from sequin_admin.mutations.run import User, mutation_run
from sequin_admin.mutations.selectors import mutation_for_form
from sequin_admin.records.index import index_get
from sequin_admin.records.models import IndexedRecord
from sequin_admin.records.refresh import collection_refresh
from sequin_admin.records.values import fields_differing
from sequin_admin.sequin import MutationRequest
from sequin_admin.sequin.types import MutationKind

from .conflicts import Conflict, conflicts_for

Action = Literal["retry", "revert"]
# ready: the plan waits for the person's confirmation; changed: the plan is no longer the one
# confirmed (nothing sent, confirm again); duplicate: the confirmation was used before.
ReplayStatus = Literal["ready", "changed", "sent", "duplicate", "conflict", "nothing", "refused"]
CATCH_UP_SECONDS = 5.0
CONFIRM_SALT = "sequin_admin.edits.replay.confirm"


@dataclass(frozen=True)
class FieldDiff:
    """One field a replay would write: from what the upstream holds now, to what is sent.
    A delete has one row per record, with no field."""

    upstream_id: str
    field: str
    before: Any
    had_before: bool
    after: Any = None


@dataclass
class Replay:
    status: ReplayStatus
    mutation: Mutation | None = None
    conflicts: list[Conflict] = field(default_factory=list)
    message: str = ""
    request: MutationRequest | None = None
    diff: list[FieldDiff] = field(default_factory=list)
    # The signed confirmation of a ready (or changed) plan: what `replay_confirm` takes.
    token: str = ""
    seen: dict[str, Seen] = field(default_factory=dict)


def replay_plan(
    *, mutation: Mutation, action: Action, keep_mine: Collection[str] | None = None
) -> Replay:
    """What a retry or revert would send now, to be confirmed; sends nothing.
    Raises SequinError when the collection cannot be re-read."""
    plan = _plan(mutation, action, keep_mine)
    if plan.status == "ready" and plan.request is not None:
        plan.token = _sign(mutation, action, keep_mine, plan.request)
    return plan


def replay_confirm(*, mutation: Mutation, action: Action, user: User, token: str) -> Replay:
    """Send the plan the person confirmed with `token`, at most once per token, and only if
    it is still what they saw. Raises SequinError when the collection cannot be re-read."""
    confirmed = _unsign(token, mutation, action)
    form_token = f"{action}:{confirmed['n']}" if confirmed is not None else ""
    if form_token and (first := mutation_for_form(form_token=form_token)):
        return _already_sent(first)
    if refused := _refusal(mutation, action):
        return refused
    if confirmed is None:
        return Replay("refused", message="This confirmation is not valid: open it again.")
    keep_mine = set(confirmed["k"]) if confirmed["k"] is not None else None
    plan = _plan(mutation, action, keep_mine)
    if plan.status != "ready" or plan.request is None:
        return plan
    if _digest(plan.request) != confirmed["d"]:
        plan.status = "changed"
        plan.token = _sign(mutation, action, keep_mine, plan.request)
        changed = "The upstream changed since you looked: nothing was sent. Check again."
        plan.message = f"{changed} {plan.message}".strip()
        return plan
    return _send(
        plan,
        mutation,
        user,
        Source.RETRY if action == "retry" else Source.REVERT,
        form_token=form_token,
    )


def mutation_retry(
    *, mutation: Mutation, user: User, keep_mine: Collection[str] | None = None
) -> Replay:
    """Send the same payload again at once (no confirmation: for callers that confirmed
    otherwise). `keep_mine` holds "upstream_id.field" choices made after a conflict;
    without it, any record that moved on upstream stops the retry."""
    plan = _plan(mutation, "retry", keep_mine)
    return _send(plan, mutation, user, Source.RETRY) if plan.status == "ready" else plan


def mutation_revert(*, mutation: Mutation, user: User) -> Replay:
    """Put back the before-values of the fields nobody has changed since, at once."""
    plan = _plan(mutation, "revert", None)
    return _send(plan, mutation, user, Source.REVERT) if plan.status == "ready" else plan


def _plan(mutation: Mutation, action: Action, keep_mine: Collection[str] | None) -> Replay:
    if refused := _refusal(mutation, action):
        return refused
    return _retry_plan(mutation, keep_mine) if action == "retry" else _revert_plan(mutation)


def _refusal(mutation: Mutation, action: Action) -> Replay | None:
    """Why the attempt cannot be retried or reverted at all, before reading Sequin."""
    if action == "retry" and not mutation.retryable:
        return Replay("refused", message="Only a failed or unknown attempt can be retried.")
    if action == "revert" and not mutation.revertible:
        by = next((r for r in mutation.reverts.all() if r.applied), None)
        if by is not None:
            return Replay("refused", message=f"Already reverted by mutation #{by.pk}.")
        return Replay("refused", message="Only an applied update can be reverted.")
    return None


def _already_sent(first: Mutation) -> Replay:
    return Replay(
        "duplicate",
        mutation=first,
        message=f"This was already sent as mutation #{first.pk}: nothing was sent again.",
    )


def _retry_plan(mutation: Mutation, keep_mine: Collection[str] | None) -> Replay:
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
        return Replay(
            "ready",
            request=request,
            seen={uid: Seen(data=r.data, updated_idx=r.updated_idx) for uid, r in live.items()},
            diff=[FieldDiff(uid, "", r.data, True) for uid, r in live.items()],
        )

    records: list[dict[str, Any]] = []
    seen: dict[str, Seen] = {}
    diff: list[FieldDiff] = []
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
        holds = current.data if current is not None else original
        diff += [
            FieldDiff(record.upstream_id, k, holds.get(k), k in holds, v)
            for k, v in changes.items()
        ]
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
    return Replay("ready", request=request, seen=seen, diff=diff)


def _revert_plan(mutation: Mutation) -> Replay:
    _catch_up(mutation)
    records: list[dict[str, Any]] = []
    seen: dict[str, Seen] = {}
    diff: list[FieldDiff] = []
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
            diff += [
                FieldDiff(record.upstream_id, k, current.data.get(k), k in current.data, v)
                for k, v in data.items()
            ]
    note = f"Left as they are: {'; '.join(left)}." if left else ""
    if not records:
        return Replay("nothing", message=note or "Nothing to put back.")
    request = MutationRequest(
        kind="update",
        sync_id=mutation.sync_id,
        collection_id=mutation.collection_id,
        records=tuple(records),
    )
    return Replay("ready", request=request, seen=seen, diff=diff, message=note)


def _digest(request: MutationRequest) -> str:
    body = json.dumps(request.body(), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(body.encode()).hexdigest()


def _sign(
    mutation: Mutation, action: Action, keep_mine: Collection[str] | None, request: MutationRequest
) -> str:
    payload = {
        "m": mutation.pk,
        "a": action,
        "n": secrets.token_urlsafe(16),
        "k": sorted(keep_mine) if keep_mine is not None else None,
        "d": _digest(request),
    }
    return signing.dumps(payload, salt=CONFIRM_SALT, compress=True)


def _unsign(token: str, mutation: Mutation, action: Action) -> dict[str, Any] | None:
    try:
        payload = signing.loads(token, salt=CONFIRM_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(payload, dict) or (payload.get("m"), payload.get("a")) != (
        mutation.pk,
        action,
    ):
        return None
    return payload


def _send(
    plan: Replay, original: Mutation, user: User, source: Source, form_token: str | None = None
) -> Replay:
    if plan.request is None:  # a ready plan always carries its request
        raise RuntimeError("a replay without a request cannot be sent")
    retry = source == Source.RETRY
    new, is_new = mutation_run(
        request=plan.request,
        user=user,
        source=source,
        seen=plan.seen,
        form_token=form_token,
        retry_of=original if retry else None,
        revert_of=None if retry else original,
    )
    if not is_new:  # a second post raced the first past the check in replay_confirm
        return _already_sent(new)
    return Replay("sent", mutation=new, request=plan.request, diff=plan.diff, message=plan.message)


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
