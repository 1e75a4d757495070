"""Many rows of one model written in a few statements, without building model instances.

A bulk job writes hundreds of rows a batch (its items, the journal's records and fields).
`bulk_create` and `bulk_update` build an instance and call every field's `get_db_prep_save`
per row, and `bulk_update` a CASE per field and row: their Python costs many times the
database's work (bench/jobs.py). Here the rows are tuples of plain values, adapted only where
the database needs it (JSON, datetimes) by the backend's own adapters.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from django.db import connection, models

from sequin_admin.planner_statistics import statistics_note_writes

Adapt = Callable[[Any], Any]


def _adapter(field: models.Field[Any, Any]) -> Adapt | None:
    """How a value of `field` goes to the driver; None when it goes as it is."""
    ops = connection.ops
    if isinstance(field, models.JSONField):
        encoder = field.encoder
        # None is SQL NULL, as JSONField stores it (not the JSON null).
        return lambda value: None if value is None else ops.adapt_json_value(value, encoder)
    if isinstance(field, models.DateTimeField):
        return lambda value: None if value is None else ops.adapt_datetimefield_value(value)
    if isinstance(
        field,
        models.CharField
        | models.TextField
        | models.IntegerField
        | models.BooleanField
        | models.ForeignKey,
    ):
        return None
    return lambda value: field.get_db_prep_save(value, connection)


def _columns(model: type[models.Model], names: Sequence[str]) -> list[models.Field[Any, Any]]:
    by_name = {field.name: field for field in model._meta.concrete_fields}
    return [by_name[name] for name in names]


def _prepared(
    fields: Sequence[models.Field[Any, Any]], rows: Sequence[Sequence[Any]]
) -> list[list[Any]]:
    adapters = [_adapter(field) for field in fields]
    return [
        [
            value if adapt is None else adapt(value)
            for adapt, value in zip(adapters, row, strict=True)
        ]
        for row in rows
    ]


def rows_insert(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    returning: bool = True,
) -> list[int]:
    """Insert `rows` (values in the order of `fields`, a foreign key by its field's name and
    the target's id; the other fields their defaults) and return their ids in the rows'
    order: one multi-row INSERT ... RETURNING a statement, as `bulk_create` does on SQLite
    3.35+ and PostgreSQL.

    With `returning=False` nothing is returned (an empty list), and on PostgreSQL the rows go
    as one bound JSON document (`json_to_recordset`): a job's 10,000 items are one statement
    of 80,000 values otherwise, which the driver quotes into the SQL text one by one."""
    if not rows:
        return []
    meta = model._meta
    # Every other column takes its field's default, as a model instance would.
    others = [f for f in meta.concrete_fields if f.name not in fields and f is not meta.pk]
    columns = _columns(model, fields) + others
    defaults = tuple(field.get_default() for field in others)
    rows = [(*row, *defaults) for row in rows]
    quote = connection.ops.quote_name
    names = ", ".join(quote(field.column) for field in columns)
    if not returning and connection.vendor == "postgresql" and _as_json_document(columns):
        _insert_from_json(quote(meta.db_table), names, columns, rows)
        statistics_note_writes(table=meta.db_table, rows=len(rows))
        return []
    one_row = "(" + ", ".join(["%s"] * len(columns)) + ")"
    batch = connection.ops.bulk_batch_size(columns, rows)
    prepared = _prepared(columns, rows)
    ids: list[int] = []
    with connection.cursor() as cursor:
        for start in range(0, len(prepared), batch):
            chunk = prepared[start : start + batch]
            # The model's own names; every value is bound.
            sql = (
                f"INSERT INTO {quote(meta.db_table)} ({names}) "  # nosec B608 # model names
                f"VALUES {', '.join([one_row] * len(chunk))} RETURNING {quote(meta.pk.column)}"
            )
            cursor.execute(sql, [value for row in chunk for value in row])
            ids += [row[0] for row in cursor.fetchall()]
    statistics_note_writes(table=meta.db_table, rows=len(rows))
    return ids if returning else []


def rows_update(
    model: type[models.Model], fields: Sequence[str], rows: Sequence[tuple[int, Sequence[Any]]]
) -> None:
    """An UPDATE by primary key per `(id, values in the order of fields)`: on PostgreSQL one
    statement over the rows bound as one JSON document, elsewhere one executemany."""
    if not rows:
        return
    columns = _columns(model, fields)
    quote = connection.ops.quote_name
    meta = model._meta
    table, key = quote(meta.db_table), quote(meta.pk.column)
    if connection.vendor == "postgresql" and _as_json_document(columns):
        _update_from_json(table, key, columns, rows)
        return
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in columns)
    sql = f"UPDATE {table} SET {assignments} WHERE {key} = %s"  # nosec B608 # model's names
    prepared = _prepared(columns, [values for _, values in rows])
    params = [[*values, pk] for values, (pk, _) in zip(prepared, rows, strict=True)]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


# Fields whose values go into a JSON document as they are (JSON fields without an encoder of
# their own: their value is the document's; datetimes as ISO text).
_JSON_DOCUMENT_FIELDS = (
    models.CharField,
    models.TextField,
    models.IntegerField,
    models.BooleanField,
    models.ForeignKey,
    models.DateTimeField,
)


def _as_json_document(columns: Sequence[models.Field[Any, Any]]) -> bool:
    return all(
        (isinstance(field, models.JSONField) and field.encoder is None)
        or isinstance(field, _JSON_DOCUMENT_FIELDS)
        for field in columns
    )


def _update_from_json(
    table: str,
    key: str,
    columns: Sequence[models.Field[Any, Any]],
    rows: Sequence[tuple[int, Sequence[Any]]],
) -> None:
    """`UPDATE ... FROM json_to_recordset(%s)`: one statement and one bound value for all the
    rows (an executemany is one statement a row for the server to run). A JSON null reads as
    SQL NULL, as None is written by the executemany."""
    quote = connection.ops.quote_name
    types = _recordset_types(columns)
    assignments = ", ".join(f"{quote(field.column)} = v.c{n}" for n, field in enumerate(columns))
    document = _json_document({"k": pk, **_named(values)} for pk, values in rows)
    # The model's own names and types; the rows are one bound value.
    sql = (
        f"UPDATE {table} AS t SET {assignments} "  # nosec B608 # model's names and types
        f"FROM json_to_recordset(%s) AS v(k bigint, {types}) WHERE t.{key} = v.k"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [document])


def _insert_from_json(
    table: str, names: str, columns: Sequence[models.Field[Any, Any]], rows: Sequence[Sequence[Any]]
) -> None:
    """`INSERT ... SELECT ... FROM json_to_recordset(%s)`: the rows as one bound value."""
    types = _recordset_types(columns)
    selected = ", ".join(f"v.c{n}" for n in range(len(columns)))
    document = _json_document(_named(row) for row in rows)
    # The model's own names and types; the rows are one bound value.
    sql = (
        f"INSERT INTO {table} ({names}) SELECT {selected} "  # nosec B608 # model's names and types
        f"FROM json_to_recordset(%s) AS v({types})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [document])


def _recordset_types(columns: Sequence[models.Field[Any, Any]]) -> str:
    """`json_to_recordset`'s column list: the document's columns are named c0, c1 ..., so no
    model name is quoted inside it."""
    return ", ".join(f"c{n} {field.db_type(connection)}" for n, field in enumerate(columns))


def _named(values: Sequence[Any]) -> dict[str, Any]:
    return {f"c{n}": value for n, value in enumerate(values)}


def _json_document(rows: Iterable[Mapping[str, Any]]) -> str:
    return json.dumps(list(rows), default=_json_default)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")
