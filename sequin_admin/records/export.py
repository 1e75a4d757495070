"""Export what the collection page lists: every matching record, in its order, as CSV or JSON.

Streamed a keyset page at a time (the listing's own pages, so the order is the page's and
each chunk is an index range scan): memory stays flat in the number of rows, and no cursor is
held open between chunks.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any, Literal

from django.core.serializers.json import DjangoJSONEncoder

from sequin_admin.spreadsheet import spreadsheet_cell

from .fields import FieldKind
from .listing import ListingQuery, index_page
from .models import IndexedRecord

ExportFormat = Literal["csv", "json"]
EXPORT_FORMATS: tuple[ExportFormat, ...] = ("csv", "json")
EXPORT_CHUNK = 1_000


def export_rows(
    *,
    sync_id: str,
    collection_id: str,
    query: ListingQuery,
    field_kinds: Mapping[str, FieldKind] | None = None,
    chunk: int | None = None,
) -> Iterator[IndexedRecord]:
    """Every record the query lists, from its first page to its last, whatever page it is on."""
    chunk = chunk or EXPORT_CHUNK
    query = replace(query, after=None, before=None, last=False)
    while True:
        page = index_page(
            sync_id=sync_id,
            collection_id=collection_id,
            query=query,
            field_kinds=field_kinds,
            limit=chunk,
        )
        yield from page.rows
        if not page.next_key:
            return
        query = replace(query, after=page.next_key)


def _csv_text(value: Any) -> Any:
    """A value as one CSV cell: text as it is, null as nothing, the rest as JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return spreadsheet_cell(value)
    if isinstance(value, bool | dict | list):
        return spreadsheet_cell(json.dumps(value, ensure_ascii=False))
    return value


def export_csv(rows: Iterator[IndexedRecord], columns: Sequence[str]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow([spreadsheet_cell(c) for c in ("upstream_id", *columns, "deleted")])
    yield flush()
    for number, row in enumerate(rows, start=1):
        writer.writerow(
            [
                spreadsheet_cell(row.upstream_id),
                *(_csv_text(row.data.get(c)) for c in columns),
                "true" if row.deleted else "false",
            ]
        )
        if number % 100 == 0:
            yield flush()
    yield flush()


def export_json(rows: Iterator[IndexedRecord], columns: Sequence[str]) -> Iterator[str]:
    """A JSON array of {"upstream_id", "deleted", "data"}, `data` holding the chosen columns
    (those a record has)."""
    yield "["
    separator = "\n"
    for row in rows:
        item = {
            "upstream_id": row.upstream_id,
            "deleted": row.deleted,
            "data": {c: row.data[c] for c in columns if c in row.data},
        }
        yield separator + json.dumps(item, cls=DjangoJSONEncoder, ensure_ascii=False)
        separator = ",\n"
    yield "\n]\n"
