"""The only writer of the journal.

`journal_start` writes the attempt as pending before the HTTP call, so a process that dies
during the call still leaves a trace; `journal_finish` completes it with the true outcome;
`journal_reconcile` records what a later re-read found for an unknown outcome.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import connection, transaction
from django.utils import timezone

from sequin_admin.bulk_rows import rows_insert, rows_update
from sequin_admin.planner_statistics import statistics_note_writes
from sequin_admin.sequin import ErrorKind, MutationRequest, MutationResult, SequinError

from .models import (
    FieldChange,
    Mutation,
    MutationRecord,
    Outcome,
    Reconciliation,
    Source,
    group_fields_text,
)

MAX_RESPONSE_CHARS = 20_000


def outcome_of(error: SequinError) -> Outcome:
    """The journal's outcome for an error: only an answer that rules a write out is failed."""
    if error.kind == ErrorKind.CONSUMERS_UNCONFIRMED:
        return Outcome.CONSUMERS_UNCONFIRMED
    return Outcome.UNKNOWN if error.may_have_landed else Outcome.FAILED


@dataclass(frozen=True)
class Seen:
    """A record as the person saw it when they asked for the change."""

    data: Mapping[str, Any] = field(default_factory=dict)
    updated_idx: int | None = None


def journal_start(
    *,
    request: MutationRequest,
    user: AbstractBaseUser | AnonymousUser | None,
    source: Source,
    seen: Mapping[str, Seen],
    form_token: str | None = None,
    group_id: Any = None,
    retry_of: Mutation | None = None,
    revert_of: Mutation | None = None,
    consumer_names: Mapping[str, str] | None = None,
) -> Mutation:
    """`consumer_names` names the awaited consumers (id -> name); a retry takes its
    original's. Raises IntegrityError when `form_token` was used before (the caller looks
    it up)."""
    names = dict(consumer_names or (retry_of.await_consumer_names if retry_of else {}))
    real_user = user if isinstance(user, get_user_model()) and user.is_authenticated else None
    if request.kind == "delete":
        items: list[tuple[str, dict[str, Any]]] = [(u, {}) for u in request.upstream_ids]
    else:
        items = [
            (str(item.get("upstream_id") or ""), dict(item.get("data") or {}))
            for item in request.records
        ]
    changed = {name for _, data in items for name in data}
    with transaction.atomic():
        kept = ""
        if group_id is not None:
            _group_lock(group_id)
            # The group's fields so far, from the attempt about to be its latest no more.
            kept = "".join(
                Mutation.objects.filter(group_id=group_id, latest_of_group=True).values_list(
                    "group_fields", flat=True
                )
            )
        mutation = Mutation.objects.create(
            user=real_user,
            username=real_user.get_username() if real_user else "",
            source=source,
            kind=request.kind,
            sync_id=request.sync_id,
            collection_id=request.collection_id,
            request_body=request.body(),
            await_consumer_ids=list(request.await_consumer_ids),
            await_consumer_names={i: names[i] for i in request.await_consumer_ids if names.get(i)},
            form_token=form_token,
            group_id=group_id,
            group_fields=group_fields_text(changed, kept=kept),
            retry_of=retry_of,
            revert_of=revert_of,
        )
        statistics_note_writes(table=Mutation._meta.db_table, rows=1)
        if group_id is not None:
            # This attempt is its group's latest now (the field's default); the one before
            # it no longer is.
            Mutation.objects.filter(
                group_id=group_id, latest_of_group=True, id__lt=mutation.pk
            ).update(latest_of_group=False)
        # One INSERT for the records and one for their fields, whatever the batch's size:
        # a bulk job journals 100 records per attempt (bench/jobs.py).
        befores = [seen.get(upstream_id, Seen()) for upstream_id, _ in items]
        # A delete sends no field: its records keep the whole record as the person saw it.
        deleting = request.kind == "delete"
        record_ids = rows_insert(
            MutationRecord,
            ("mutation", "upstream_id", "before_updated_idx", "before_data"),
            [
                (
                    mutation.pk,
                    upstream_id,
                    before.updated_idx,
                    dict(before.data) if deleting else None,
                )
                for (upstream_id, _), before in zip(items, befores, strict=True)
            ],
        )
        change_ids = rows_insert(
            FieldChange,
            ("record", "field", "before", "had_before", "sent"),
            [
                (record_id, name, before.data.get(name), name in before.data, value)
                for record_id, (_, data), before in zip(record_ids, items, befores, strict=True)
                for name, value in data.items()
            ],
        )
    # What was just written, for journal_finish to complete without reading it back.
    fields_of = iter(change_ids)
    mutation._journal_written = [  # type: ignore[attr-defined]
        _Written(record_id, upstream_id, [(next(fields_of), name) for name in data])
        for record_id, (upstream_id, data) in zip(record_ids, items, strict=True)
    ]
    return mutation


_FINISHED_FIELDS = (
    "finished_at",
    "duration_ms",
    "outcome",
    "response_status",
    "attempts",
    "response_body",
    "error_kind",
    "error_title",
    "error_message",
    "retry_after",
)


def _group_lock(group_id: Any) -> None:
    """Until the transaction ends, the only one journaling an attempt of this group: a job's
    threads journal its batches at once, and each must see the one before it committed to
    mark it no longer latest (on PostgreSQL; SQLite's writers already take turns, see
    sequin_admin.sqlite)."""
    if connection.vendor == "postgresql":
        key = uuid.UUID(str(group_id)).int % 2**63  # advisory lock keys are signed bigints
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def journal_finish(
    *,
    mutation: Mutation,
    duration_ms: int,
    result: MutationResult | None = None,
    error: SequinError | None = None,
    unexpected: BaseException | None = None,
) -> Mutation:
    mutation.finished_at = timezone.now()
    mutation.duration_ms = duration_ms
    if result is not None:
        mutation.outcome = Outcome.SUCCEEDED
        mutation.response_status = result.status
        mutation.attempts = result.attempts
        mutation.response_body = _json_head(result.body, MAX_RESPONSE_CHARS)
    elif error is not None:
        mutation.outcome = outcome_of(error)
        mutation.response_status = error.status
        mutation.response_body = error.body_text[:MAX_RESPONSE_CHARS]
        mutation.error_kind = error.kind
        mutation.error_title = error.title
        mutation.error_message = error.message
        mutation.retry_after = getattr(error, "retry_after", None)
    else:
        # A fault of our own after the request left: whether it landed is not known.
        mutation.outcome = Outcome.UNKNOWN
        mutation.error_kind = ErrorKind.UNKNOWN
        mutation.error_title = "The admin failed while sending"
        mutation.error_message = f"{type(unexpected).__name__}: {unexpected}"
    with transaction.atomic():
        # Only what an answer sets: the request's body (a batch's worth) is not written again.
        mutation.save(update_fields=_FINISHED_FIELDS)
        if result is not None:
            _store_returned(mutation, result)
    return mutation


def _json_head(value: Any, limit: int) -> str:
    """The first `limit` characters of the value as indented JSON, encoding no further: a
    batch's answer can be many times the limit."""
    parts: list[str] = []
    size = 0
    for part in json.JSONEncoder(indent=2).iterencode(value):
        parts.append(part)
        size += len(part)
        if size >= limit:
            break
    return "".join(parts)[:limit]


@dataclass(frozen=True)
class _Written:
    """A journaled record of an attempt: its id, upstream id and its fields' (id, name)."""

    record_id: int
    upstream_id: str
    changes: list[tuple[int, str]]


def _written_of(mutation: Mutation) -> list[_Written]:
    """The attempt's records as journal_start wrote them, from the journal (two queries)."""
    changes: dict[int, list[tuple[int, str]]] = {}
    for change_id, record_id, name in FieldChange.objects.filter(
        record__mutation=mutation
    ).values_list("id", "record_id", "field"):
        changes.setdefault(record_id, []).append((change_id, name))
    return [
        _Written(record_id, upstream_id, changes.get(record_id, []))
        for record_id, upstream_id in mutation.records.values_list("id", "upstream_id")
    ]


def _store_returned(mutation: Mutation, result: MutationResult) -> None:
    written: list[_Written] | None = getattr(mutation, "_journal_written", None)
    if written is None:
        written = _written_of(mutation)
    by_upstream_id = {r.upstream_id: r for r in result.records}
    answered: list[tuple[int, tuple[str, int | None, dict[str, Any]]]] = []
    changes: list[tuple[int, tuple[bool, Any]]] = []
    for position, record in enumerate(written):
        returned = by_upstream_id.get(record.upstream_id)
        if returned is None and not record.upstream_id and position < len(result.records):
            returned = result.records[position]  # a create: answers come in request order
        if returned is None:
            continue
        upstream_id = record.upstream_id or returned.upstream_id
        answered.append((record.record_id, (upstream_id, returned.updated_idx, returned.data)))
        changes += [
            (change_id, (name in returned.data, returned.data.get(name)))
            for change_id, name in record.changes
        ]
    rows_update(MutationRecord, ("upstream_id", "returned_updated_idx", "returned_data"), answered)
    rows_update(FieldChange, ("has_returned", "returned"), changes)


def journal_reconcile(
    *, mutation: Mutation, verdict: Reconciliation, note: str, ended_unanswered: bool = False
) -> Mutation:
    if ended_unanswered:
        mutation.outcome = Outcome.UNKNOWN
        mutation.error_kind = ErrorKind.UNKNOWN
        mutation.error_title = "No answer was recorded"
        mutation.error_message = "The process ended while the request was under way."
    mutation.reconciliation = verdict
    mutation.reconciliation_note = note
    mutation.reconciled_at = timezone.now()
    mutation.save()
    return mutation
