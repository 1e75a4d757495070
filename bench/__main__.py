"""`python -m bench`: every benchmark, one table each, then a summary.

A throwaway database (SQLite in a temporary directory, or DATABASE_URL when set) and an
in-process sandbox; see bench/common.py.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence

from bench.common import environment, say

BENCHMARKS = ("speed", "history", "load", "record_pages", "mutation_call", "export_memory", "jobs")
# Kept here, not imported from record_pages: that module needs Django set up first.
DEFAULT_RECORDS = 1_000_000
DEFAULT_ATTEMPTS = 1_000_000
DEFAULT_CLIENTS = 50
DEFAULT_CLIENTS_SECONDS = 60.0
MIN_RECORDS = 1_000


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--records",
        type=int,
        default=DEFAULT_RECORDS,
        help=f"records in the paged collection (default {DEFAULT_RECORDS:,})",
    )
    parser.add_argument(
        "--attempts",
        type=int,
        default=DEFAULT_ATTEMPTS,
        help=f"journaled attempts for the history benchmark (default {DEFAULT_ATTEMPTS:,})",
    )
    parser.add_argument(
        "--clients",
        type=int,
        default=DEFAULT_CLIENTS,
        help=f"browsing clients in the load benchmark (default {DEFAULT_CLIENTS})",
    )
    parser.add_argument(
        "--clients-seconds",
        type=float,
        default=DEFAULT_CLIENTS_SECONDS,
        help=f"how long the clients browse (default {DEFAULT_CLIENTS_SECONDS:.0f} s)",
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=BENCHMARKS,
        help="run only this benchmark (may be repeated)",
    )
    args = parser.parse_args(argv)
    if args.records < MIN_RECORDS:
        parser.error(f"--records must be at least {MIN_RECORDS:,}")
    chosen = [name for name in BENCHMARKS if not args.only or name in args.only]

    started = time.perf_counter()
    summary: list[str] = []
    with environment() as env:
        # Imported only now: they import models, which needs django.setup() done.
        from bench import export_memory, history, jobs, load, mutation_call, record_pages, speed

        runs: dict[str, Callable[[], list[str]]] = {
            "speed": lambda: speed.run(env, records=args.records),
            "history": lambda: history.run(env, attempts=args.attempts, records=args.records),
            "load": lambda: load.run(
                env, clients=args.clients, seconds=args.clients_seconds, records=args.records
            ),
            "record_pages": lambda: record_pages.run(env, records=args.records),
            "mutation_call": lambda: mutation_call.run(env),
            "export_memory": lambda: export_memory.run(env),
            "jobs": lambda: jobs.run(env),
        }
        say(f"bench: {', '.join(chosen)} on {env.database}, sandbox at {env.sandbox.url}")
        for name in chosen:
            summary += runs[name]()

    print("== Summary (ratios are measured in this run, against its own baselines) ==")
    for line in summary:
        print(f"  {line}")
    print(f"  total {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
