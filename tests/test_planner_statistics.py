"""The bulk writers keep PostgreSQL's statistics fresh: past autovacuum's own threshold, the
table written is analyzed once the writing transaction commits."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import DatabaseError, connection

from sequin_admin import planner_statistics
from sequin_admin.bulk_rows import rows_insert
from sequin_admin.mutations.models import Mutation, MutationRecord
from sequin_admin.planner_statistics import statistics_note_writes, statistics_stale

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("planner_counts")]


@pytest.fixture
def statements() -> Iterator[list[str]]:
    """Every statement sent on the connection, as sent."""
    sent: list[str] = []

    def record(execute: Callable[..., Any], sql: str, *args: Any) -> Any:
        sent.append(sql)
        return execute(sql, *args)

    with connection.execute_wrapper(record):
        yield sent


@pytest.mark.parametrize(
    ("rows_at_last_analyze", "modified", "stale"),
    [
        (-1, 0, True),  # never analyzed
        (0, 50, False),
        (0, 51, True),
        (100_000, 10_050, False),
        (100_000, 10_051, True),
    ],
)
def test_a_table_is_stale_past_autovacuums_threshold(
    rows_at_last_analyze: float, modified: int, stale: bool
) -> None:
    assert statistics_stale(rows_at_last_analyze=rows_at_last_analyze, modified=modified) is stale


def _journal_rows(count: int) -> None:
    mutation = Mutation.objects.create(
        kind="update", sync_id="s", collection_id="c", request_body={}
    )
    rows_insert(
        MutationRecord, ("mutation", "upstream_id"), [(mutation.pk, f"u{n}") for n in range(count)]
    )


def _analyzed(statements: list[str], table: str) -> bool:
    return any(s.startswith("ANALYZE") and table in s for s in statements)


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="PostgreSQL's planner statistics; SQLite's side is the last test",
)
def test_writing_past_the_check_analyzes_the_table_after_commit(
    statements: list[str],
    django_capture_on_commit_callbacks: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # However big the test database's table was at its last ANALYZE, these rows are stale.
    monkeypatch.setattr(planner_statistics, "SCALE_FACTOR", 0.0)
    table = MutationRecord._meta.db_table
    with django_capture_on_commit_callbacks(execute=False) as pending:
        _journal_rows(planner_statistics.CHECK_EVERY)
    assert not _analyzed(statements, table), "nothing before the writes commit"
    assert len(pending) == 1
    pending[0]()
    assert _analyzed(statements, table)


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="PostgreSQL's planner statistics; SQLite's side is the last test",
)
def test_fewer_rows_than_the_check_ask_nothing(
    statements: list[str], django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        _journal_rows(planner_statistics.CHECK_EVERY - 2)  # and one attempt
    assert statements[-1].startswith("INSERT"), statements[-1]


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="PostgreSQL's planner statistics; SQLite's side is the last test",
)
def test_a_table_analyzed_recently_enough_is_not_analyzed_again(
    statements: list[str],
    django_capture_on_commit_callbacks: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(planner_statistics, "THRESHOLD_ROWS", 10**9)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {MutationRecord._meta.db_table}")
    with django_capture_on_commit_callbacks(execute=True):
        _journal_rows(planner_statistics.CHECK_EVERY)
    assert any("pg_class" in s for s in statements), "it asked"
    assert sum(s.startswith("ANALYZE") for s in statements) == 1, "only the test's own"


def test_sqlite_is_left_to_plan_without_statistics(
    statements: list[str], django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only; the PostgreSQL tests above cover the other side")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        statistics_note_writes(table=MutationRecord._meta.db_table, rows=10**6)
    assert callbacks == []


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="PostgreSQL's planner statistics; SQLite's side is the last test",
)
def test_statistics_that_fail_never_fail_the_write(
    django_capture_on_commit_callbacks: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def refused(table: str, ours: int) -> None:
        raise DatabaseError("canceling statement due to lock timeout")

    monkeypatch.setattr(planner_statistics, "_analyze_if_stale", refused)
    with django_capture_on_commit_callbacks(execute=True):
        _journal_rows(planner_statistics.CHECK_EVERY)
    assert MutationRecord.objects.count() == planner_statistics.CHECK_EVERY
    assert "lock timeout" in caplog.text
