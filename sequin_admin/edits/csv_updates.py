"""Updates from a CSV file: one parser and one plan for the upload page and `manage.py mutate`.

The file's header is `upstream_id` plus one column per field to set. An empty cell leaves the
field as it is; a cell holding exactly `NULL_MARKER` sets it to null. Every row is checked
against the record index before anything is sent: what would change (from -> to, per field),
which records already hold the values (left out and counted), and which rows can't go
(unknown or deleted record, a value of the wrong type for the field, a read-only field, an
upstream_id on more than one row).
"""

from __future__ import annotations

import csv
import io
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.utils import timezone

from sequin_admin.records.fields import FieldKind, is_read_only
from sequin_admin.records.models import IndexedRecord
from sequin_admin.records.refresh import collection_state
from sequin_admin.records.values import fields_differing

from .forms import parse_new_value, value_too_long
from .jobs import job_start
from .models import CsvUpdatePlan, Job

# PostgreSQL's COPY marker for null: unlike the word NULL it is never a real value of a field.
NULL_MARKER = r"\N"
ID_COLUMN = "upstream_id"
DELIMITERS = (",", ";", "\t")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}
# Parts of Sequin's record around `data`: a column named so is never a field to write.
ENVELOPE_KEYS = frozenset(
    {
        "sync_id",
        "collection_id",
        "deleted",
        "updated_idx",
        "upstream_created_at",
        "upstream_updated_at",
        "inserted_at",
        "created_at",
    }
)
UTF8_BOM = b"\xef\xbb\xbf"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
User = AbstractBaseUser | AnonymousUser


class CsvRefused(Exception):
    """The file as a whole can't be used; the message says why, for the person."""


@dataclass(frozen=True)
class CsvTable:
    header: tuple[str, ...]
    # (row number counting the header as row 1, cells) for every non-blank data row.
    rows: tuple[tuple[int, tuple[str, ...]], ...]
    delimiter: str

    @property
    def delimiter_name(self) -> str:
        return DELIMITER_NAMES[self.delimiter]


@dataclass(frozen=True)
class CellChange:
    field: str
    before: Any
    after: Any
    had_before: bool = True


@dataclass(frozen=True)
class PlannedUpdate:
    row: int
    upstream_id: str
    changes: tuple[CellChange, ...]

    @property
    def data(self) -> dict[str, Any]:
        return {change.field: change.after for change in self.changes}


@dataclass(frozen=True)
class RefusedRow:
    row: int
    upstream_id: str
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class CsvPlan:
    """What applying the file would do; `records()` is what would be sent, nothing else."""

    sync_id: str
    collection_id: str
    columns: tuple[str, ...]
    delimiter: str
    updates: tuple[PlannedUpdate, ...] = ()
    refused: tuple[RefusedRow, ...] = ()
    unchanged: int = 0
    fields_changed: dict[str, int] = field(default_factory=dict)

    @property
    def row_count(self) -> int:
        return len(self.updates) + len(self.refused) + self.unchanged

    def records(self) -> list[dict[str, Any]]:
        """The update mutation's records: `upstream_id` plus only the fields that change."""
        return [{"upstream_id": u.upstream_id, "data": u.data} for u in self.updates]

    def to_json(self) -> dict[str, Any]:
        """The plan as JSON, to keep server-side between the preview and the confirmation."""
        return asdict(self)

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> CsvPlan:
        return cls(
            sync_id=str(body["sync_id"]),
            collection_id=str(body["collection_id"]),
            columns=tuple(body["columns"]),
            delimiter=str(body["delimiter"]),
            updates=tuple(
                PlannedUpdate(
                    row=int(u["row"]),
                    upstream_id=str(u["upstream_id"]),
                    changes=tuple(CellChange(**c) for c in u["changes"]),
                )
                for u in body["updates"]
            ),
            refused=tuple(
                RefusedRow(
                    row=int(r["row"]),
                    upstream_id=str(r["upstream_id"]),
                    reasons=tuple(r["reasons"]),
                )
                for r in body["refused"]
            ),
            unchanged=int(body["unchanged"]),
            fields_changed=dict(body["fields_changed"]),
        )


def csv_text(raw: bytes) -> str:
    """The file as text: UTF-8, with or without a byte-order mark; anything else refused."""
    if raw.startswith(UTF16_BOMS):
        raise CsvRefused("The file is UTF-16 text. Save it as CSV UTF-8 and upload it again.")
    try:
        return raw.removeprefix(UTF8_BOM).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CsvRefused(
            f"The file is not UTF-8 text (byte {raw[exc.start]:#04x} at position {exc.start}). "
            "Save it as CSV UTF-8 (with or without a byte-order mark) and upload it again."
        ) from exc


def sniff_delimiter(text: str) -> str:
    """The delimiter that splits the header into the most columns, one being `upstream_id`;
    read from the first row only, so quoted commas and line breaks below can't mislead it."""
    best, best_width = ",", 0
    for delimiter in DELIMITERS:
        try:
            header = next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), [])
        except csv.Error:
            continue
        names = [name.strip() for name in header]
        if ID_COLUMN in names and len(names) > best_width:
            best, best_width = delimiter, len(names)
    return best


def csv_read(*, raw: bytes, max_rows: int | None = None) -> CsvTable:
    """Parse the file (quoting, line breaks inside quoted cells, `,` `;` or tab); refuse it
    when it is too big, not UTF-8, malformed, or lacks a usable header."""
    max_bytes = settings.CSV_UPDATE_MAX_BYTES
    if len(raw) > max_bytes:
        raise CsvRefused(too_big_message(len(raw)))
    max_rows = settings.CSV_UPDATE_MAX_ROWS if max_rows is None else max_rows
    text = csv_text(raw)
    if not text.strip():
        raise CsvRefused("The file is empty.")
    delimiter = sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows: list[tuple[int, tuple[str, ...]]] = []
    try:
        header = tuple(name.strip() for name in next(reader))
        for number, cells in enumerate(reader, start=2):
            if not any(cell.strip() for cell in cells):
                continue
            if len(rows) >= max_rows:
                raise CsvRefused(
                    f"The file has more than {max_rows:,} rows; split it into files of at most "
                    f"{max_rows:,} rows."
                )
            rows.append((number, tuple(cells)))
    except csv.Error as exc:
        raise CsvRefused(f"The file is not valid CSV near line {reader.line_num}: {exc}.") from exc
    _check_header(header)
    if not rows:
        raise CsvRefused("The file has a header but no rows.")
    return CsvTable(header=header, rows=tuple(rows), delimiter=delimiter)


def too_big_message(size: int) -> str:
    limit = settings.CSV_UPDATE_MAX_BYTES
    return (
        f"The file is {size:,} bytes; at most {limit:,} bytes are taken. Split it into "
        "smaller files."
    )


def _check_header(header: Sequence[str]) -> None:
    if ID_COLUMN not in header:
        raise CsvRefused(
            f"The first row must be the header: {ID_COLUMN}, then the fields to set "
            f"(found: {', '.join(header) or 'nothing'})."
        )
    if "" in header:
        raise CsvRefused(f"Column {header.index('') + 1} of the header has no name.")
    repeated = sorted(name for name, count in Counter(header).items() if count > 1)
    if repeated:
        raise CsvRefused(f"The header names {', '.join(repeated)} more than once.")
    if len(header) == 1:
        raise CsvRefused(f"The header has only {ID_COLUMN}: add a column per field to set.")


def cell_value(kind: FieldKind, text: str) -> Any:
    """A cell as the field's kind holds it; ValueError says why it can't be."""
    if text == NULL_MARKER:
        return None
    if kind == "integer":
        value = parse_new_value("number", text.strip())
        if not isinstance(value, int):
            raise ValueError(f"{text!r} is not a whole number.")
        return value
    if kind == "number":
        return parse_new_value("number", text.strip())
    if kind == "boolean":
        return parse_new_value("boolean", text)
    if kind == "json":
        return parse_new_value("json", text)
    return text


def column_problem(*, collection_id: str, column: str, kinds: Mapping[str, FieldKind]) -> str:
    """Why no row may set this column, or "" when it is a field people may write.

    Read-only: the provider's own fields (`records.fields.READ_ONLY_KEYS`, e.g. Salesforce's
    Id, CreatedDate and SystemModstamp) and Sequin's record envelope (updated_idx, deleted,
    the timestamps), which is not part of `data` at all.
    """
    if is_read_only(collection_id, column):
        return f"{column} is read-only"
    if column in ENVELOPE_KEYS and column not in kinds:
        return f"{column} is part of Sequin's record, not a field; it is read-only"
    return ""


def csv_plan(*, sync_id: str, collection_id: str, raw: bytes) -> CsvPlan:
    """Read the file and check each row against the index. Raises CsvRefused."""
    table = csv_read(raw=raw)
    columns = tuple(c for c in table.header if c != ID_COLUMN)
    id_at = table.header.index(ID_COLUMN)
    kinds: dict[str, FieldKind] = dict(
        collection_state(sync_id=sync_id, collection_id=collection_id).field_kinds
    )
    ids = [cells[id_at].strip() if id_at < len(cells) else "" for _, cells in table.rows]
    indexed = {
        r.upstream_id: r
        for r in IndexedRecord.objects.filter(
            sync_id=sync_id, collection_id=collection_id, upstream_id__in=set(ids) - {""}
        ).only("upstream_id", "data", "deleted")
    }
    # A field the listing saw only as null is known by its records' keys: a text field.
    for row_data in (r.data for r in indexed.values()):
        for key in row_data:
            kinds.setdefault(key, "text")
    problems = {
        c: column_problem(collection_id=collection_id, column=c, kinds=kinds) for c in columns
    }
    seen_on = Counter(ids)
    updates: list[PlannedUpdate] = []
    refused: list[RefusedRow] = []
    unchanged = 0
    fields_changed: Counter[str] = Counter()
    for (row, cells), upstream_id in zip(table.rows, ids, strict=True):
        reasons: list[str] = []
        if len(cells) != len(table.header):
            reasons.append(f"has {len(cells)} cells where the header has {len(table.header)}")
        record = indexed.get(upstream_id)
        if not upstream_id:
            reasons.append("has no upstream_id")
        elif seen_on[upstream_id] > 1:
            reasons.append(f"{upstream_id} is on {seen_on[upstream_id]} rows of the file")
        elif record is None:
            reasons.append(f"no record {upstream_id} in the index (refresh the collection?)")
        elif record.deleted:
            reasons.append(f"record {upstream_id} is deleted")
        wanted: dict[str, Any] = {}
        for column, text in zip(table.header, cells, strict=False):
            if column == ID_COLUMN or text == "":
                continue  # an empty cell leaves the field as it is
            if problems[column]:
                reasons.append(problems[column])
                continue
            kind = kinds.get(column)
            if kind is None:
                reasons.append(f"{column} is not a field of {collection_id} records")
                continue
            try:
                value = cell_value(kind, text)
            except ValueError as exc:
                reasons.append(f"{column}: {exc} (a {kind} field)")
                continue
            if too_long := value_too_long(value):
                reasons.append(f"{column}: {too_long}")
            wanted[column] = value
        if reasons or record is None:
            refused.append(RefusedRow(row=row, upstream_id=upstream_id, reasons=tuple(reasons)))
            continue
        differing = fields_differing(base=record.data, wanted=wanted)
        if not differing:
            unchanged += 1
            continue
        fields_changed.update(differing.keys())
        updates.append(
            PlannedUpdate(
                row=row,
                upstream_id=upstream_id,
                changes=tuple(
                    CellChange(
                        field=key,
                        before=record.data.get(key),
                        after=value,
                        had_before=key in record.data,
                    )
                    for key, value in differing.items()
                ),
            )
        )
    return CsvPlan(
        sync_id=sync_id,
        collection_id=collection_id,
        columns=columns,
        delimiter=table.delimiter,
        updates=tuple(updates),
        refused=tuple(refused),
        unchanged=unchanged,
        fields_changed=dict(fields_changed),
    )


# Storing the plan between the preview and the confirmation, and starting its job


# A plan is confirmed within this long of its upload: after that the index it was checked
# against may have moved on, and the file is checked again by uploading it again.
PLAN_MAX_AGE = timedelta(hours=24)


def csv_upload_plan(
    *, user: User, sync_id: str, collection_id: str, filename: str, raw: bytes
) -> CsvUpdatePlan:
    """Check the file and keep its plan server-side. Raises CsvRefused."""
    plan = csv_plan(sync_id=sync_id, collection_id=collection_id, raw=raw)
    real_user = user if isinstance(user, get_user_model()) and user.is_authenticated else None
    return CsvUpdatePlan.objects.create(
        user=real_user,
        sync_id=sync_id,
        collection_id=collection_id,
        filename=filename[:255],
        plan=plan.to_json(),
    )


def csv_plan_for(*, plan_id: uuid.UUID, user: User) -> CsvUpdatePlan | None:
    """A plan its uploader may see and confirm; None for anyone else's."""
    if not user.is_authenticated:
        return None
    return CsvUpdatePlan.objects.filter(pk=plan_id, user_id=user.pk).select_related("job").first()


def csv_plan_confirm(*, upload: CsvUpdatePlan, user: User) -> Job:
    """Start the job that sends the plan's updates, once. Raises CsvRefused when the plan was
    confirmed before, has nothing to send, or is too old."""
    plan = CsvPlan.from_json(upload.plan)
    if not plan.updates:
        raise CsvRefused("No row of this file would change a record: there is nothing to send.")
    if upload.created_at < timezone.now() - PLAN_MAX_AGE:
        raise CsvRefused("This upload is more than a day old; upload the file again to check it.")
    with transaction.atomic():
        # The first confirmation takes the plan; a second (double click, another tab) finds it
        # taken and starts nothing.
        taken = CsvUpdatePlan.objects.filter(pk=upload.pk, confirmed_at__isnull=True).update(
            confirmed_at=timezone.now()
        )
        if not taken:
            raise CsvRefused("This upload was confirmed already; its job is running or done.")
        job = job_start(
            user=user,
            sync_id=plan.sync_id,
            collection_id=plan.collection_id,
            kind="update",
            items=[(u.upstream_id, u.data) for u in plan.updates],
            description=f"CSV {upload.filename}"[:300],
        )
        CsvUpdatePlan.objects.filter(pk=upload.pk).update(job=job)
    upload.refresh_from_db()
    return job
