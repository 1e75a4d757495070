"""`?q=` through the text index (FTS5 on SQLite, pg_trgm on PostgreSQL): the same rows as a
substring match of every term, kept in step with the table, and found through the index."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sequin_admin.records import search
from sequin_admin.records.index import index_upsert
from sequin_admin.records.listing import index_page, search_terms
from sequin_admin.records.models import IndexedRecord
from sequin_admin.sequin import Record

pytestmark = pytest.mark.django_db
SYNC = "sync-search"
COLLECTION = "salesforce:lead"
OTHER_COLLECTION = "salesforce:contact"

PEOPLE = [
    {"Name": "Ada Lovelace", "Company": "Analytical Engines", "Note": "100% sure_thing"},
    {"Name": "Grace Hopper", "Company": "Navy", "Note": 'said "bug"'},
    {"Name": "Alan Turing", "Company": "Bletchley Park", "Note": "enigma"},
    {"Name": "Ada Byron", "Company": "Lovelace Estates", "Note": None},
    {"Name": "Edsger Dijkstra", "Company": "Eindhoven", "Note": "go to"},
    # FTS5's query syntax as text.
    {"Name": "William Liamson", "Company": 'NEAR("x y") AND z OR w', "Note": "*star* ^caret"},
    # Every trigram of "liam" (lia, iam), none of them next to the other.
    {"Name": "Mia Lia", "Company": "Iam Holdings", "Note": "back\\slash"},
    {"Name": "Zoë Ødegård", "Company": "Straße GmbH", "Note": "日本語のテキスト"},
]
QUERIES = [
    "lovelace",  # two records, in different fields
    "ada lovelace",  # every term must appear
    "LOVELACE ada",  # order and case do not matter
    "velac",  # a substring inside a word
    "ace",  # three characters, the shortest trigram
    "ad",  # shorter than a trigram: LIKE only
    "ad lovelace",  # a short and a long term together
    "100%",  # LIKE's wildcards are literal
    "sure_thing",
    '"bug"',  # FTS5's quotes are literal
    "nobody-matches-this",
    "enigma turing bletchley",
    "lia",  # three characters
    "liam",  # four, also in a row holding its trigrams apart
    "liamson",
    "analytical",  # long terms
    "william liamson engines",
    "and",  # FTS5's operators, taken literally
    "near",
    'near("x',
    "near(",
    "or",
    "*star*",
    "^caret",
    '"x',  # quotes of FTS5 strings, in and around a term
    'y")',
    '"""',
    '"',
    "k\\sl",  # LIKE's escape character
    "zoë",  # unicode
    "ødegård",
    "straße",
    "日本語",
    "のテキ",
    "テキスト",
]


def record(upstream_id: str, data: dict[str, Any], **changes: Any) -> Record:
    fields: dict[str, Any] = {
        "sync_id": SYNC,
        "collection_id": COLLECTION,
        "upstream_id": upstream_id,
        "data": data,
        "deleted": False,
        "updated_idx": 1,
        "upstream_created_at": None,
        "upstream_updated_at": None,
        **changes,
    }
    return Record(**fields)


def found(q: str, collection_id: str = COLLECTION) -> list[str]:
    page = index_page(sync_id=SYNC, collection_id=collection_id, q=q, limit=100)
    return sorted(row.upstream_id for row in page.rows)


def substring_matches(q: str, collection_id: str = COLLECTION) -> list[str]:
    """What `q` means, worked out in Python from the stored search text."""
    rows = IndexedRecord.objects.filter(sync_id=SYNC, collection_id=collection_id, deleted=False)
    return sorted(
        row.upstream_id for row in rows if all(term in row.search_text for term in search_terms(q))
    )


@pytest.fixture
def people() -> None:
    index_upsert(
        records=[record(f"P{n}", data, updated_idx=n + 1) for n, data in enumerate(PEOPLE)]
    )
    # The same words in another collection must not count for this one.
    index_upsert(
        records=[
            record(f"O{n}", PEOPLE[0], collection_id=OTHER_COLLECTION, updated_idx=n + 1)
            for n in range(5)
        ]
    )


@pytest.fixture
def without_text_index() -> Iterator[None]:
    """Search as on a SQLite built without FTS5, and as on any other database."""
    key = (connection.alias, str(connection.settings_dict["NAME"]))
    saved = dict(search._fts_known)
    search._fts_known[key] = False
    original_vendor = connection.vendor
    connection.vendor = "other"
    try:
        yield
    finally:
        connection.vendor = original_vendor
        search._fts_known.clear()
        search._fts_known.update(saved)


@pytest.mark.parametrize("q", QUERIES)
def test_search_finds_the_records_containing_every_term(people: None, q: str) -> None:
    assert found(q) == substring_matches(q)


def test_the_expected_rows_are_found(people: None) -> None:
    # Guards the comparison above against both sides finding nothing.
    assert found("lovelace") == ["P0", "P3"]
    assert found("ada lovelace") == ["P0", "P3"]
    assert found("velac ada byron") == ["P3"]
    assert found("100%") == ["P0"]
    assert found('"bug"') == ["P1"]
    assert found("ad") == ["P0", "P3"]
    assert found("nobody-matches-this") == []


@pytest.mark.parametrize("q", QUERIES)
def test_without_a_text_index_search_finds_the_same_rows(
    people: None, without_text_index: None, q: str
) -> None:
    assert found(q) == substring_matches(q)


def test_a_term_whose_trigrams_appear_apart_is_not_found(people: None) -> None:
    assert found("liam") == ["P5"]
    if connection.vendor == "sqlite" and search._has_fts(connection.alias):
        # The FTS table proposes both (it keeps no positions): the LIKE is what tells.
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT r.upstream_id FROM {search.FTS_TABLE} JOIN records_indexedrecord AS r "
                f"ON r.id = {search.FTS_TABLE}.rowid WHERE {search.FTS_TABLE} MATCH %s "
                "AND r.collection_id = %s",
                [search.fts_phrases(["liam"]), COLLECTION],
            )
            assert sorted(row[0] for row in cursor.fetchall()) == ["P5", "P6"]


def test_rows_holding_a_terms_trigrams_apart_are_no_candidates(
    people: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """How many candidates there are decides the page's plan: up to CANDIDATE_LIMIT, the page
    is chosen among them; the row holding only the trigrams of "liam" must not count."""
    if connection.vendor == "sqlite" and not search._has_fts(connection.alias):
        pytest.skip("this SQLite has no FTS5 trigram tokenizer")
    monkeypatch.setattr(search, "CANDIDATE_LIMIT", 1)
    rows = IndexedRecord.objects.filter(sync_id=SYNC, collection_id=COLLECTION)
    narrowed = search.search_rows(rows, ["liam"], sync_id=SYNC, collection_id=COLLECTION)
    pk = IndexedRecord.objects.get(collection_id=COLLECTION, upstream_id="P5").pk
    assert f'."id" IN ({pk})' in str(narrowed.query)
    assert [row.upstream_id for row in narrowed] == ["P5"]


def test_more_matches_than_candidates_are_paged_by_the_keyset_walk(
    people: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search, "CANDIDATE_LIMIT", 1)
    assert found("lovelace") == ["P0", "P3"]
    first = index_page(sync_id=SYNC, collection_id=COLLECTION, q="lovelace", limit=1)
    second = index_page(
        sync_id=SYNC, collection_id=COLLECTION, q="lovelace", limit=1, after=first.next_key
    )
    assert [r.upstream_id for r in first.rows + second.rows] == ["P3", "P0"]


def test_candidates_are_paged_in_keyset_order(people: None) -> None:
    first = index_page(sync_id=SYNC, collection_id=COLLECTION, q="lovelace", limit=1)
    second = index_page(
        sync_id=SYNC, collection_id=COLLECTION, q="lovelace", limit=1, after=first.next_key
    )
    assert [r.upstream_id for r in first.rows + second.rows] == ["P3", "P0"]
    assert second.next_key is None


def test_the_text_index_follows_updates_and_deletes(people: None) -> None:
    index_upsert(records=[record("P2", {"Name": "Alan Mathison"}, updated_idx=50)])
    assert found("enigma") == []
    assert found("mathison") == ["P2"]
    IndexedRecord.objects.filter(upstream_id="P2").delete()
    assert found("mathison") == []
    # Marking rows deleted changes no text: the live filter still applies.
    IndexedRecord.objects.filter(upstream_id="P1").update(deleted=True)
    assert found('"bug"') == []


@pytest.mark.skipif(
    connection.vendor != "sqlite",
    reason="index_upsert writes FTS5 rows on SQLite only; PostgreSQL's trigram index is the "
    "database's own (test_the_text_index_follows_updates_and_deletes covers both)",
)
def test_a_row_written_again_with_the_same_text_keeps_its_text_index_entry(
    people: None,
) -> None:
    if not search._has_fts(connection.alias):
        pytest.skip("this SQLite has no FTS5 trigram tokenizer")
    stored = IndexedRecord.objects.get(upstream_id="P2")
    same_text = record("P2", stored.data, updated_idx=stored.updated_idx + 1)
    with CaptureQueriesContext(connection) as queries:
        index_upsert(records=[same_text])
    assert not [q for q in queries if f"INSERT INTO {search.FTS_TABLE}(" in q["sql"]]
    assert found("enigma") == ["P2"]
    index_upsert(records=[record("P2", {"Name": "Alan Mathison"}, updated_idx=99)])
    assert found("enigma") == [] and found("mathison") == ["P2"]


def test_search_queries_do_not_grow_with_the_matches(people: None) -> None:
    counts = []
    for q in ("nobody-matches-this", "ada byron", "lovelace"):
        with CaptureQueriesContext(connection) as queries:
            found(q)
        counts.append(len(queries))
    # Once the text index's presence is known; nothing matched needs no page query.
    assert max(counts) - min(counts) <= 1


def _plan(sql: str, params: Any) -> str:
    explain = "EXPLAIN QUERY PLAN" if connection.vendor == "sqlite" else "EXPLAIN"
    with connection.cursor() as cursor:
        cursor.execute(f"{explain} {sql}", params)
        return " | ".join(str(row[-1]) for row in cursor.fetchall())


@pytest.mark.skipif(
    connection.vendor != "sqlite",
    reason="FTS5 is SQLite's; the pg_trgm test below checks PostgreSQL",
)
def test_sqlite_reads_the_fts_table_before_the_records(people: None) -> None:
    if not search._has_fts(connection.alias):
        pytest.skip("this SQLite has no FTS5 trigram tokenizer")
    with CaptureQueriesContext(connection) as queries:
        found("lovelace")
    candidate = next(q["sql"] for q in queries if search.FTS_TABLE in q["sql"])
    plan = _plan(candidate, None)
    assert plan.index(f"SCAN {search.FTS_TABLE} VIRTUAL TABLE") < plan.index(
        "USING INTEGER PRIMARY KEY"
    ), plan
    assert "record_keyset" not in plan


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="pg_trgm is PostgreSQL's; the FTS5 test above checks SQLite",
)
def test_postgres_reads_the_trigram_index_on_a_table_never_analyzed(people: None) -> None:
    with CaptureQueriesContext(connection) as queries:
        found("lovelace")
    candidate = next(q["sql"] for q in queries if "MATERIALIZED" in q["sql"])
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = _plan(candidate, None)
    assert "Bitmap Index Scan on record_search_trgm" in plan, plan
