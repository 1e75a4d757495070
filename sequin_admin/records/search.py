"""`?q=` on the record index: every term must appear in a record's search text, as a substring.

The rows are found through what each database offers (migrations 0005 and 0008): on SQLite
an FTS5 trigram table, on PostgreSQL a pg_trgm GIN index. Neither query plan is left to
chance on the listing's own query, which is ordered by the keyset index and would rather walk
that index, filtering every row, than fetch a handful of rows and sort them (a term that
matches nothing then reads the whole collection). So a search first asks the text index for
the matching ids, at most CANDIDATE_LIMIT of them; when there are no more than that, the page
is chosen among those ids only. A term common enough to match more rows is also common enough
that walking the keyset index finds a page of matches quickly, and that is what happens then.

Every term is a LIKE condition of the page's query, whatever the text index found. SQLite's
FTS table is asked for the rows holding all of a term's trigrams, wherever they are (a table
without positions, as migration 0007 made it, takes nothing else): every row holding the
term, and a few holding its trigrams apart ("liam" proposes "mail iam lia"), which the same
LIKE drops from the candidates before they are counted. Terms shorter than three characters
have no trigram: they narrow the rows by LIKE only. A SQLite without FTS5 or its trigram
tokenizer searches by LIKE alone: slower, same rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connections, transaction
from django.db.models import QuerySet

from .models import IndexedRecord

CANDIDATE_LIMIT = 1_000
TRIGRAM = 3
FTS_TABLE = "records_indexedrecord_fts"
# Migration 0005: while it holds a row, the FTS triggers stand aside (see fts_written_here).
FTS_PAUSED_TABLE = "records_indexedrecord_fts_paused"

# Per database (alias and name): whether migration 0005 made the FTS5 table there (0007 and
# 0008 make it again, where it is).
_fts_known: dict[tuple[str, str], bool] = {}


def search_rows(
    rows: QuerySet[IndexedRecord], terms: Sequence[str], *, sync_id: str, collection_id: str
) -> QuerySet[IndexedRecord]:
    """`rows` (of one collection) narrowed to those whose search text contains every term."""
    for term in terms:
        rows = rows.filter(search_text__contains=term)
    indexed = [term for term in terms if len(term) >= TRIGRAM]
    if not indexed:
        return rows
    ids = _candidate_ids(rows, indexed, sync_id=sync_id, collection_id=collection_id)
    if ids is None or len(ids) > CANDIDATE_LIMIT:
        return rows
    return rows.filter(id__in=ids)


def _candidate_ids(
    rows: QuerySet[IndexedRecord], indexed: Sequence[str], *, sync_id: str, collection_id: str
) -> list[int] | None:
    """Up to CANDIDATE_LIMIT + 1 ids of the collection's rows holding every term, found
    through the text index, or None where there is none. Each row the index proposes is
    tested by LIKE here too: the count decides the page's plan (search_rows), and SQLite's
    index proposes rows holding a term's trigrams apart."""
    connection = connections[rows.db]
    patterns = ["%" + connection.ops.prep_for_like_query(term) + "%" for term in indexed]
    if connection.vendor == "postgresql":
        return _trigram_candidate_ids(rows.db, patterns, sync_id, collection_id)
    if connection.vendor != "sqlite" or not _has_fts(rows.db):
        return None
    # CROSS JOIN makes SQLite read the FTS matches first and look each row up by id; left to
    # itself it walks the collection's keyset index and tests every row against the matches.
    table = IndexedRecord._meta.db_table
    # As Django's `contains` on SQLite: prep_for_like_query escapes with a backslash.
    likes = "".join([" AND r.search_text LIKE %s ESCAPE '\\'"] * len(patterns))
    # Table names are constants, every value is bound.
    sql = (
        f"SELECT r.id FROM {FTS_TABLE} CROSS JOIN {table} AS r "  # nosec B608 # table names are constants, terms bound
        f"ON r.id = {FTS_TABLE}.rowid "
        f"WHERE {FTS_TABLE} MATCH %s AND r.sync_id = %s AND r.collection_id = %s{likes} "
        "LIMIT %s"
    )
    params: list[str | int] = [
        fts_phrases(indexed),
        sync_id,
        collection_id,
        *patterns,
        CANDIDATE_LIMIT + 1,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def _trigram_candidate_ids(
    alias: str, patterns: Sequence[str], sync_id: str, collection_id: str
) -> list[int]:
    """The GIN trigram index's matches, whatever the table's statistics say.

    On a table never analyzed (a first fill leaves one) the planner believes it tiny and
    walks a B-tree index of the collection, filtering every row. The CTE holds only the LIKE
    conditions, which no B-tree serves, and with sequential scans priced out for this one
    statement the bitmap scan of the trigram index is the plan left.
    """
    table = IndexedRecord._meta.db_table
    likes = " AND ".join(["search_text LIKE %s"] * len(patterns))
    # The table name is a constant, every value is bound.
    sql = (
        f"WITH matching AS MATERIALIZED (SELECT id, sync_id, collection_id FROM {table} "  # nosec B608 # table name is the model's, terms bound
        f"WHERE {likes}) "
        "SELECT id FROM matching WHERE sync_id = %s AND collection_id = %s LIMIT %s"
    )
    with transaction.atomic(using=alias), connections[alias].cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('enable_seqscan'), set_config('enable_seqscan', 'off', true)"
        )
        (previous, _) = cursor.fetchone()
        cursor.execute(sql, [*patterns, sync_id, collection_id, CANDIDATE_LIMIT + 1])
        ids = [row[0] for row in cursor.fetchall()]
        cursor.execute("SELECT set_config('enable_seqscan', %s, true)", [previous])
    return ids


def fts_phrases(terms: Sequence[str]) -> str:
    """An FTS5 query for the rows holding every trigram of every term (each at least three
    characters long), each trigram a quoted string: taken literally, whatever it holds.

    A phrase of several trigrams would match the term itself, but the table of migration 0007
    (no positions) refuses it ("phrase queries are not supported (detail!=full)"); one
    trigram a phrase is what every FTS table of 0005, 0007 and 0008 accepts."""
    trigrams = dict.fromkeys(
        term[start : start + TRIGRAM] for term in terms for start in range(len(term) - TRIGRAM + 1)
    )
    return " AND ".join('"' + trigram.replace('"', '""') + '"' for trigram in trigrams)


def _has_fts(alias: str) -> bool:
    connection = connections[alias]
    key = (alias, str(connection.settings_dict["NAME"]))
    if key not in _fts_known:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = %s", [FTS_TABLE]
            )
            _fts_known[key] = cursor.fetchone() is not None
    return _fts_known[key]


class FtsWrites:
    """The FTS rows of one upsert, written here in one go instead of row by row by triggers.

    Used inside the upsert's transaction: `pause` (the triggers skip every row written until
    `resume`; no other connection sees the pause, the transaction being this one's), then
    `note_stored` for the rows about to be replaced, the upsert itself RETURNING (id,
    search_text), `write` with what all its statements returned, and `resume`.
    """

    def __init__(self, cursor: Any) -> None:
        self.cursor = cursor
        self.stored: dict[int, str] = {}

    def pause(self) -> None:
        self.cursor.execute("INSERT INTO records_indexedrecord_fts_paused (id) VALUES (1)")

    def note_stored(self, rows: Sequence[tuple[int, str]]) -> None:
        self.stored.update(rows)

    def write(self, written: Sequence[tuple[int, str]]) -> None:
        # A row whose text did not change keeps its FTS entry: re-listing a collection, or an
        # answer that changed a field's value but not its words, costs no trigram writes.
        changed = [(pk, text) for pk, text in written if self.stored.get(pk) != text]
        replaced = [(pk, self.stored[pk]) for pk, _ in changed if pk in self.stored]
        if replaced:
            self.cursor.executemany(
                "INSERT INTO records_indexedrecord_fts(records_indexedrecord_fts, rowid, "
                "search_text) VALUES ('delete', %s, %s)",
                replaced,
            )
        if changed:
            self.cursor.executemany(
                "INSERT INTO records_indexedrecord_fts(rowid, search_text) VALUES (%s, %s)",
                changed,
            )

    def resume(self) -> None:
        self.cursor.execute("DELETE FROM records_indexedrecord_fts_paused")


def fts_written_here(cursor: Any, alias: str) -> FtsWrites | None:
    """FtsWrites where the database has the FTS table and can return upserted rows (SQLite
    3.35+); None where the triggers (or nothing) keep the text index."""
    connection = connections[alias]
    if (
        connection.vendor != "sqlite"
        or not connection.features.can_return_columns_from_insert
        or not _has_fts(alias)
    ):
        return None
    return FtsWrites(cursor)
