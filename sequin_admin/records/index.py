"""Writing and reading single rows of the record index (see models.py for why it exists)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from sequin_admin.planner_statistics import statistics_note_writes
from sequin_admin.sequin import MutationRequest, MutationResult, Record

from .fields import picklists_from_samples, reference_collection
from .models import IndexedRecord
from .search import FtsWrites, fts_written_here
from .titles import record_title

SEARCH_TEXT_LIMIT = 10_000


def search_text_for(upstream_id: str, data: dict[str, Any]) -> str:
    parts = [upstream_id]
    _collect_leaf_values(data, parts)
    return " ".join(parts).lower()[:SEARCH_TEXT_LIMIT]


def _collect_leaf_values(value: Any, into: list[str]) -> None:
    """Every non-null, non-boolean leaf of `value`, in order, as text (a list appended to,
    not a generator: this runs for every field of every record a fill lists)."""
    if isinstance(value, dict):
        value = value.values()
    elif not isinstance(value, list):
        if value is not None and not isinstance(value, bool):
            into.append(value if isinstance(value, str) else str(value))
        return
    for item in value:
        if isinstance(item, str):
            into.append(item)
        elif isinstance(item, dict | list):
            _collect_leaf_values(item, into)
        elif item is not None and not isinstance(item, bool):
            into.append(str(item))


# What a newer listing or answer replaces; the key columns stay.
_UPSERT_FIELDS = (
    "data",
    "deleted",
    "updated_idx",
    "upstream_created_at",
    "upstream_updated_at",
    "search_text",
    "indexed_at",
    "reread_pending",
)
_KEY_FIELDS = ("sync_id", "collection_id", "upstream_id")
_COLUMNS = (*_KEY_FIELDS, *_UPSERT_FIELDS)
# Upstream ids a lookup binds: within SQLite's oldest limit of 999 parameters a statement.
_KEYS_A_QUERY = 300


def index_upsert(
    *, records: Iterable[Record], stored_texts: Sequence[tuple[int, str]] | None = None
) -> int:
    """Store records, never replacing a newer version (higher `updated_idx`) with an older one.

    One INSERT ... ON CONFLICT DO UPDATE ... WHERE per batch: the unique constraint is the
    conflict's arbiter, so finding the stored row is an index probe by construction. A lookup
    of known versions first (`upstream_id IN (500 ids)`) was left to the planner, which on a
    PostgreSQL table never analyzed walks the collection's keyset index and filters every
    row: seconds a page, growing with the table. Returns how many rows were written.

    `stored_texts`, (id, search_text) of every stored row among `records`, saves reading them
    again when the caller has just read them (the text index replaces those rows' entries).

    The rows inserted count towards PostgreSQL's statistics of the table (planner_statistics):
    without them the planner believes a collection holds a row or two, and the lookups of a
    batch's records by id (`_stored_rows`, `seen_in_index`) walk the whole collection through
    its keyset index instead of probing the unique one, 100 ids at a time (100 random ids of
    100,000 leads: 47-69 ms unanalyzed, 1.4-1.9 ms analyzed; the walk grows with the
    collection). A collection new to a large table is walked until its rows make a tenth of
    the table, as under autovacuum.
    """
    incoming = {(r.sync_id, r.collection_id, r.upstream_id): r for r in records}
    if not incoming:
        return 0
    rows = list(incoming.values())
    indexed_at = timezone.now()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            return _upsert_postgresql(cursor, rows, indexed_at)
    with transaction.atomic(), connection.cursor() as cursor:
        fts = fts_written_here(cursor, connection.alias)
        if fts is not None:
            fts.pause()
            if stored_texts is None:
                stored_texts = _stored_texts(cursor, list(incoming))
            fts.note_stored(stored_texts)
        written = _upsert_rows(cursor, rows, indexed_at, fts=fts)
        if fts is not None:
            fts.resume()
        return written


def _upsert_rows(
    cursor: Any, records: list[Record], indexed_at: datetime, *, fts: FtsWrites | None
) -> int:
    """The upsert as multi-row VALUES, as many rows a statement as the database binds; the
    rows written go to `fts` (RETURNING their id and search text) where there is one."""
    ops = connection.ops
    # Text, integers and booleans go to the driver as they are; JSON and datetimes as the
    # database takes them (JSON text; UTC text on SQLite), as the backend's own adapters make
    # them: the fields' get_db_prep_save costs more than the SQL for a page of rows.
    adapt_datetime = _datetime_adapter()
    now = adapt_datetime(indexed_at)

    def moment(value: datetime | None) -> Any:
        return None if value is None else adapt_datetime(value)

    rows = [
        (
            r.sync_id,
            r.collection_id,
            r.upstream_id,
            ops.adapt_json_value(r.data, None),
            r.deleted,
            r.updated_idx or 0,
            moment(r.upstream_created_at),
            moment(r.upstream_updated_at),
            search_text_for(r.upstream_id, r.data),
            now,
            False,
        )
        for r in records
    ]
    by_name = {field.name: field for field in IndexedRecord._meta.concrete_fields}
    fields = [by_name[name] for name in _COLUMNS]
    batch = ops.bulk_batch_size(fields, rows)
    insert, on_conflict = _upsert_clauses()
    written = 0
    returned: list[tuple[int, str]] = []
    for start in range(0, len(rows), batch):
        chunk = rows[start : start + batch]
        values = ", ".join(["(" + ", ".join(["%s"] * len(_COLUMNS)) + ")"] * len(chunk))
        sql = f"{insert} VALUES {values} {on_conflict}"
        params = [value for row in chunk for value in row]
        if fts is None:
            cursor.execute(sql, params)
            written += cursor.rowcount
        else:
            cursor.execute(f"{sql} RETURNING id, search_text", params)
            returned += cursor.fetchall()
    if fts is None:
        return written
    # After every statement of the upsert, not between them: each of them opens a statement
    # savepoint (it may fail halfway), SQLite opens it too in every virtual table written
    # earlier in the transaction, and FTS5 writes what it holds in memory to a new segment at
    # each savepoint. Written in between, a page became one segment a statement, each to be
    # merged later: 20,000 new rows took 3.2 s instead of 2.75 s.
    fts.write(returned)
    return len(returned)


# What Django's SQLite backend stores for a datetime (operations.adapt_datetimefield_value:
# an aware value made naive in the connection's time zone, then str(), which is isoformat
# with a space), for a connection in UTC, a quarter of its cost: two a row, Django's checks
# and make_naive cost as much as the rest of a row's preparation.
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NAIVE_EPOCH = datetime(1970, 1, 1)


def _sqlite_utc_text(value: datetime) -> str:
    try:
        # The difference between aware datetimes counts their offsets: the same instant, as
        # naive UTC (replace(tzinfo=None) alone costs more than this).
        return (_NAIVE_EPOCH + (value - _EPOCH)).isoformat(" ")
    except TypeError:  # naive (no offset), which Django stores as it is
        return str(value)


def _datetime_adapter() -> Callable[[datetime], Any]:
    # connection.timezone is UTC where USE_TZ is on and the database sets no TIME_ZONE.
    if connection.vendor == "sqlite" and connection.timezone is UTC:
        return _sqlite_utc_text
    return connection.ops.adapt_datetimefield_value


def _upsert_postgresql(cursor: Any, records: list[Record], indexed_at: datetime) -> int:
    """The upsert as one statement over the page as one bound JSON document: a page of 500
    records binds one value, not 5,500 (the driver parses a statement of 5,500 placeholders
    uncached, and quotes text arrays element by element in Python: either cost more than the
    database's work). JSON encoding is the standard library's C encoder."""
    page = json.dumps(
        [
            {
                "s": r.sync_id,
                "c": r.collection_id,
                "u": r.upstream_id,
                "d": r.data,
                "del": r.deleted,
                "idx": r.updated_idx or 0,
                "ca": _iso(r.upstream_created_at),
                "ua": _iso(r.upstream_updated_at),
                "st": search_text_for(r.upstream_id, r.data),
            }
            for r in records
        ]
    )
    insert, on_conflict = _upsert_clauses()
    # Names are the model's own, every value is bound. A row the statement inserted has no
    # xmax; one it updated has this transaction's.
    cursor.execute(
        f"{insert} SELECT s, c, u, d, del, idx, ca, ua, st, %s, false FROM json_to_recordset(%s)"  # nosec B608 # names are the model's, values bound
        " AS page(s text, c text, u text, d jsonb, del boolean, idx bigint, ca timestamptz,"
        f" ua timestamptz, st text) {on_conflict} RETURNING xmax = 0",
        [indexed_at, page],
    )
    written = cursor.fetchall()
    # New rows change what the planner must know of a collection; rows written again (a
    # refresh, an answer) do not, and counting them would analyze the table again for every
    # tenth of it a refill rewrites.
    statistics_note_writes(
        table=IndexedRecord._meta.db_table, rows=sum(1 for (inserted,) in written if inserted)
    )
    return len(written)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _stored_texts(cursor: Any, keys: list[tuple[str, str, str]]) -> list[tuple[int, str]]:
    """(id, search_text) of the stored rows among `keys`."""
    upstream_ids: dict[tuple[str, str], list[str]] = {}
    for sync_id, collection_id, upstream_id in keys:
        upstream_ids.setdefault((sync_id, collection_id), []).append(upstream_id)
    return [
        row
        for (sync_id, collection_id), ids in upstream_ids.items()
        for row in _stored_rows(cursor, "id, search_text", sync_id, collection_id, ids)
    ]


def _stored_rows(
    cursor: Any, columns: str, sync_id: str, collection_id: str, upstream_ids: Sequence[str]
) -> list[tuple[Any, ...]]:
    """`columns` of the collection's stored rows among `upstream_ids`: a probe of the unique
    index an id. `upstream_id IN (...)` binds a third of the values an OR of (sync_id,
    collection_id, upstream_id) conditions does, and SQLite plans it faster: looking up
    20,000 new keys in pages of 500 took 0.02 s against 0.07 s, 20,000 stored ones 0.10 s
    against 0.15 s. Plain SQL: the ORM's `upstream_id__in` prepares each id one by one."""
    table = connection.ops.quote_name(IndexedRecord._meta.db_table)
    found: list[tuple[Any, ...]] = []
    for start in range(0, len(upstream_ids), _KEYS_A_QUERY):
        chunk = upstream_ids[start : start + _KEYS_A_QUERY]
        # The table and columns are the model's own, every value is bound.
        cursor.execute(
            f"SELECT {columns} FROM {table} "  # nosec B608 # model names, values bound
            "WHERE sync_id = %s AND collection_id = %s "
            f"AND upstream_id IN ({', '.join(['%s'] * len(chunk))})",
            [sync_id, collection_id, *chunk],
        )
        found += cursor.fetchall()
    return found


def _upsert_clauses() -> tuple[str, str]:
    """`INSERT INTO table (columns)` and its `ON CONFLICT ... DO UPDATE ... WHERE` clause."""
    quote = connection.ops.quote_name
    table = quote(IndexedRecord._meta.db_table)
    columns = ", ".join(quote(name) for name in _COLUMNS)
    updates = ", ".join(f"{quote(name)} = excluded.{quote(name)}" for name in _UPSERT_FIELDS)
    keys = ", ".join(quote(name) for name in _KEY_FIELDS)
    # Names are the model's own, every value is bound.
    return (
        f"INSERT INTO {table} ({columns})",  # nosec B608 # names are the model's, values bound
        f"ON CONFLICT ({keys}) DO UPDATE SET {updates} "  # nosec B608 # names are the model's
        f"WHERE {table}.{quote('updated_idx')} <= excluded.{quote('updated_idx')}",
    )


def index_apply_answer(*, result: MutationResult, request: MutationRequest) -> None:
    """What a successful mutation tells the index, read no further than Sequin promised.

    A returned record's data is merged onto the indexed row unless it is clearly whole (an
    update may return only the patched keys) and never replaces a newer version; a record
    returned without a version keeps the row's and is marked for a re-read; a delete marks
    its records deleted whatever the answer's `deleted` says. One transaction.
    """
    with transaction.atomic():
        _apply_answer(result=result, request=request)


def _apply_answer(*, result: MutationResult, request: MutationRequest) -> None:
    returned = [
        r.within(sync_id=request.sync_id, collection_id=request.collection_id)
        for r in result.records
    ]
    deleted_ids = set(request.upstream_ids) if request.kind == "delete" else set()
    # What the upsert needs of the stored rows, read once and in its transaction (what the
    # text index holds for them must not change in between): their data and version for the
    # merge, their id and search text for the text index (not read again by the upsert).
    wanted = [r.upstream_id for r in returned] + sorted(deleted_ids)
    rows: dict[str, tuple[int, dict[str, Any], int, str]] = {}
    with connection.cursor() as cursor:
        stored_rows = _stored_rows(
            cursor,
            "id, upstream_id, data, updated_idx, search_text",
            request.sync_id,
            request.collection_id,
            wanted,
        )
    for pk, upstream_id, data, updated_idx, search_text in stored_rows:
        # JSON comes back as text on both backends (Django reads jsonb as text).
        stored = json.loads(data) if isinstance(data, str) else data
        rows[upstream_id] = (pk, stored, updated_idx, search_text)
    merged = []
    for record in returned:
        row = rows.get(record.upstream_id)
        if row is None:
            merged.append(record)
            continue
        _, data, updated_idx, _ = row
        whole = set(record.data) >= set(data)
        merged.append(
            replace(
                record,
                data=record.data if whole else {**data, **record.data},
                updated_idx=updated_idx if record.updated_idx is None else record.updated_idx,
            )
        )
    index_upsert(records=merged, stored_texts=[(pk, text) for pk, _, _, text in rows.values()])
    unversioned = {r.upstream_id for r in returned if r.updated_idx is None}
    rows_of_request = IndexedRecord.objects.filter(
        sync_id=request.sync_id, collection_id=request.collection_id
    )
    if deleted_ids:
        rows_of_request.filter(upstream_id__in=deleted_ids).update(deleted=True)
        unversioned |= deleted_ids - {r.upstream_id for r in returned}
    if unversioned:
        rows_of_request.filter(upstream_id__in=unversioned).update(reread_pending=True)


def index_get(*, sync_id: str, collection_id: str, upstream_id: str) -> IndexedRecord | None:
    return IndexedRecord.objects.filter(
        sync_id=sync_id, collection_id=collection_id, upstream_id=upstream_id
    ).first()


RecordKey = tuple[str, str, str]  # sync_id, collection_id, upstream_id


def titles_of(keys: Iterable[RecordKey]) -> dict[RecordKey, str]:
    """Titles of the indexed records among `keys`, in one query; records not indexed are left
    out (the caller picks what else to show)."""
    wanted: dict[tuple[str, str], set[str]] = {}
    for sync_id, collection_id, upstream_id in keys:
        if upstream_id:
            wanted.setdefault((sync_id, collection_id), set()).add(upstream_id)
    if not wanted:
        return {}
    where = Q()
    for (sync_id, collection_id), upstream_ids in wanted.items():
        where |= Q(sync_id=sync_id, collection_id=collection_id, upstream_id__in=upstream_ids)
    rows = IndexedRecord.objects.filter(where).values_list(
        "sync_id", "collection_id", "upstream_id", "data"
    )
    return {
        (sync_id, collection_id, upstream_id): record_title(
            collection_id=collection_id, data=data, upstream_id=upstream_id
        )
        for sync_id, collection_id, upstream_id, data in rows
    }


# The newest records of a collection a picklist's values are read from, and how long they
# are kept: a record page reads them from the cache, not from a scan of the collection.
PICKLIST_SAMPLE = 500
PICKLIST_CACHE_SECONDS = 300


def index_picklists(*, sync_id: str, collection_id: str) -> dict[str, list[str]]:
    """The collection's picklist fields and the values seen for each (`fields.py`)."""
    key = f"sequin_admin:picklists:{sync_id}:{collection_id}"
    found: dict[str, list[str]] | None = cache.get(key)
    if found is None:
        # The keyset index's order: a range scan of the newest rows, not a sort.
        sample = (
            IndexedRecord.objects.filter(
                sync_id=sync_id, collection_id=collection_id, deleted__in=[False]
            )
            .order_by("-updated_idx", "-id")
            .values_list("data", flat=True)[:PICKLIST_SAMPLE]
        )
        found = picklists_from_samples(sample, collection_id=collection_id)
        cache.set(key, found, PICKLIST_CACHE_SECONDS)
    return found


@dataclass(frozen=True)
class Reference:
    """A field's value that is the id of another indexed record."""

    path: str
    sync_id: str
    collection_id: str
    upstream_id: str
    title: str


def index_references(
    *, sync_id: str, collection_id: str, data: Mapping[str, Any]
) -> dict[str, list[Reference]]:
    """The record's fields (top-level and one level down, as `properties.associatedcompanyid`)
    that hold the id of another record found in the index, by top-level key; one query."""
    wanted: dict[RecordKey, list[str]] = {}
    for path, value in _paths(data):
        target = reference_collection(collection_id, path)
        if target and isinstance(value, str | int) and not isinstance(value, bool) and value:
            wanted.setdefault((sync_id, target, str(value)), []).append(path)
    found: dict[str, list[Reference]] = {}
    for key, title in titles_of(wanted).items():
        for path in wanted[key]:
            reference = Reference(path, key[0], key[1], key[2], title)
            found.setdefault(path.split(".", 1)[0], []).append(reference)
    return found


def _paths(data: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    for key, value in data.items():
        if isinstance(value, Mapping):
            for inner, inner_value in value.items():
                yield f"{key}.{inner}", inner_value
        else:
            yield key, value
