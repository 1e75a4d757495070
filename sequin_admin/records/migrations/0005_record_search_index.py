"""A substring index on IndexedRecord.search_text, in what each database offers.

PostgreSQL: the `pg_trgm` extension (created here: the `postgres` superuser or a database
owner can, pg_trgm being a trusted extension since PostgreSQL 13) and a GIN trigram index,
which serves `search_text LIKE '%term%'` for terms of three characters or more.

SQLite: an external-content FTS5 table with the trigram tokenizer (SQLite 3.34+), kept in
step with the table by triggers, so a quoted FTS phrase finds the same rows as LIKE. A SQLite
built without FTS5 or the trigram tokenizer gets nothing here and search falls back to LIKE
(records/search.py checks for the table).
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

TABLE = "records_indexedrecord"
FTS_TABLE = "records_indexedrecord_fts"
TRGM_INDEX = "record_search_trgm"

# While index_upsert holds a row here (inside its own transaction, so no other connection
# sees it) the triggers stand aside and it writes the FTS rows itself, in one go: FTS5 rows
# written through a trigger cost several times what the same rows cost written directly.
FTS_PAUSED_TABLE = "records_indexedrecord_fts_paused"
NOT_PAUSED = f"WHEN NOT EXISTS (SELECT 1 FROM {FTS_PAUSED_TABLE})"

SQLITE_CREATE = [
    f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5("
    f"search_text, content='{TABLE}', content_rowid='id', tokenize='trigram')",
    f"CREATE TABLE {FTS_PAUSED_TABLE} (id INTEGER PRIMARY KEY)",
    f"CREATE TRIGGER {FTS_TABLE}_insert AFTER INSERT ON {TABLE} {NOT_PAUSED} BEGIN "
    f"INSERT INTO {FTS_TABLE}(rowid, search_text) VALUES (new.id, new.search_text); END",
    f"CREATE TRIGGER {FTS_TABLE}_delete AFTER DELETE ON {TABLE} {NOT_PAUSED} BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, search_text) "
    f"VALUES ('delete', old.id, old.search_text); END",
    # Only when the text changes: marking rows deleted or pending leaves the FTS table alone.
    f"CREATE TRIGGER {FTS_TABLE}_update AFTER UPDATE OF search_text ON {TABLE} {NOT_PAUSED} "
    f"BEGIN INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, search_text) "
    f"VALUES ('delete', old.id, old.search_text); "
    f"INSERT INTO {FTS_TABLE}(rowid, search_text) VALUES (new.id, new.search_text); END",
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')",
]
SQLITE_DROP = [
    f"DROP TRIGGER IF EXISTS {FTS_TABLE}_insert",
    f"DROP TRIGGER IF EXISTS {FTS_TABLE}_delete",
    f"DROP TRIGGER IF EXISTS {FTS_TABLE}_update",
    f"DROP TABLE IF EXISTS {FTS_TABLE}",
    f"DROP TABLE IF EXISTS {FTS_PAUSED_TABLE}",
]
POSTGRES_CREATE = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    f"CREATE INDEX IF NOT EXISTS {TRGM_INDEX} ON {TABLE} USING gin (search_text gin_trgm_ops)",
]
# The extension stays: other indexes may use it.
POSTGRES_DROP = [f"DROP INDEX IF EXISTS {TRGM_INDEX}"]


def _sqlite_has_trigram_fts(cursor: Any) -> bool:
    try:
        cursor.execute("CREATE VIRTUAL TABLE temp.fts_probe USING fts5(x, tokenize='trigram')")
    except Exception:  # sqlite3.OperationalError, wrapped by Django: no FTS5 or no trigram
        return False
    cursor.execute("DROP TABLE temp.fts_probe")
    return True


def create(apps: Any, schema_editor: Any) -> None:
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            statements = POSTGRES_CREATE
        elif connection.vendor == "sqlite" and _sqlite_has_trigram_fts(cursor):
            statements = SQLITE_CREATE
        else:
            return
        for statement in statements:
            cursor.execute(statement)


def drop(apps: Any, schema_editor: Any) -> None:
    connection = schema_editor.connection
    statements = {"postgresql": POSTGRES_DROP, "sqlite": SQLITE_DROP}.get(connection.vendor, [])
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("records", "0004_record_reread_pending")]

    operations = [migrations.RunPython(create, drop)]
