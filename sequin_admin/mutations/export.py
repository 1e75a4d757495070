"""Exports of the journal as CSV and JSON: streamed, a chunk of rows at a time, so memory
stays flat however long the history."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import QuerySet

from sequin_admin.spreadsheet import spreadsheet_cell

from .models import Mutation

EXPORT_CHUNK = 500

CSV_COLUMNS = [
    "mutation_id",
    "created_at",
    "user",
    "source",
    "kind",
    "sync_id",
    "collection_id",
    "upstream_id",
    "field",
    "before",
    "sent",
    "returned",
    "outcome",
    "reconciliation",
    "response_status",
    "error",
    "duration_ms",
    "group_id",
    "retry_of",
    "revert_of",
]


def _export_rows(rows: QuerySet[Mutation]) -> Iterator[Mutation]:
    return rows.order_by("-id").prefetch_related("records__changes").iterator(EXPORT_CHUNK)


def _json_cell(value: Any, present: bool = True) -> str:
    return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False) if present else ""


def _value_cell(value: Any, present: bool = True) -> str:
    """A field's value as JSON text. A JSON string starts with a quote, so only a number
    (`-5`) can start like a formula, and a number is kept a number."""
    text = _json_cell(value, present)
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    return text if is_number else spreadsheet_cell(text)


def csv_rows(m: Mutation) -> Iterator[list[Any]]:
    """One row per field change (one per record for a delete), in CSV_COLUMNS order. Every
    text cell that people or the upstream wrote goes through `spreadsheet_cell`, so nothing
    in an export runs as a formula; the other cells are numbers, dates and our own choices."""
    common = [
        m.pk,
        m.created_at.isoformat(),
        spreadsheet_cell(m.username),
        m.source,
        m.kind,
        spreadsheet_cell(m.sync_id),
        spreadsheet_cell(m.collection_id),
    ]
    tail = [
        m.outcome,
        m.reconciliation,
        m.response_status or "",
        spreadsheet_cell(m.error_message),
        m.duration_ms if m.duration_ms is not None else "",
        m.group_id or "",
        m.retry_of_id or "",
        m.revert_of_id or "",
    ]
    for record in m.records.all():
        changes = list(record.changes.all())
        if not changes:
            yield [*common, spreadsheet_cell(record.upstream_id), "", "", "", "", *tail]
        for c in changes:
            yield [
                *common,
                spreadsheet_cell(record.upstream_id),
                spreadsheet_cell(c.field),
                _value_cell(c.before, c.had_before),
                _value_cell(c.sent),
                _value_cell(c.returned, c.has_returned),
                *tail,
            ]


def export_csv(rows: QuerySet[Mutation]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(CSV_COLUMNS)
    yield flush()
    for m in _export_rows(rows):
        writer.writerows(csv_rows(m))
        yield flush()


def mutation_as_json(m: Mutation) -> dict[str, Any]:
    return {
        "id": m.pk,
        "created_at": m.created_at,
        "finished_at": m.finished_at,
        "duration_ms": m.duration_ms,
        "user": m.username,
        "source": m.source,
        "kind": m.kind,
        "sync_id": m.sync_id,
        "collection_id": m.collection_id,
        "request": m.request_body,
        "outcome": m.outcome,
        "reconciliation": m.reconciliation or None,
        "reconciliation_note": m.reconciliation_note,
        "response_status": m.response_status,
        "error": m.error_message,
        "group_id": m.group_id,
        "retry_of": m.retry_of_id,
        "revert_of": m.revert_of_id,
        "records": [
            {
                "upstream_id": r.upstream_id,
                "before_updated_idx": r.before_updated_idx,
                "returned_updated_idx": r.returned_updated_idx,
                "changes": [
                    {
                        "field": c.field,
                        **({"before": c.before} if c.had_before else {}),
                        "sent": c.sent,
                        **({"returned": c.returned} if c.has_returned else {}),
                    }
                    for c in r.changes.all()
                ],
            }
            for r in m.records.all()
        ],
    }


def export_json(rows: QuerySet[Mutation]) -> Iterator[str]:
    yield "["
    separator = "\n"
    for m in _export_rows(rows):
        yield separator + json.dumps(mutation_as_json(m), cls=DjangoJSONEncoder, ensure_ascii=False)
        separator = ",\n"
    yield "\n]\n"
