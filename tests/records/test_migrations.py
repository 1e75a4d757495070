"""Migrations 0007 and 0008: SQLite's FTS5 table of 0005 made again without positions (0007),
then with them again (0008), each both ways; nothing where there is no FTS table."""

from __future__ import annotations

import importlib
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import OperationalError, connection
from django.db.migrations.executor import MigrationExecutor

from sequin_admin.records import search
from sequin_admin.records.index import index_upsert
from sequin_admin.records.models import IndexedRecord
from sequin_admin.sequin import Record

search_index = importlib.import_module("sequin_admin.records.migrations.0005_record_search_index")
detail_none = importlib.import_module(
    "sequin_admin.records.migrations.0007_record_search_index_detail_none"
)
BEFORE = ("records", "0006_column_choice")
NO_DETAIL = ("records", "0007_record_search_index_detail_none")
LATEST = ("records", "0008_record_search_index_full_detail")
TABLE = IndexedRecord._meta.db_table


def migrate(target: tuple[str, str]) -> None:
    MigrationExecutor(connection).migrate([target])


def fts_objects() -> dict[str, str]:
    """The FTS table's and the record table's triggers' SQL, by name."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, sql FROM sqlite_master WHERE name = %s OR "
            "(type = 'trigger' AND tbl_name = %s)",
            [search.FTS_TABLE, TABLE],
        )
        return dict(cursor.fetchall())


def automerge() -> Any:
    """The table's automerge setting; None where it is FTS5's default."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT v FROM {search.FTS_TABLE}_config WHERE k = 'automerge'")
        found = cursor.fetchone()
    return None if found is None else found[0]


def matching(term: str) -> list[str]:
    """The rows the FTS table holds for `term`, checked against the records (FTS5's
    integrity-check with rank 1 compares an external-content index with its content)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {search.FTS_TABLE}({search.FTS_TABLE}, rank) "
            "VALUES ('integrity-check', 1)"
        )
        cursor.execute(
            f"SELECT r.upstream_id FROM {search.FTS_TABLE} JOIN {TABLE} AS r "
            f"ON r.id = {search.FTS_TABLE}.rowid WHERE {search.FTS_TABLE} MATCH %s",
            [search.fts_phrases([term])],
        )
        return sorted(row[0] for row in cursor.fetchall())


def phrase_rows(query: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT rowid FROM {search.FTS_TABLE} WHERE {search.FTS_TABLE} MATCH %s", [query]
        )
        return len(cursor.fetchall())


def record(upstream_id: str, text: str) -> Record:
    return Record(
        sync_id="s",
        collection_id="c",
        upstream_id=upstream_id,
        data={"text": text},
        deleted=False,
        updated_idx=1,
        upstream_created_at=None,
        upstream_updated_at=None,
    )


@pytest.mark.django_db(transaction=True)  # SQLite's schema editor runs outside a transaction
@pytest.mark.skipif(connection.vendor != "sqlite", reason="FTS5 is SQLite's")
def test_the_fts_table_loses_its_positions_and_gets_them_back() -> None:
    if not search._has_fts(connection.alias):
        pytest.skip("this SQLite has no FTS5 trigram tokenizer")
    index_upsert(records=[record("A", "ada lovelace"), record("B", "grace hopper")])
    latest = fts_objects()
    # 0008: 0005's table, as 0005 made it, with FTS5's default automerge.
    assert latest[search.FTS_TABLE] == search_index.SQLITE_CREATE[0]
    assert automerge() is None
    assert matching("lovelace") == ["A"]
    assert phrase_rows('"hopper"') == 1

    migrate(NO_DETAIL)
    migrated = fts_objects()
    assert "detail=none" in migrated[search.FTS_TABLE]
    assert automerge() == 8
    assert matching("hopper") == ["B"]
    # Why search asks for trigrams: without positions FTS5 refuses a phrase of several.
    with pytest.raises(OperationalError, match="phrase queries are not supported"):
        phrase_rows('"hopper"')

    migrate(BEFORE)
    # 0005's table, as 0005 made it, filled again from the records.
    back = fts_objects()
    assert back == latest
    assert automerge() is None
    assert matching("lovelace") == ["A"]
    # The triggers are 0005's on every side.
    triggers = {name: sql for name, sql in back.items() if name != search.FTS_TABLE}
    assert sorted(triggers.values()) == sorted(
        s for s in search_index.SQLITE_CREATE if s.startswith("CREATE TRIGGER")
    )
    assert {name: migrated[name] for name in triggers} == triggers
    assert phrase_rows('"hopper"') == 1

    migrate(LATEST)
    assert fts_objects() == latest
    assert automerge() is None
    assert matching("hopper") == ["B"]
    # The triggers still keep it in step.
    IndexedRecord.objects.filter(upstream_id="B").update(search_text="b grace brewster")
    assert matching("hopper") == [] and matching("brewster") == ["B"]


def schema() -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s ORDER BY 1",
                [TABLE],
            )
        else:
            cursor.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name")
        return cursor.fetchall()


@pytest.mark.django_db
@pytest.mark.parametrize("step", [detail_none.without_detail, detail_none.with_full_detail])
def test_without_an_fts_table_the_migration_changes_nothing(step: Any) -> None:
    """PostgreSQL keeps its trigram index; a SQLite where 0005 found no FTS5 trigram (as here,
    with 0005's SQLite objects dropped for this test's transaction) gets no table either way."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            for statement in search_index.SQLITE_DROP:
                cursor.execute(statement)
    before = schema()
    step(None, SimpleNamespace(connection=connection))
    assert schema() == before
