"""What every benchmark shares: a throwaway database, the sandbox, timing and result tables.

Nothing here imports Django models at module level: `environment()` must configure the
database and call `django.setup()` first, so the benchmark modules are imported after it.
"""

from __future__ import annotations

import gc
import logging
import os
import re
import statistics
import subprocess  # nosec B404 # benchmarks start sandboxes of their own
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sequin_admin.sandbox.demo_data import DEFAULT_TOKEN
from sequin_admin.sandbox.server import SandboxServer


@dataclass(frozen=True)
class Environment:
    sandbox: SandboxServer
    # What the benchmarks write to, for the report: never a password.
    database: str


@contextmanager
def environment() -> Iterator[Environment]:
    """A migrated database and a running sandbox, with Django's settings pointed at both.

    The database is a SQLite file in a temporary directory unless the caller set
    DATABASE_URL (to run on PostgreSQL, say); that database must be a throwaway one too.
    """
    with tempfile.TemporaryDirectory(prefix="sequin-bench-") as tmp:
        if not os.environ.get("DATABASE_URL"):
            os.environ["DATABASE_URL"] = f"sqlite:///{tmp}/bench.sqlite3"
        _recreate_postgres_bench_database(os.environ["DATABASE_URL"])
        # The benchmarks send hundreds of mutations: they must reach the sandbox and never a
        # real Sequin, whatever the caller's environment says.
        os.environ.pop("SEQUIN_API_URL", None)
        os.environ.pop("SEQUIN_API_TOKEN", None)
        os.environ["DJANGO_SETTINGS_MODULE"] = "sequin_admin.settings"

        import django

        django.setup()

        from django.conf import settings
        from django.core.management import call_command
        from django.db import connection, connections

        # A log line per sandbox request would bury the tables and add I/O to timed calls.
        logging.getLogger("sequin_admin.sandbox").setLevel(logging.WARNING)
        call_command("migrate", verbosity=0)

        sandbox = SandboxServer(db_path=":memory:", token=DEFAULT_TOKEN, port=0).start()
        settings.SEQUIN_API_URL = sandbox.url
        settings.SEQUIN_API_TOKEN = DEFAULT_TOKEN
        settings.SEQUIN_SANDBOX_MODE = True
        # django.test.Client sends Host: testserver.
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
        try:
            yield Environment(sandbox=sandbox, database=_describe(connection.settings_dict))
        finally:
            sandbox.stop()
            # Before the temporary directory goes: SQLite keeps its file open.
            connections.close_all()


@contextmanager
def sandbox_process(db: str = ":memory:") -> Iterator[str]:
    """A sandbox serving `db` in its own process, as Sequin is on its own machine: its work
    (reading, serializing, latency) does not take turns with the admin's for this
    interpreter's lock. Yields its URL."""
    process = subprocess.Popen(  # nosec B603 # a fixed command line, no shell
        [sys.executable, "-m", "sequin_admin.sandbox", "serve", "--port", "0", "--db", db],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        line = process.stdout.readline() if process.stdout else ""
        found = re.search(r"http://[\d.]+:\d+", line)
        if not found:
            raise RuntimeError(f"the sandbox did not start: {line!r}")
        yield found.group(0)
    finally:
        process.terminate()
        process.wait(timeout=30)


def _recreate_postgres_bench_database(url: str) -> None:
    """A PostgreSQL database whose name contains "bench" is dropped and made again, so every
    run starts from tables in the state a first fill leaves them (never analyzed); any other
    database is used as it is."""
    import dj_database_url
    import psycopg
    from psycopg import sql

    db = dj_database_url.parse(url)
    if "postgres" not in str(db["ENGINE"]) or "bench" not in str(db["NAME"]):
        return
    with psycopg.connect(
        host=db.get("HOST") or None,
        port=db.get("PORT") or None,
        user=db.get("USER") or None,
        password=db.get("PASSWORD") or None,
        dbname="postgres",
        autocommit=True,
    ) as admin:
        name = sql.Identifier(str(db["NAME"]))
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(name))


def _describe(db: Mapping[str, Any]) -> str:
    vendor = str(db["ENGINE"]).rsplit(".", 1)[-1]
    if vendor.startswith("sqlite"):
        return f"SQLite file {db['NAME']}"
    return f"{vendor} {db.get('HOST') or 'localhost'}/{db['NAME']}"


# Timing


@dataclass(frozen=True)
class Timing:
    samples: tuple[float, ...]  # seconds, one per repetition

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def ms(self) -> float:
        return self.median * 1000


def measure(fn: Callable[[], object], *, repeat: int = 7, warmup: int = 1) -> Timing:
    """The median of `repeat` timed calls, after `warmup` untimed ones (cold caches, lazy
    imports and first connections are not what is being compared)."""
    return measure_interleaved({"fn": fn}, rounds=repeat, warmup=warmup)["fn"]


def measure_interleaved(
    fns: Mapping[str, Callable[[], object]], *, rounds: int, warmup: int = 1
) -> dict[str, Timing]:
    """Time each function once per round, round after round.

    Interleaving spreads any drift over the run (a neighbour's load, a growing table, the
    sandbox's store getting warmer) across baseline and ours alike instead of penalising
    whichever happened to run last.
    """
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            started = time.perf_counter()
            fn()
            samples[name].append(time.perf_counter() - started)
    return {name: Timing(tuple(values)) for name, values in samples.items()}


def peak_kib(fn: Callable[[], object]) -> float:
    """Peak Python memory allocated while `fn` runs, in KiB (tracemalloc; C buffers of the
    database driver are not counted, the same for baseline and ours)."""
    gc.collect()
    tracemalloc.start()
    try:
        fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 1024


def machine_busy() -> tuple[int, int] | None:
    """(busy, total) CPU ticks of the whole machine so far, every process counted (the
    sandbox's and the database server's too), from Linux's /proc/stat; None elsewhere."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            ticks = [int(value) for value in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)  # idle and iowait
    return sum(ticks) - idle, sum(ticks)


def busy_share(before: tuple[int, int] | None, after: tuple[int, int] | None) -> str:
    """How busy the machine's CPUs were between two `machine_busy()` readings."""
    if before is None or after is None or after[1] == before[1]:
        return "not known here"
    share = (after[0] - before[0]) / (after[1] - before[1])
    return f"{share:.0%} of {os.cpu_count()} CPUs"


# Tables


@dataclass(frozen=True)
class Row:
    what: str
    baseline_name: str
    baseline: float
    ours_name: str
    ours: float
    unit: str = "ms"

    @property
    def ratio(self) -> float:
        return self.ours / self.baseline if self.baseline else float("nan")


def print_table(title: str, rows: Sequence[Row], notes: Sequence[str] = ()) -> None:
    """One table per benchmark; the ratio is always ours / baseline (below 1: ours costs
    less)."""
    header = ("what", "baseline", "", "ours", "", "ours/baseline")
    cells = [
        (
            row.what,
            row.baseline_name,
            _amount(row.baseline, row.unit),
            row.ours_name,
            _amount(row.ours, row.unit),
            f"{row.ratio:.3g}x",
        )
        for row in rows
    ]
    widths = [max(len(line[i]) for line in [header, *cells]) for i in range(len(header))]
    right = {2, 4, 5}

    def line(values: Sequence[str]) -> str:
        return "  ".join(
            value.rjust(widths[i]) if i in right else value.ljust(widths[i])
            for i, value in enumerate(values)
        ).rstrip()

    print()
    print(f"== {title} ==")
    print(line(header))
    print(line(["-" * w for w in widths]))
    for values in cells:
        print(line(values))
    for note in notes:
        print(f"  {note}")
    print(flush=True)


def _amount(value: float, unit: str) -> str:
    if unit == "ms":
        return f"{value:,.2f} ms" if value < 100 else f"{value:,.0f} ms"
    return f"{value:,.0f} {unit}"


def ratio(numerator: float, denominator: float) -> str:
    return f"{numerator / denominator:.3g}x" if denominator else "n/a"


def say(text: str) -> None:
    """Progress between tables; flushed so `make bench` shows where it is."""
    print(text, flush=True)
