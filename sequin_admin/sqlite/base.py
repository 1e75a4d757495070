"""SQLite whose write transactions, within one process, wait their turn on a lock.

Every transaction here begins with BEGIN IMMEDIATE (settings.py): it takes SQLite's write
lock at once, and a connection that finds it taken waits in SQLite's busy handler, which
sleeps and polls (1, 2, 5 ... up to 100 ms between tries) instead of waking when the lock is
released. A bulk job's threads commit a few times per batch each: measured on 10,000
updates at 4 batches at a time, its threads slept 40 s in BEGIN over a 12.7 s job
(bench/RESULTS.md). Here a thread of this process first waits on a Python lock held from
BEGIN to COMMIT or ROLLBACK, and wakes the moment the previous writer of this process is
done. The lock only orders this process's writers: SQLite's own lock still decides, so other
processes, autocommit statements and a wait that outlasts the busy timeout behave as before.
"""

from __future__ import annotations

import threading
from typing import Any

from django.db.backends.sqlite3 import base

# One lock per database (its NAME: a file, or a shared in-memory test database).
_write_locks: dict[str, threading.Lock] = {}
_write_locks_guard = threading.Lock()
DEFAULT_TIMEOUT = 5.0  # seconds: sqlite3's own busy timeout when OPTIONS give none


def write_lock_for(name: str) -> threading.Lock:
    with _write_locks_guard:
        return _write_locks.setdefault(name, threading.Lock())


# The methods below are Django's private hooks, which django-stubs does not declare.
class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._held_write_lock: threading.Lock | None = None

    def _start_transaction_under_autocommit(self) -> None:
        mode = self.transaction_mode  # type: ignore[attr-defined]
        if mode == "IMMEDIATE" and self._held_write_lock is None:
            lock = write_lock_for(str(self.settings_dict["NAME"]))
            timeout = float(self.settings_dict["OPTIONS"].get("timeout", DEFAULT_TIMEOUT))
            # Past the busy timeout, BEGIN goes ahead and SQLite decides as it always did
            # (a lock held by a thread that waits for this one must not hang both).
            if lock.acquire(timeout=timeout):
                self._held_write_lock = lock
        try:
            super()._start_transaction_under_autocommit()  # type: ignore[misc]
        except BaseException:
            self._release_write_lock()
            raise

    def _commit(self) -> Any:
        try:
            return super()._commit()  # type: ignore[misc]
        finally:
            self._release_write_lock()

    def _rollback(self) -> Any:
        try:
            return super()._rollback()  # type: ignore[misc]
        finally:
            self._release_write_lock()

    def _close(self) -> Any:
        try:
            return super()._close()  # type: ignore[misc]
        finally:
            self._release_write_lock()

    def _release_write_lock(self) -> None:
        lock, self._held_write_lock = self._held_write_lock, None
        if lock is not None:
            lock.release()
