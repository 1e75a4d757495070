"""A real worker (`manage.py db_worker`) killed with SIGKILL in the middle of a job, then a new
one started: every record is accounted for exactly once, and no batch goes out twice without a
reconciliation first. Real processes, a file SQLite database, the sandbox over HTTP counting
the records each mutation request carries."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sequin_admin.sandbox.api import Handled
from sequin_admin.sandbox.demo_data import DEFAULT_TOKEN, SALESFORCE_SYNC_ID
from sequin_admin.sandbox.faults import Fault
from sequin_admin.sandbox.server import SandboxServer
from tests.environment import ROOT, environ
from tests.sandbox.servers import fresh

CONTACTS = "salesforce:contact"
RECORDS = 60
CAP = 10
TITLE = "Survived a kill"


@pytest.fixture
def one_sandbox(sandbox_server: SandboxServer) -> Iterator[SandboxServer]:
    with fresh(sandbox_server):
        yield sandbox_server


def start(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "manage.py", *args],
        env=environ(**env),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def run(env: dict[str, str], *args: str) -> str:
    process = start(env, *args)
    output, _ = process.communicate(timeout=120)
    assert process.returncode == 0, output
    return output


def rows(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db, timeout=10) as connection:
        try:
            return connection.execute(sql).fetchall()
        except sqlite3.OperationalError:
            return []


def wait_for(predicate: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


def test_a_worker_killed_mid_job_loses_nothing_and_sends_nothing_twice(
    one_sandbox: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox = one_sandbox
    db = tmp_path / "admin.sqlite3"
    env = {
        "DATABASE_URL": f"sqlite:///{db}",
        "SEQUIN_API_URL": sandbox.url,
        "SEQUIN_API_TOKEN": DEFAULT_TOKEN,
        "DJANGO_SECRET_KEY": "test-only",
        "SEQUIN_MAX_RECORDS_PER_MUTATION": str(CAP),
        "JOB_CONCURRENCY": "2",
        "JOB_HEARTBEAT_SECONDS": "1",
        "JOB_STALE_AFTER": "1",
    }
    # The sandbox counts every record each mutation request carries.
    carried: Counter[str] = Counter()
    handle = sandbox.api.handle

    def counting(method: str, target: str, authorization: str | None, body: bytes) -> Handled:
        if method == "POST" and target.startswith("/v1/mutations/run"):
            carried.update(r["upstream_id"] for r in json.loads(body)["records"])
        return handle(method, target, authorization, body)

    monkeypatch.setattr(sandbox.api, "handle", counting)
    run(env, "migrate", "--noinput")
    chosen = [
        r["upstream_id"] for r in sandbox.store.list_records(collection_id=CONTACTS, limit=RECORDS)
    ]
    assert len(chosen) == RECORDS
    items = json.dumps([[upstream_id, {"Title": TITLE}] for upstream_id in chosen])
    run(
        env,
        "shell",
        "-c",
        "from sequin_admin.edits.jobs import job_start; import json; "
        f"job_start(user=None, sync_id={SALESFORCE_SYNC_ID!r}, collection_id={CONTACTS!r}, "
        f"kind='update', items=json.loads({items!r}))",
    )
    sandbox.faults.set(Fault(kind="latency", count=0, latency_ms=400))

    worker = start(env, "db_worker", "--no-startup-delay", "--no-reload", "--interval", "0.1")
    # Killed with a batch done and another one's request under way (its journal entry
    # pending): some records sent, some not. Items wait in flight for a send slot before their
    # entry is written; a kill then would only show that they are queued again.
    wait_for(
        lambda: (
            rows(db, "SELECT succeeded FROM edits_job")[0][0] >= CAP
            and rows(db, "SELECT count(*) FROM edits_jobitem WHERE outcome = 'in_flight'")[0][0] > 0
            and rows(db, "SELECT count(*) FROM mutations_mutation WHERE outcome = 'pending'")[0][0]
            > 0
            if rows(db, "SELECT succeeded FROM edits_job")
            else False
        )
    )
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=10)
    sandbox.wait_idle()  # the requests the dead worker made are answered upstream
    carried_before_restart = Counter(carried)
    state, succeeded = rows(db, "SELECT state, succeeded FROM edits_job")[0]
    assert state == "running" and CAP <= succeeded < RECORDS
    in_flight = rows(db, "SELECT count(*) FROM edits_jobitem WHERE outcome = 'in_flight'")[0][0]
    assert in_flight > 0

    time.sleep(1.5)  # the dead worker's heartbeat goes stale
    assert "1 job(s) enqueued again." in run(env, "resume_jobs")
    run(env, "db_worker", "--batch", "--no-startup-delay", "--no-reload")

    assert rows(db, "SELECT state, total, succeeded, failed, unknown FROM edits_job") == [
        ("done", RECORDS, RECORDS, 0, 0)
    ]
    outcomes = rows(db, "SELECT upstream_id, outcome FROM edits_jobitem ORDER BY position")
    assert outcomes == [(upstream_id, "succeeded") for upstream_id in chosen]
    # Each record reached the upstream once: a batch in flight at the kill was reconciled
    # (it had landed), not sent again.
    assert set(carried) == set(chosen)
    assert max(carried.values()) == 1, carried.most_common(3)
    assert sum(carried_before_restart.values()) < RECORDS
    journal = rows(
        db,
        "SELECT m.outcome, m.reconciliation, count(r.id) FROM mutations_mutation m "
        "JOIN mutations_mutationrecord r ON r.mutation_id = m.id GROUP BY m.id",
    )
    # Every record is in exactly one entry that reached the upstream; an entry whose request
    # never left (killed between the pending write and the call) says so, reconciled.
    applied = [n for outcome, rec, n in journal if outcome == "succeeded" or rec == "applied"]
    assert sum(applied) == RECORDS
    interrupted = {(o, rec) for o, rec, _ in journal if o != "succeeded"}
    assert ("unknown", "applied") in interrupted
    assert interrupted <= {("unknown", "applied"), ("unknown", "not_applied")}
    for upstream_id in chosen:
        record = sandbox.store.get_record(SALESFORCE_SYNC_ID, CONTACTS, upstream_id)
        assert record is not None and record["data"]["Title"] == TITLE
