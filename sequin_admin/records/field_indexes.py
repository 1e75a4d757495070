"""A record field inside `data` as SQL, and the expression index that sorts and filters on it.

The listing sorts and filters on fields of the records' JSON (`?sort=Name`,
`?f.Status.eq=Open`). Over a million rows, an expression the database cannot find in an index
means reading and sorting the whole collection for every page. So each field a person sorts or
filters on gets one expression index, made on first use and shared by every collection that has
a field of that name:

    (sync_id, collection_id, deleted, <value of the field>, updated_idx, id)

It serves both kinds of question as an ordered range scan that stops after one page:
- sorted by the field: `WHERE sync, collection, deleted ORDER BY value, updated_idx, id`
  (read backwards for a descending sort);
- filtered by a value in the default, newest-first order:
  `WHERE sync, collection, deleted, value = 'Open' ORDER BY updated_idx DESC, id DESC`.

The value is the same SQL everywhere (index, ORDER BY, WHERE), written out with the path as a
literal, because a database matches an expression index only against an identical expression
(SQLite does not look inside a bound parameter): `json_extract("data", '$.a.b')` on SQLite,
`NULLIF("data" -> 'a' -> 'b', 'null'::jsonb)` on PostgreSQL (JSON null and a missing key both
become SQL NULL, as on SQLite). Both keep the JSON type, so numbers sort as numbers. Missing
and null values come first in ascending order and last in descending order on both databases
(SQLite's own order; the PostgreSQL index is declared NULLS FIRST to match).

Why not a typed side table of sort keys: it would double the writes of every refresh, whose
speed is its own target, for every field whether anyone sorts on it or not; an index costs
only for the fields people use. PostgreSQL builds it with CREATE INDEX CONCURRENTLY, which
cannot run inside a transaction (then it is built plainly) and leaves an invalid index behind
if it fails, which the next use drops and builds again. A new index is analyzed at once: on
SQLite an index without statistics looks so selective that the planner takes it over the
keyset index for unrelated filters; on PostgreSQL the indexed expression has no statistics
until then.

The cost is paid once per field, by the first request that sorts or filters on it: on a
million records, 3 to 12 s on SQLite and about 20 s on PostgreSQL (this machine, idle to
busy). Every page after that is a range scan; the whole collection page on a million records
(Django test client, medians): unsorted 8.6 ms, sorted by Name 9.5 ms, filtered by Status
11.5 ms on SQLite; 18.8, 25.6 and 33.9 ms on PostgreSQL. Each index also adds to every write
of the records table, which is why only fields people use get one, and nested paths none.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from contextlib import nullcontext
from typing import Any, Literal

from django.db import DatabaseError, connection, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import BooleanField, Expression, JSONField
from django.db.models.sql.compiler import SQLCompiler

from .models import IndexedRecord

# Field names as providers make them (`Name`, `Custom__c`, `hs_object_id`), dotted for nested
# keys. Nothing else is accepted, which is what makes writing the path into SQL safe.
FIELD_PATH = re.compile(r"[A-Za-z0-9_]{1,100}(\.[A-Za-z0-9_]{1,100}){0,3}")
Comparison = Literal["=", ">", "<", ">=", "<="]
COMPARISONS: tuple[Comparison, ...] = ("=", ">", "<", ">=", "<=")
logger = logging.getLogger(__name__)


def is_field_path(path: str) -> bool:
    return FIELD_PATH.fullmatch(path) is not None


def value_at(data: Any, path: str) -> Any:
    """The value at a dotted path of a record's data, None where the path leads nowhere."""
    for part in path.split("."):
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data


def _path_sql(path: str, vendor: str) -> str:
    if not is_field_path(path):
        raise ValueError(f"not a field path: {path!r}")
    if vendor == "postgresql":
        steps = "".join(f" -> '{part}'" for part in path.split("."))
        return f"NULLIF(\"data\"{steps}, 'null'::jsonb)"
    return f"json_extract(\"data\", '$.{path}')"


def _param(value: Any, vendor: str) -> tuple[str, Any]:
    """A placeholder and its parameter, comparable with the field's value on this database."""
    if vendor == "postgresql":
        return "%s::jsonb", json.dumps(value)
    if isinstance(value, dict | list):
        return "%s", json.dumps(value)
    return "%s", value


class FieldValue(Expression):
    """The value at a path of `data`, as the database types it (see the module docstring)."""

    output_field = JSONField()

    def __init__(self, path: str) -> None:
        super().__init__()
        _path_sql(path, "sqlite")  # refuse a bad path when built, not when compiled
        self.path = path

    def as_sql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper
    ) -> tuple[str, list[Any]]:
        return _path_sql(self.path, connection.vendor), []


class FieldCondition(Expression):
    """A condition on a field's value, usable in `.filter()` and `Q()`."""

    output_field = BooleanField()
    conditional = True

    def __init__(
        self, path: str, kind: Literal["compare", "in", "null", "contains", "empty"], **args: Any
    ) -> None:
        super().__init__()
        _path_sql(path, "sqlite")
        self.path, self.kind, self.args = path, kind, args

    def as_sql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper
    ) -> tuple[str, list[Any]]:
        vendor = connection.vendor
        value = _path_sql(self.path, vendor)
        if self.kind == "compare":
            operator: Comparison = self.args["operator"]
            if operator not in COMPARISONS:
                raise ValueError(operator)
            placeholder, param = _param(self.args["value"], vendor)
            return f"{value} {operator} {placeholder}", [param]
        if self.kind == "in":
            pairs = [_param(v, vendor) for v in self.args["values"]]
            placeholders = ", ".join(p for p, _ in pairs)
            return f"{value} IN ({placeholders})", [param for _, param in pairs]
        if self.kind == "null":
            return f"{value} IS {'' if self.args['is_null'] else 'NOT '}NULL", []
        if self.kind == "empty":
            empty, param = _param("", vendor)
            return f"({value} IS NULL OR {value} = {empty})", [param]
        # contains: case-insensitive, on the value as text.
        pattern = "%" + re.sub(r"([\\%_])", r"\\\1", self.args["text"]) + "%"
        if vendor == "postgresql":
            text = '("data" #>> \'{' + ",".join(self.path.split(".")) + "}')"
            return f"{text} ILIKE %s", [pattern]
        return f"{value} LIKE %s ESCAPE '\\'", [pattern]


def field_index_name(path: str) -> str:
    digest = hashlib.sha256(path.encode()).hexdigest()[:16]
    return f"record_field_{digest}"


def field_index_ensure(*, path: str) -> bool:
    """Make the expression index for `path` unless it exists; True when it was built now.

    A database that refuses (no CREATE right, a full disk) costs the listing its speed, never
    its answer: the failure is logged and the query runs without the index.
    """
    name = field_index_name(path)
    try:
        if connection.vendor == "postgresql":
            return _ensure_on_postgresql(name, path)
        with transaction.atomic():
            return _ensure_on_sqlite(name, path)
    except DatabaseError:
        logger.warning("Could not build the index %s for the field %s", name, path, exc_info=True)
        return False


def _ensure_on_postgresql(name: str, path: str) -> bool:
    table = IndexedRecord._meta.db_table
    value = _path_sql(path, "postgresql")
    with connection.cursor() as cursor:
        valid = "SELECT i.indisvalid FROM pg_index i WHERE i.indexrelid = to_regclass(%s)"
        cursor.execute(valid, [name])
        found = cursor.fetchone()
        if found and found[0]:
            return False
        # One builder per index across processes: another request seeing the index mid-build
        # (not yet valid) must not take it for a failed build and drop it.
        lock = int(name.removeprefix("record_field_"), 16) >> 1
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [lock])
        row = cursor.fetchone()
        if not (row and row[0]):
            return False
        try:
            in_transaction = connection.in_atomic_block
            # CONCURRENTLY keeps writes going during the build but cannot run in a
            # transaction; inside one (tests, ATOMIC_REQUESTS) a savepoint keeps a refusal
            # from breaking the rest of it.
            with transaction.atomic() if in_transaction else nullcontext():
                concurrently = "" if in_transaction else " CONCURRENTLY"
                cursor.execute(valid, [name])
                found = cursor.fetchone()
                if found and found[0]:
                    return False
                if found:  # a concurrent build that failed: unusable until built again
                    cursor.execute(f'DROP INDEX{concurrently} IF EXISTS "{name}"')
                cursor.execute(
                    f'CREATE INDEX{concurrently} IF NOT EXISTS "{name}" ON "{table}" '
                    f'("sync_id", "collection_id", "deleted", ({value}) NULLS FIRST, '
                    f'"updated_idx", "id")'
                )
                # Statistics of the indexed expression exist only after an ANALYZE; without
                # them the planner guesses how many rows a value matches.
                cursor.execute(f'ANALYZE "{table}"')
                return True
        finally:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [lock])


def _ensure_on_sqlite(name: str, path: str) -> bool:
    table = IndexedRecord._meta.db_table
    value = _path_sql(path, "sqlite")
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = %s", [name])
        if cursor.fetchone():
            return False
        cursor.execute(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" '
            f'("sync_id", "collection_id", "deleted", {value}, "updated_idx", "id")'
        )
        # SQLite takes an index without statistics for a very selective one and picks it over
        # the keyset index for any query on the same columns: a contains filter then sorted
        # the collection (8 s on a million rows). Statistics of every index of the table, and
        # whole ones: a sampled ANALYZE (analysis_limit) counted 20,001 rows per collection in
        # the new indexes against a million in the others, and sorted by upstream_id through
        # the wrong one (0.9 s a page). About a second per index on a million rows, once.
        cursor.execute(f'ANALYZE "{table}"')
        return True
