"""Migration 0005's FTS5 table made again with `detail=none`: it keeps which rows hold each
trigram, not where in the row. Inserting 20,000 lead-like search texts into such a table took
0.83 s instead of 1.31 s (0.71 s with automerge at 8, below), and index_upsert of 20,000 new
records 1.9 s instead of 2.5 s.

Without positions FTS5 takes no phrase of more than one trigram, so search asks for all of a
term's trigrams (records/search.py), which finds every row holding the term and some that
hold its trigrams apart; the LIKE that search applies to every term keeps only the former.
Everything else is 0005's: the same external content, triggers and pause table. PostgreSQL's
trigram index and a SQLite without the FTS table (one without FTS5 or its trigram tokenizer)
are left as they are.
"""

from __future__ import annotations

import importlib
from typing import Any

from django.db import migrations

# 0005 is applied as it is and never changes: its statements are the shape to keep.
search_index = importlib.import_module("sequin_admin.records.migrations.0005_record_search_index")
FTS_TABLE = search_index.FTS_TABLE
TABLE = search_index.TABLE
CREATE_FULL_DETAIL = search_index.SQLITE_CREATE[0]
CREATE_NO_DETAIL = (
    f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5("
    f"search_text, content='{TABLE}', content_rowid='id', tokenize='trigram', detail=none)"
)
# FTS5 merges a level's segments once it holds this many (its default is 4). Each page an
# upsert writes is a segment, and the fewer merges rewrite each row fewer times; but a search
# reads every segment for each of its trigrams, up to one less than this many a level.
# Measured with index_upsert on new lead-like rows in pages of 500: 20,000 rows (median of 3)
# 2.02 s at 4, 1.91 s at 8, 1.92 s at 16; 100,000 rows (2 runs) 11.1 s, 10.0 s, 9.1-9.3 s;
# then a search for an 18-character record id (16 trigrams) in those 100,000 rows took 19 ms
# at 4 and 8, 29 ms at 16. 8 is most of the gain for no slower search.
AUTOMERGE = f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rank) VALUES ('automerge', 8)"


def _replace_fts_table(schema_editor: Any, create: str, settings: list[str]) -> None:
    """0005's SQLite statements, with `create` for its FTS table and `settings` before the
    rebuild; nothing where the FTS table is missing (as on PostgreSQL)."""
    connection = schema_editor.connection
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = %s", [FTS_TABLE]
        )
        if cursor.fetchone() is None:
            return
        # 0005's statements after the FTS table's own: the pause table, triggers, rebuild.
        rest = search_index.SQLITE_CREATE[1:]
        for statement in [*search_index.SQLITE_DROP, create, *settings, *rest]:
            cursor.execute(statement)


def without_detail(apps: Any, schema_editor: Any) -> None:
    _replace_fts_table(schema_editor, CREATE_NO_DETAIL, [AUTOMERGE])


def with_full_detail(apps: Any, schema_editor: Any) -> None:
    _replace_fts_table(schema_editor, CREATE_FULL_DETAIL, [])


class Migration(migrations.Migration):
    dependencies = [("records", "0006_column_choice")]

    operations = [migrations.RunPython(without_detail, with_full_detail)]
