"""The sandbox's state in SQLite: syncs, consumers (HTTP and Postgres) and records, plus the
seeded template.

One connection (shared by the server's threads, guarded by a re-entrant lock) in autocommit
mode; writes open their own short transaction. The demo data is generated once per process into
an in-memory template database, and seeding or resetting copies that template with SQLite's
backup API, which takes milliseconds where regenerating would take most of a second.
"""

from __future__ import annotations

import hashlib
import json
import random
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sequin_admin.sandbox import demo_data
from sequin_admin.sandbox.ids import new_upstream_id, record_uuid
from sequin_admin.sandbox.schemas import SCHEMAS, stamp_modified
from sequin_admin.sandbox.timestamps import iso_z, utc_now

_DDL = """
CREATE TABLE IF NOT EXISTS syncs (
    position INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS consumers (
    position INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS postgres_consumers (
    position INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS records (
    id TEXT PRIMARY KEY,
    sync_id TEXT NOT NULL,
    collection_id TEXT NOT NULL,
    provider TEXT NOT NULL,
    stream_id TEXT NOT NULL,
    upstream_id TEXT NOT NULL,
    updated_idx INTEGER NOT NULL UNIQUE,
    upstream_created_at TEXT,
    upstream_updated_at TEXT,
    created_at TEXT NOT NULL,
    data TEXT NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,
    UNIQUE (sync_id, collection_id, upstream_id)
);
CREATE INDEX IF NOT EXISTS records_by_collection ON records (collection_id, updated_idx);
CREATE INDEX IF NOT EXISTS records_by_sync ON records (sync_id, updated_idx);
"""

_RECORD_COLUMNS = (
    "id, sync_id, collection_id, provider, stream_id, upstream_id, updated_idx, "
    "upstream_created_at, upstream_updated_at, created_at, data, deleted"
)


# Upstream ids bound in one read: within SQLite's oldest limit of 999 parameters.
_IDS_A_READ = 500


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _record_from_row(row: tuple[Any, ...]) -> dict[str, Any]:
    return {
        "id": row[0],
        "sync_id": row[1],
        "collection_id": row[2],
        "provider": row[3],
        "stream_id": row[4],
        "upstream_id": row[5],
        "updated_idx": row[6],
        "upstream_created_at": row[7],
        "upstream_updated_at": row[8],
        "created_at": row[9],
        "data": json.loads(row[10]),
        "deleted": bool(row[11]),
    }


def _create_tables(conn: sqlite3.Connection) -> None:
    conn.executescript(_DDL)


def _fill(conn: sqlite3.Connection, demo: demo_data.DemoData) -> None:
    conn.executemany(
        "INSERT INTO syncs (id, body) VALUES (?, ?)", [(s["id"], _dumps(s)) for s in demo.syncs]
    )
    conn.executemany(
        "INSERT INTO consumers (id, body) VALUES (?, ?)",
        [(c["id"], _dumps(c)) for c in demo.consumers],
    )
    conn.executemany(
        "INSERT INTO postgres_consumers (id, body) VALUES (?, ?)",
        [(c["id"], _dumps(c)) for c in demo.postgres_consumers],
    )
    conn.executemany(
        f"INSERT INTO records ({_RECORD_COLUMNS}) VALUES ({', '.join('?' * 12)})",  # nosec B608  # our constant names; values bound
        [
            (
                r["id"],
                r["sync_id"],
                r["collection_id"],
                r["provider"],
                r["stream_id"],
                r["upstream_id"],
                r["updated_idx"],
                r["upstream_created_at"],
                r["upstream_updated_at"],
                r["created_at"],
                _dumps(r["data"]),
                int(r["deleted"]),
            )
            for r in demo.records
        ],
    )


class _Template:
    """The freshly seeded database, built once per process and shared by every Store."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None

    def copy_into(self, target: sqlite3.Connection) -> None:
        with self._lock:
            if self._conn is None:
                conn = sqlite3.connect(":memory:", check_same_thread=False)
                _create_tables(conn)
                _fill(conn, demo_data.generate())
                conn.commit()
                self._conn = conn
            self._conn.backup(target)


_TEMPLATE = _Template()


@dataclass(frozen=True)
class RecordSave:
    """A stored record (as the store reads it) and the data it is to hold."""

    record: dict[str, Any]
    data: dict[str, Any]
    deleted: bool = False


class Store:
    def __init__(self, db_path: str) -> None:
        self.db_path = db_path
        if db_path != ":memory:" and not db_path.startswith("file:"):
            Path(db_path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(db_path, check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA synchronous = NORMAL")
        _create_tables(self._conn)
        self._reset_hooks: list[Callable[[], None]] = []
        # Ids for records created through the API only need to be unique, not reproducible.
        self._id_rng = random.SystemRandom()

    # --- lifecycle ----------------------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def add_reset_hook(self, hook: Callable[[], None]) -> None:
        self._reset_hooks.append(hook)

    def seed_if_empty(self) -> bool:
        """Copy the demo data in when the database holds no syncs; True if it did."""
        with self._lock:
            (count,) = self._conn.execute("SELECT COUNT(*) FROM syncs").fetchone()
            if count:
                return False
            _TEMPLATE.copy_into(self._conn)
            return True

    def reset(self) -> None:
        """Back to the freshly seeded demo state; whatever else was reset alongside, too."""
        with self._lock:
            _TEMPLATE.copy_into(self._conn)
        for hook in self._reset_hooks:
            hook()

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the store for a read-modify-write, so concurrent writes cannot interleave."""
        with self._lock:
            yield

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the store, and make its writes in here one transaction: a mutation of many
        records commits once, not once a record. What was written before an exception stays
        (it is committed, not rolled back), as if each write had committed on its own: a
        batch refused at its fifth record keeps the first four."""
        with self._lock:
            if self._conn.in_transaction:  # an outer writing() commits
                yield
                return
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield
            finally:
                self._conn.execute("COMMIT")

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._conn.in_transaction:  # inside writing(): its transaction holds this one
                yield self._conn
                return
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    # --- syncs and consumers ------------------------------------------------------------------

    def _bodies(self, table: str) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._conn.execute(f"SELECT body FROM {table} ORDER BY position").fetchall()  # nosec B608  # our constant names; values bound
        return [json.loads(body) for (body,) in rows]

    def _body(self, table: str, item_id: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._conn.execute(
                f"SELECT body FROM {table} WHERE id = ?",  # nosec B608  # our constant names; values bound
                (item_id,),
            ).fetchone()
        return json.loads(row[0]) if row else None

    def list_syncs(self) -> list[dict[str, Any]]:
        return self._bodies("syncs")

    def get_sync(self, sync_id: str) -> dict[str, Any] | None:
        return self._body("syncs", sync_id)

    def rename_sync(self, sync_id: str, name: str) -> dict[str, Any]:
        """Someone renames the sync in Sequin's console: any text, as the console allows."""
        with self._transaction() as conn:
            row = conn.execute("SELECT body FROM syncs WHERE id = ?", (sync_id,)).fetchone()
            if row is None:
                raise KeyError(sync_id)
            body = {**json.loads(row[0]), "name": name, "updated_at": iso_z(utc_now())}
            conn.execute("UPDATE syncs SET body = ? WHERE id = ?", (_dumps(body), sync_id))
        return body

    def list_consumers(self) -> list[dict[str, Any]]:
        return self._bodies("consumers")

    def get_consumer(self, consumer_id: str) -> dict[str, Any] | None:
        return self._body("consumers", consumer_id)

    def list_postgres_consumers(self) -> list[dict[str, Any]]:
        return self._bodies("postgres_consumers")

    def knows_consumer(self, consumer_id: str) -> bool:
        """An HTTP or a Postgres consumer: a mutation may await either."""
        return any(self._body(t, consumer_id) for t in ("consumers", "postgres_consumers"))

    # --- records: reads -----------------------------------------------------------------------

    def count_records(self, collection_id: str | None = None) -> int:
        sql, params = "SELECT COUNT(*) FROM records", tuple[str, ...]()
        if collection_id is not None:
            sql, params = sql + " WHERE collection_id = ?", (collection_id,)
        with self._lock:
            (count,) = self._conn.execute(sql, params).fetchone()
        return int(count)

    def list_records(
        self,
        *,
        after_idx: int = 0,
        limit: int = 100,
        sync_id: str | None = None,
        collection_id: str | None = None,
        provider: str | None = None,
    ) -> list[dict[str, Any]]:
        """Records changed after `after_idx`, earliest change first."""
        where, params = ["updated_idx > ?"], list[int | str]([after_idx])
        for column, value in (
            ("sync_id", sync_id),
            ("collection_id", collection_id),
            ("provider", provider),
        ):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        sql = (
            f"SELECT {_RECORD_COLUMNS} FROM records WHERE {' AND '.join(where)} "  # nosec B608  # our constant names; values bound
            "ORDER BY updated_idx LIMIT ?"
        )
        with self._lock:
            rows = self._conn.execute(sql, [*params, limit]).fetchall()
        return [_record_from_row(row) for row in rows]

    def get_record(
        self, sync_id: str, collection_id: str, upstream_id: str
    ) -> dict[str, Any] | None:
        return self.get_records(sync_id, collection_id, [upstream_id]).get(upstream_id)

    def get_records(
        self, sync_id: str, collection_id: str, upstream_ids: Iterable[str]
    ) -> dict[str, dict[str, Any]]:
        """The stored records among `upstream_ids`, by upstream id: a batch's in a few reads."""
        wanted = list(dict.fromkeys(upstream_ids))
        found: dict[str, dict[str, Any]] = {}
        with self._lock:
            for start in range(0, len(wanted), _IDS_A_READ):
                chunk = wanted[start : start + _IDS_A_READ]
                rows = self._conn.execute(
                    f"SELECT {_RECORD_COLUMNS} FROM records "  # nosec B608  # our constant names; values bound
                    "WHERE sync_id = ? AND collection_id = ? "
                    f"AND upstream_id IN ({', '.join('?' * len(chunk))})",
                    (sync_id, collection_id, *chunk),
                ).fetchall()
                for row in rows:
                    record = _record_from_row(row)
                    found[record["upstream_id"]] = record
        return found

    def any_record(self, collection_id: str) -> dict[str, Any]:
        """A live record of the collection; the same one until it is deleted or reset."""
        with self._lock:
            row = self._conn.execute(
                f"SELECT {_RECORD_COLUMNS} FROM records "  # nosec B608  # our constant names; values bound
                "WHERE collection_id = ? AND deleted = 0 ORDER BY rowid LIMIT 1",
                (collection_id,),
            ).fetchone()
        if row is None:
            raise LookupError(f"no live record in {collection_id}")
        return _record_from_row(row)

    def digest(self) -> str:
        """A fingerprint of every record, to compare whole states cheaply."""
        hasher = hashlib.sha256()
        with self._lock:
            rows = self._conn.execute(
                f"SELECT {_RECORD_COLUMNS} FROM records ORDER BY updated_idx"  # nosec B608  # our constant names; values bound
            ).fetchall()
        for row in rows:
            hasher.update(_dumps(list(row)).encode())
        return hasher.hexdigest()

    # --- records: writes ----------------------------------------------------------------------

    def _next_idx(self, conn: sqlite3.Connection) -> int:
        (top,) = conn.execute("SELECT COALESCE(MAX(updated_idx), 0) FROM records").fetchone()
        return int(top) + 1

    def new_upstream_id(self, sync_id: str, collection_id: str) -> str:
        with self._lock:
            while True:
                candidate = new_upstream_id(collection_id, self._id_rng)
                if self.get_record(sync_id, collection_id, candidate) is None:
                    return candidate

    def insert_record(
        self,
        *,
        sync: dict[str, Any],
        collection_id: str,
        upstream_id: str,
        data: dict[str, Any],
        moment: datetime,
    ) -> dict[str, Any]:
        stamp = iso_z(moment)
        with self._transaction() as conn:
            conn.execute(
                f"INSERT INTO records ({_RECORD_COLUMNS}) VALUES ({', '.join('?' * 12)})",  # nosec B608  # our constant names; values bound
                (
                    record_uuid(sync["id"], collection_id, upstream_id),
                    sync["id"],
                    collection_id,
                    sync["provider"],
                    sync["stream_id"],
                    upstream_id,
                    self._next_idx(conn),
                    stamp,
                    stamp,
                    stamp,
                    _dumps(data),
                    0,
                ),
            )
        record = self.get_record(sync["id"], collection_id, upstream_id)
        if record is None:
            raise RuntimeError(f"{upstream_id} was not stored")
        return record

    def save_record(
        self,
        record: dict[str, Any],
        *,
        data: dict[str, Any],
        moment: datetime,
        deleted: bool = False,
    ) -> dict[str, Any]:
        """Store the record's new data; every save is a change, so it gets a new updated_idx."""
        (saved,) = self.save_records([RecordSave(record, data, deleted)], moment=moment)
        return saved

    def save_records(
        self, saves: Sequence[RecordSave], *, moment: datetime
    ) -> list[dict[str, Any]]:
        """Store each record's new data, in order, in one statement: each save gets the next
        updated_idx (one record saved twice ends with the later data), all the same stamp (one
        write of the upstream, as Salesforce stamps the records of one DML call)."""
        if not saves:
            return []
        stamp = iso_z(moment)
        with self._transaction() as conn:
            first_idx = self._next_idx(conn)
            rows = [
                (_dumps(save.data), int(save.deleted), first_idx + n, stamp, save.record["id"])
                for n, save in enumerate(saves)
            ]
            cursor = conn.executemany(
                "UPDATE records SET data = ?, deleted = ?, updated_idx = ?, "
                "upstream_updated_at = ? WHERE id = ?",
                rows,
            )
            if cursor.rowcount != len(rows):
                raise RuntimeError(f"{len(rows)} records to store, {cursor.rowcount} stored")
        # The rows as stored, without reading them again (data is JSON's types: it came from it).
        return [
            {
                **save.record,
                "data": save.data,
                "deleted": save.deleted,
                "updated_idx": first_idx + n,
                "upstream_updated_at": stamp,
            }
            for n, save in enumerate(saves)
        ]

    def write_as_upstream(
        self,
        sync_id: str,
        collection_id: str,
        upstream_id: str,
        data_patch: dict[str, Any],
    ) -> dict[str, Any]:
        """Someone edits the record in the upstream's own UI: no validation, stamps move."""
        with self._lock:
            record = self.get_record(sync_id, collection_id, upstream_id)
            if record is None:
                raise KeyError(f"{sync_id}/{collection_id}/{upstream_id}")
            moment = utc_now()
            data = {**record["data"], **data_patch}
            stamp_modified(SCHEMAS[collection_id], data, moment)
            return self.save_record(record, data=data, moment=moment)
