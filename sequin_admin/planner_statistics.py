"""PostgreSQL's statistics kept fresh for tables the admin fills in bulk.

The planner chooses between an index and a scan from statistics that only ANALYZE gathers.
Autovacuum runs it, when it is on, and only some time after a table has grown; a journal that
bulk jobs fill by a million attempts, on a server with autovacuum off or lagging, keeps the
statistics of an empty table: the history's pages then scan whole tables where an index would
read fifty rows (bench/history.py, 10x to 114x slower at 300,000 attempts than after ANALYZE).

So the writers note what they wrote, and every `CHECK_EVERY` rows a process has written to a
table it asks the server how much the table changed since its last ANALYZE, and analyzes it
past autovacuum's own default threshold (50 rows and 10% of the table). The ANALYZE runs once
the writing transaction has committed, so it neither waits for nor holds that transaction's
locks. SQLite plans without statistics as well as with them here, and is left alone.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter

from django.db import connection, transaction

log = logging.getLogger(__name__)

CHECK_EVERY = 1_000
# autovacuum_analyze_threshold and autovacuum_analyze_scale_factor's defaults.
THRESHOLD_ROWS = 50
SCALE_FACTOR = 0.1

_written: Counter[str] = Counter()
_lock = threading.Lock()


def statistics_note_writes(*, table: str, rows: int) -> None:
    """`rows` inserted or updated in `table` by the current transaction."""
    if connection.vendor != "postgresql" or rows <= 0:
        return
    with _lock:
        _written[table] += rows
        if _written[table] < CHECK_EVERY:
            return
        ours = _written.pop(table)
    # Robust: statistics that could not be gathered never fail the write that asked for them
    # (Django logs the error).
    transaction.on_commit(lambda: _analyze_if_stale(table, ours), robust=True)


def statistics_stale(*, rows_at_last_analyze: float, modified: int) -> bool:
    """Whether a table changed enough since its last ANALYZE to need another. PostgreSQL
    gives -1 rows for a table never analyzed."""
    if rows_at_last_analyze < 0:
        return True
    return modified > THRESHOLD_ROWS + SCALE_FACTOR * rows_at_last_analyze


def _analyze_if_stale(table: str, ours: int) -> None:
    quoted = connection.ops.quote_name(table)
    with connection.cursor() as cursor:
        # The server's count of changes reaches it up to a second late; this process's own
        # writes are known here exactly.
        cursor.execute(
            "SELECT c.reltuples, COALESCE(s.n_mod_since_analyze, 0) FROM pg_class c "
            "LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid WHERE c.oid = %s::regclass",
            [quoted],
        )
        found = cursor.fetchone()
        if found is None:
            return
        rows_at_last_analyze, modified = found
        if statistics_stale(
            rows_at_last_analyze=rows_at_last_analyze, modified=max(modified, ours)
        ):
            log.info("ANALYZE %s: %s rows changed since its last statistics", table, modified)
            cursor.execute(f"ANALYZE {quoted}")
