"""Issue 8's last row: 50 clients browsing for 60 s against gunicorn, 4 workers.

gunicorn serves the admin from the bench's database (PostgreSQL in the issue's run; it must be
a database other processes can open, so not SQLite's in-memory one) and talks to the bench's
sandbox. Each client is a thread with its own signed-in `requests` session, browsing a mix a
person makes: the collection's first page and a page further on, searches, a record's page,
the record's history and the journal's. The line:

    50 clients for 60 s on gunicorn (4 workers): N requests, E errors, T requests/s,
    p50 X ms, p99 Y ms PASS|FAIL

PASS when no request failed (a status other than 200, or no answer within the timeout).
"""

from __future__ import annotations

import os
import random
import socket
import statistics
import subprocess  # nosec B404 # starts gunicorn, a fixed command, no shell
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests
from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import reverse

from bench import history, speed
from bench.common import Environment, say
from bench.record_pages import _superuser
from sequin_admin.records.models import IndexedRecord

WORKERS = 4
# Longer than any page should take; a request that takes longer counts as an error.
REQUEST_TIMEOUT = 60.0
STARTUP_SECONDS = 60.0
ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Tally:
    lock: threading.Lock = field(default_factory=threading.Lock)
    seconds: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def add(self, elapsed: float, error: str = "") -> None:
        with self.lock:
            self.seconds.append(elapsed)
            if error:
                self.errors.append(error)


def run(env: Environment, *, clients: int, seconds: float, records: int) -> list[str]:
    if connection.vendor == "sqlite" and ":memory:" in str(connection.settings_dict["NAME"]):
        return ["load: SKIP (an in-memory database gunicorn cannot open)"]
    history.index_ready(env, records=records)
    urls = browsing_urls()
    cookie = _session_cookie()
    with gunicorn(env) as base_url:
        say(f"load: {clients} clients for {seconds:.0f} s against {base_url}...")
        tally = browse(base_url, urls, cookie=cookie, clients=clients, seconds=seconds)
    line = result_line(tally, clients=clients, seconds=seconds, database=env.database)
    print()
    print(line)
    for error in sorted(set(tally.errors))[:10]:
        print(f"  error: {error}")
    print(flush=True)
    return [f"load: {line}"]


def browsing_urls() -> list[str]:
    """The pages a person browses, weighted by how often they open them."""
    rows = IndexedRecord.objects.filter(
        sync_id=speed.SYNC_ID, collection_id=speed.COLLECTION_ID, deleted=False
    ).order_by("-updated_idx", "-id")
    count = rows.count()
    rng = random.Random("bench-load")  # nosec B311 # seeded: the same mix on every run
    picked = [rows[rng.randrange(count)] for _ in range(20)]
    collection = reverse("collection_detail", args=[speed.SYNC_ID, speed.COLLECTION_ID])
    deeper = picked[0]
    urls = [collection] * 4 + [f"{collection}?after={deeper.updated_idx}.{deeper.pk}"] * 2
    for record in picked:
        args = [speed.SYNC_ID, speed.COLLECTION_ID, record.upstream_id]
        urls.append(reverse("record_detail", args=args))
        urls.append(f"{collection}?q={record.upstream_id.lower()}")
        first_name = (record.data or {}).get("FirstName")
        if first_name:
            urls.append(f"{collection}?q={first_name}")
        urls.append(f"{reverse('mutation_list')}?upstream_id={record.upstream_id}")
    urls += [reverse("mutation_list")] * 4 + [f"{collection}?q={speed.NOTHING}"]
    return urls


def _session_cookie() -> dict[str, str]:
    client = Client()
    client.force_login(_superuser())
    name = settings.SESSION_COOKIE_NAME
    return {name: client.cookies[name].value}


@contextmanager
def gunicorn(env: Environment) -> Iterator[str]:
    """gunicorn with `WORKERS` workers on a free port, on the bench's database and sandbox."""
    port = _free_port()
    sandbox_port = env.sandbox.url.rsplit(":", 1)[1].strip("/")
    child_env = {
        **os.environ,
        "DATABASE_URL": os.environ["DATABASE_URL"],
        "SANDBOX_PORT": sandbox_port,
        "SANDBOX_TOKEN": settings.SEQUIN_API_TOKEN,
        "DJANGO_DEBUG": "0",
    }
    child_env.pop("SEQUIN_API_URL", None)
    child_env.pop("SEQUIN_API_TOKEN", None)
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "sequin_admin.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(WORKERS),
        "--timeout",
        "120",
        "--no-control-socket",
        "--log-level",
        "warning",
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=child_env)  # nosec B603 # fixed argv
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base_url, process)
        yield base_url
    finally:
        process.terminate()
        process.wait(timeout=30)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_up(base_url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}")
        try:
            requests.get(f"{base_url}/accounts/login/", timeout=5)
            return
        except requests.ConnectionError:
            time.sleep(0.5)
    raise RuntimeError(f"gunicorn did not answer within {STARTUP_SECONDS:.0f} s")


def browse(
    base_url: str, urls: list[str], *, cookie: dict[str, str], clients: int, seconds: float
) -> Tally:
    tally = Tally()
    stop_at = time.monotonic() + seconds

    def client(number: int) -> None:
        rng = random.Random(number)  # nosec B311 # a browsing order, not a secret
        with requests.Session() as session:
            session.cookies.update(cookie)
            while time.monotonic() < stop_at:
                url = base_url + rng.choice(urls)
                started = time.perf_counter()
                error = ""
                try:
                    response = session.get(url, timeout=REQUEST_TIMEOUT, allow_redirects=False)
                    if response.status_code != 200:
                        error = f"{response.status_code} {url}"
                except requests.RequestException as exc:
                    error = f"{type(exc).__name__} {url}"
                tally.add(time.perf_counter() - started, error)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return tally


def result_line(tally: Tally, *, clients: int, seconds: float, database: str) -> str:
    done = len(tally.seconds)
    ordered = sorted(tally.seconds)
    p50 = statistics.median(ordered) * 1000 if ordered else float("nan")
    p99 = ordered[min(done - 1, int(done * 0.99))] * 1000 if ordered else float("nan")
    verdict = "PASS" if done and not tally.errors else "FAIL"
    return (
        f"{clients} clients for {seconds:.0f} s on gunicorn ({WORKERS} workers, {database}): "
        f"{done:,} requests, {len(tally.errors):,} errors, {done / seconds:,.1f} requests/s, "
        f"p50 {p50:,.0f} ms, p99 {p99:,.0f} ms (target 0 errors) {verdict}"
    )
