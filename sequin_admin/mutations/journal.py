"""The only writer of the journal.

`journal_start` writes the attempt as pending before the HTTP call, so a process that dies
during the call still leaves a trace; `journal_finish` completes it with the true outcome;
`journal_reconcile` records what a later re-read found for an unknown outcome.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import connection, models, transaction
from django.utils import timezone

from sequin_admin.sequin import ErrorKind, MutationRequest, MutationResult, SequinError

from .models import FieldChange, Mutation, MutationRecord, Outcome, Reconciliation, Source

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
    with transaction.atomic():
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
            retry_of=retry_of,
            revert_of=revert_of,
        )
        # One INSERT for the records and one for their fields, whatever the batch's size:
        # a bulk job journals 100 records per attempt (bench/jobs.py).
        if request.kind == "delete":
            MutationRecord.objects.bulk_create(
                MutationRecord(
                    mutation=mutation,
                    upstream_id=upstream_id,
                    before_updated_idx=seen.get(upstream_id, Seen()).updated_idx,
                    before_data=dict(seen.get(upstream_id, Seen()).data),
                )
                for upstream_id in request.upstream_ids
            )
            return mutation
        items = [
            (str(item.get("upstream_id") or ""), dict(item.get("data") or {}))
            for item in request.records
        ]
        records = MutationRecord.objects.bulk_create(
            MutationRecord(
                mutation=mutation,
                upstream_id=upstream_id,
                before_updated_idx=seen.get(upstream_id, Seen()).updated_idx,
            )
            for upstream_id, _ in items
        )
        FieldChange.objects.bulk_create(
            FieldChange(
                record=record,
                field=name,
                before=before.data.get(name),
                had_before=name in before.data,
                sent=value,
            )
            for record, (upstream_id, data) in zip(records, items, strict=True)
            for before in (seen.get(upstream_id, Seen()),)
            for name, value in data.items()
        )
    return mutation


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
        mutation.save()
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


def _store_returned(mutation: Mutation, result: MutationResult) -> None:
    records = list(mutation.records.prefetch_related("changes"))
    by_upstream_id = {r.upstream_id: r for r in result.records}
    answered: list[MutationRecord] = []
    changes: list[FieldChange] = []
    for position, record in enumerate(records):
        returned = by_upstream_id.get(record.upstream_id)
        if returned is None and not record.upstream_id and position < len(result.records):
            returned = result.records[position]  # a create: answers come in request order
        if returned is None:
            continue
        record.upstream_id = record.upstream_id or returned.upstream_id
        record.returned_updated_idx = returned.updated_idx
        record.returned_data = returned.data
        answered.append(record)
        for change in record.changes.all():
            change.has_returned = change.field in returned.data
            change.returned = returned.data.get(change.field)
            changes.append(change)
    _update_each(MutationRecord, answered, ["upstream_id", "returned_updated_idx", "returned_data"])
    _update_each(FieldChange, changes, ["has_returned", "returned"])


def _update_each(model: type[models.Model], rows: list[Any], fields: list[str]) -> None:
    """One UPDATE by primary key per row, sent as one executemany. A bulk job journals 100
    records per attempt; `bulk_update` builds a CASE per field and row, whose Python costs
    many times the database's work (bench/jobs.py)."""
    if not rows:
        return
    meta = model._meta
    columns = [field for field in meta.concrete_fields if field.name in fields]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(c.column)} = %s" for c in columns)
    table, key = quote(meta.db_table), quote(meta.pk.column)
    sql = f"UPDATE {table} SET {assignments} WHERE {key} = %s"  # nosec B608 # model's names
    params = [
        [c.get_db_prep_save(getattr(row, c.attname), connection) for c in columns] + [row.pk]
        for row in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


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
