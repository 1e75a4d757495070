"""A process killed between the pending write and the answer: the entry stays, reads as
unknown, and reconciliation tells whether the change landed. Real processes, real kill."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sequin_admin.sandbox.demo_data import DEFAULT_TOKEN, SALESFORCE_SYNC_ID
from sequin_admin.sandbox.faults import Fault
from sequin_admin.sandbox.server import SandboxServer

ROOT = Path(__file__).resolve().parents[2]
CONTACTS = "salesforce:contact"


def manage(env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), *args],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def finish(process: subprocess.Popen[bytes]) -> str:
    output, _ = process.communicate(timeout=120)
    return output.decode()


def wait_for(predicate: object, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting")


def journal(db: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(db) as connection:
        try:
            return connection.execute(
                "SELECT outcome, reconciliation FROM mutations_mutation"
            ).fetchall()
        except sqlite3.OperationalError:
            return []


@pytest.mark.parametrize(
    ("fault", "landed"),
    [
        (Fault(kind="latency", latency_ms=2500), True),  # the write happens after the kill
        (Fault(kind="error_500", latency_ms=2500), False),  # the upstream never writes
    ],
    ids=["applied", "not-applied"],
)
def test_killed_mid_call_then_reconciled(
    sandbox: SandboxServer, tmp_path: Path, fault: Fault, landed: bool
) -> None:
    db = tmp_path / "admin.sqlite3"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{db}",
        "SEQUIN_API_URL": sandbox.url,
        "SEQUIN_API_TOKEN": DEFAULT_TOKEN,
        "DJANGO_SECRET_KEY": "test-only",
        "SEQUIN_PENDING_UNKNOWN_AFTER": "0",
    }
    migrate = manage(env, "migrate", "--noinput")
    output = finish(migrate)
    assert migrate.returncode == 0, output
    target = sandbox.store.any_record(CONTACTS)
    records = tmp_path / "records.json"
    records.write_text(
        json.dumps([{"upstream_id": target["upstream_id"], "data": {"Title": "Killed mid-call"}}])
    )
    sandbox.faults.set(fault)
    process = manage(
        env,
        "mutate",
        "update",
        str(records),
        "--sync",
        SALESFORCE_SYNC_ID,
        "--collection",
        CONTACTS,
        "--as-system",
    )
    # Pending in the journal, and the request taken by the sandbox (its fault is used up):
    # the kill lands between the two halves of the attempt.
    wait_for(lambda: journal(db) == [("pending", "")] and not sandbox.faults.active())
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    assert journal(db) == [("pending", "")]

    def title() -> str | None:
        found = sandbox.store.get_record(SALESFORCE_SYNC_ID, CONTACTS, target["upstream_id"])
        return found["data"]["Title"] if found else None

    sandbox.wait_idle()  # the upstream's own answer time passes
    assert (title() == "Killed mid-call") is landed

    output = finish(manage(env, "reconcile_mutations", "--as-system"))
    assert "1 attempt(s) reconciled" in output, output
    expected = "applied" if landed else "not_applied"
    assert journal(db) == [("unknown", expected)]
