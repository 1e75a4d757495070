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

BENCHMARKS = ("record_pages", "mutation_call", "export_memory", "jobs")
# Kept here, not imported from record_pages: that module needs Django set up first.
DEFAULT_RECORDS = 300_000
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
        from bench import export_memory, jobs, mutation_call, record_pages

        runs: dict[str, Callable[[], list[str]]] = {
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
