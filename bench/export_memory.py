"""History exports stream with flat memory, however long the history.

Ours: `export_csv` and `export_json` consumed chunk by chunk, as a streaming response would.
Baseline: the naive way, every mutation with its records and changes in one list, then the
whole CSV built as one string. Measured at 2,000 and then at 20,000 journal entries.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Iterable, Iterator
from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from bench.common import Environment, Row, measure_interleaved, peak_kib, print_table, ratio, say
from sequin_admin.mutations.export import CSV_COLUMNS, csv_rows, export_csv, export_json
from sequin_admin.mutations.models import (
    FieldChange,
    Kind,
    Mutation,
    MutationRecord,
    Outcome,
    Source,
)
from sequin_admin.sandbox.demo_data import SALESFORCE_SYNC_ID

SIZES = (2_000, 20_000)
COLLECTION_ID = "salesforce:contact"
BATCH = 2_000
# Timed repetitions per size: a pass over 20,000 mutations takes seconds, and every variant
# also makes one slower pass under tracemalloc, so the big size gets a single timed pass.
ROUNDS = {2_000: 3, 20_000: 1}


def run(env: Environment) -> list[str]:
    # One group id for every row written here: the exports read only these rows, not what
    # mutation_call journaled nor anything already in a caller's database.
    group_id = uuid.uuid4()
    rows = Mutation.objects.filter(group_id=group_id)
    variants = {
        "export_csv": lambda: _consume(export_csv(rows)),
        "export_json": lambda: _consume(export_json(rows)),
        # One naive baseline, the CSV: a naive JSON holds the very same rows in memory.
        "naive csv": lambda: len(_naive_csv(rows)),
    }
    peaks: dict[tuple[int, str], float] = {}
    times: dict[tuple[int, str], float] = {}
    written = 0
    for size in SIZES:
        say(f"export_memory: journaling up to {size:,} mutations...")
        _journal(group_id, start=written, count=size - written)
        written = size
        if size == SIZES[0]:
            _check_same_output(rows)
        for name, fn in variants.items():
            peaks[size, name] = peak_kib(fn)
        # Timed apart from the memory runs: tracemalloc slows every allocation about 4x.
        for name, timing in measure_interleaved(variants, rounds=ROUNDS[size], warmup=0).items():
            times[size, name] = timing.ms

    small, large = SIZES
    table = [
        Row(
            f"{size:,} mutations, peak",
            "naive csv",
            peaks[size, "naive csv"],
            name,
            peaks[size, name],
            unit="KiB",
        )
        for name in ("export_csv", "export_json")
        for size in SIZES
    ] + [
        Row(
            f"{size:,} mutations, time",
            "naive csv",
            times[size, "naive csv"],
            name,
            times[size, name],
        )
        for name in ("export_csv", "export_json")
        for size in SIZES
    ]
    growth = {name: ratio(peaks[large, name], peaks[small, name]) for name in variants}
    print_table(
        f"Export memory: 1 record and 2 field changes a mutation, peak by tracemalloc, "
        f"time median of {ROUNDS[small]} ({small:,}) and {ROUNDS[large]} ({large:,}), "
        f"{env.database}",
        table,
        notes=[
            f"peak {large:,}/{small:,}: export_csv {growth['export_csv']}, "
            f"export_json {growth['export_json']} (flat is 1x), "
            f"naive csv {growth['naive csv']} ({large // small}x the rows)",
        ],
    )
    return [
        f"export_memory: peak {large:,}/{small:,} export_csv {growth['export_csv']}, "
        f"export_json {growth['export_json']} vs naive {growth['naive csv']}; "
        f"peak at {large:,}: {peaks[large, 'export_csv']:,.0f} KiB vs "
        f"{peaks[large, 'naive csv']:,.0f} KiB"
    ]


def _consume(chunks: Iterable[str]) -> int:
    """Read a streamed export the way a response does: each chunk is sent, then dropped."""
    return sum(len(chunk) for chunk in chunks)


def _naive_rows(rows: QuerySet[Mutation]) -> list[Mutation]:
    return list(rows.order_by("-id").prefetch_related("records__changes"))


def _naive_csv(rows: QuerySet[Mutation]) -> str:
    """The same document as export_csv, built the obvious way: all rows, one string."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for m in _naive_rows(rows):
        writer.writerows(csv_rows(m))
    return buffer.getvalue()


def _check_same_output(rows: QuerySet[Mutation]) -> None:
    """The baseline must produce what ours produces, or the comparison means nothing."""
    if "".join(export_csv(rows)) != _naive_csv(rows):
        raise RuntimeError("the naive CSV differs from export_csv")
    # export_json walks the same rows; it must at least be a whole document with all of them.
    if len(json.loads("".join(export_json(rows)))) != rows.count():
        raise RuntimeError("export_json does not hold every mutation")


def _journal(group_id: uuid.UUID, *, start: int, count: int) -> None:
    """Journal entries as mutation_run leaves them after a successful one-record update,
    written with bulk_create a batch at a time (no HTTP: only the rows matter here)."""
    with transaction.atomic():
        for first in range(start, start + count, BATCH):
            positions = range(first, min(start + count, first + BATCH))
            mutations = Mutation.objects.bulk_create(
                _mutation(group_id, position) for position in positions
            )
            records = MutationRecord.objects.bulk_create(
                _record(mutation, position)
                for mutation, position in zip(mutations, positions, strict=True)
            )
            FieldChange.objects.bulk_create(
                change for record in records for change in _changes(record)
            )


def _contact(position: int, title: str) -> dict[str, Any]:
    upstream_id = _upstream_id(position)
    return {
        "Id": upstream_id,
        "FirstName": "Ada",
        "LastName": f"Lovelace {position}",
        "Email": f"ada.{position}@example.com",
        "Phone": f"+44 20 7946 {position % 10_000:04d}",
        "Title": title,
        "LeadSource": "Web",
        "HasOptedOutOfEmail": False,
        "LastModifiedDate": "2024-06-28T16:00:00.000+0000",
    }


def _upstream_id(position: int) -> str:
    return f"003EXPORT{position:09d}"


def _mutation(group_id: uuid.UUID, position: int) -> Mutation:
    sent = {"Title": f"Head of Sales {position}", "Phone": f"+44 20 7946 {position % 9_999:04d}"}
    returned = {**_contact(position, sent["Title"]), **sent}
    return Mutation(
        username="ada",
        source=Source.COMMAND,
        kind=Kind.UPDATE,
        sync_id=SALESFORCE_SYNC_ID,
        collection_id=COLLECTION_ID,
        request_body={
            "kind": "update",
            "sync_id": SALESFORCE_SYNC_ID,
            "collection_id": COLLECTION_ID,
            "records": [{"upstream_id": _upstream_id(position), "data": sent}],
        },
        outcome=Outcome.SUCCEEDED,
        response_status=200,
        # What journal_finish keeps: Sequin's answer, the whole record, indented.
        response_body=json.dumps({"records": [{"data": returned}]}, indent=2),
        duration_ms=40 + position % 200,
        group_id=group_id,
    )


def _record(mutation: Mutation, position: int) -> MutationRecord:
    return MutationRecord(
        mutation=mutation,
        upstream_id=_upstream_id(position),
        before_updated_idx=10_000 + position,
        returned_updated_idx=10_001 + position,
        returned_data={
            **_contact(position, f"Head of Sales {position}"),
            "Phone": f"+44 20 7946 {position % 9_999:04d}",
        },
    )


def _changes(record: MutationRecord) -> Iterator[FieldChange]:
    data = record.returned_data or {}
    position = (record.before_updated_idx or 0) - 10_000
    before = _contact(position, "Account Executive")
    for name in ("Title", "Phone"):
        yield FieldChange(
            record=record,
            field=name,
            before=before[name],
            had_before=True,
            sent=data[name],
            returned=data[name],
            has_returned=True,
        )
