"""Where a bulk job's CPU goes: bench/jobs.py's job, by default with no latency and one batch
at a time.

    PYTHONPATH=. python -m bench.job_profile [--records N] [--rounds R] [--concurrency C]
        [--latency MS] [--parts] [--queries] [--profile [--top K]]

The sandbox runs in its own process (`sandbox_process`), as in bench/jobs.py; the job runs here
with the ImmediateBackend, so the CPU this process spends (`time.process_time`) is the admin's
own work. Each round starts a new job over the same records (the first finds none of them in
the index; later ones find them all, as bench/jobs.py's job does: read round 1 for it). For
each round `--parts` gives the thread CPU of the functions of a batch's path (inclusive: nested
ones are inside others) and `--queries` the wall time of each statement shape (the calling
thread's connection only: use them at concurrency 1). For the last round `--profile` gives a
cProfile in thread CPU time (its overhead inflates pure-Python code many times: read it for the
shape, `--parts` for amounts). DATABASE_URL picks the database, as for `python -m bench` (a
PostgreSQL database whose name holds "bench" is made again).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import re
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from typing import Any

from bench.common import environment, sandbox_process, say


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.job_profile", description=__doc__)
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument(
        "--queries",
        action="store_true",
        help="wall time per statement shape, summed (concurrency 1: the job's own thread)",
    )
    parser.add_argument(
        "--parts",
        action="store_true",
        help="CPU per batch of the path's functions (time.thread_time, inclusive)",
    )
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--latency", type=int, default=0, help="ms of sandbox latency a request")
    args = parser.parse_args(argv)

    with environment() as env:
        from django.conf import settings
        from django.db import connection
        from django.test.utils import override_settings

        from bench.jobs import COLLECTION_ID, IMMEDIATE, _control, _new_records
        from sequin_admin.edits.jobs import job_start
        from sequin_admin.edits.models import JobState
        from sequin_admin.sandbox.demo_data import SALESFORCE_SYNC_ID

        cap = settings.SEQUIN_MAX_RECORDS_PER_MUTATION
        batches = -(-args.records // cap)
        with sandbox_process() as url:
            upstream_ids = _new_records(url, args.records)
            if args.latency:
                fault = {"kind": "latency", "count": 0, "latency_ms": args.latency}
                _control(url, "POST", "/_sandbox/faults", fault)
            say(
                f"job_profile: {args.records:,} records, {batches} batches, "
                f"{args.concurrency} at a time, {args.latency} ms latency, {env.database}"
            )
            for round_ in range(args.rounds):
                profiler = (
                    cProfile.Profile(time.thread_time)
                    if args.profile and round_ == args.rounds - 1
                    else None
                )
                with override_settings(
                    TASKS=IMMEDIATE, JOB_CONCURRENCY=args.concurrency, SEQUIN_API_URL=url
                ):
                    parts = _Parts() if args.parts else None
                    timed = _Statements() if args.queries else None
                    wrapping = connection.execute_wrapper(timed) if timed else nullcontext()
                    started, cpu_started = time.perf_counter(), time.process_time()
                    if profiler:
                        profiler.enable()
                    wrapping.__enter__()
                    job = job_start(
                        user=None,
                        sync_id=SALESFORCE_SYNC_ID,
                        collection_id=COLLECTION_ID,
                        kind="update",
                        items=[(i, {"Title": f"Profile {round_}"}) for i in upstream_ids],
                    )
                    wrapping.__exit__(None, None, None)
                    if parts:
                        parts.restore()
                    if profiler:
                        profiler.disable()
                    cpu = time.process_time() - cpu_started
                    took = time.perf_counter() - started
                job.refresh_from_db()
                if (job.state, job.succeeded) != (JobState.DONE, args.records):
                    raise RuntimeError(f"job #{job.pk} ended {job.state}, {job.succeeded} ok")
                say(
                    f"round {round_}{' (profiled)' if profiler else ''}: cpu {cpu:.2f} s, "
                    f"{cpu / batches * 1000:.1f} ms a batch; wall {took:.2f} s"
                )
                if timed:
                    timed.report(batches)
                if parts:
                    parts.report(batches)
                if profiler:
                    for order in ("cumulative", "tottime"):
                        out = io.StringIO()
                        stats = pstats.Stats(profiler, stream=out)
                        stats.sort_stats(order).print_stats(args.top)
                        print(out.getvalue())
    return 0


class _Statements:
    """An execute wrapper: wall time and count per statement shape (its first words, numbers
    and placeholders folded)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)

    def __call__(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            shape = re.sub(r"(%s|\?|\d+)(, (%s|\?|\d+))*", "?", sql)[:90]
            self.seconds[shape] += time.perf_counter() - started
            self.calls[shape] += 1

    def report(self, batches: int) -> None:
        total = sum(self.seconds.values())
        say(f"statements: {total / batches * 1000:.1f} ms a batch in all")
        for shape, seconds in sorted(self.seconds.items(), key=lambda kv: -kv[1])[:20]:
            say(
                f"  {seconds / batches * 1000:7.2f} ms a batch  {self.calls[shape]:6d} calls  "
                f"{shape}"
            )


# (module, attribute path) of the functions `--parts` times; nested ones are inside others.
_PARTS = (
    ("sequin_admin.edits.jobs", "_Runner._stopping"),
    ("sequin_admin.edits.jobs", "_Runner._next_batch"),
    ("sequin_admin.edits.jobs", "_Runner._send"),
    ("sequin_admin.edits.jobs", "_Runner._settle"),
    ("sequin_admin.edits.jobs", "seen_in_index"),
    ("sequin_admin.edits.jobs", "mutation_run"),
    ("sequin_admin.mutations.run", "journal_start"),
    ("sequin_admin.mutations.run", "journal_finish"),
    ("sequin_admin.mutations.run", "index_apply_answer"),
    ("sequin_admin.mutations.journal", "_json_head"),
    ("sequin_admin.mutations.journal", "_store_returned"),
    ("sequin_admin.records.index", "index_upsert"),
    ("sequin_admin.sequin.client", "SequinClient.run_mutation"),
    ("sequin_admin.sequin.client", "SequinClient._send"),
    ("sequin_admin.sequin.client", "_parsed"),
    ("sequin_admin.sequin.client", "_encoded"),
    ("sequin_admin.sequin.answers", "Answer.of"),
)


class _Parts:
    """Wraps the functions of _PARTS with a timer of this thread's CPU; `restore` unwraps."""

    def __init__(self) -> None:
        import importlib

        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self.undo: list[tuple[Any, str, Any]] = []
        for module_name, path in _PARTS:
            owner: Any = importlib.import_module(module_name)
            *outer, name = path.split(".")
            for part in outer:
                owner = getattr(owner, part)
            original = owner.__dict__[name]
            if isinstance(original, classmethod):
                setattr(owner, name, classmethod(self._timed(path, original.__func__)))
            else:
                setattr(owner, name, self._timed(path, original))
            self.undo.append((owner, name, original))

    def _timed(self, label: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.thread_time()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[label] += time.thread_time() - started
                self.calls[label] += 1

        return timed

    def restore(self) -> None:
        for owner, name, original in reversed(self.undo):
            setattr(owner, name, original)

    def report(self, batches: int) -> None:
        say("parts (thread CPU, inclusive, ms a batch):")
        for _, label in _PARTS:
            if label in self.seconds:
                say(
                    f"  {self.seconds[label] / batches * 1000:7.2f}  {self.calls[label]:5d} calls  "
                    f"{label}"
                )


if __name__ == "__main__":
    sys.exit(main())
