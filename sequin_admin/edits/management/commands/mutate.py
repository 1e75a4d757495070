"""`manage.py mutate`: a mutation from a file, journaled and batched like any other.

It lives in the edits layer because a CSV goes through the same parser and plan as the
upload page (`edits.csv_updates`).
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from sequin_admin.access.commands import (
    acting_user,
    add_acting_user_arguments,
    command_requires,
)
from sequin_admin.access.models import Role
from sequin_admin.mutations.models import Mutation, Outcome, Source
from sequin_admin.mutations.run import mutation_run_in_batches, seen_in_index
from sequin_admin.sequin.types import MutationKind

from ...csv_updates import NULL_MARKER, CsvPlan, CsvRefused, csv_plan, too_big_message
from ...forms import FiniteJSONDecoder

FORMATS = ("csv", "json")


class Command(BaseCommand):
    help = (
        "Run a mutation from the command line, journaled like any other. RECORDS is a file "
        "(or - for stdin). JSON holds a list: "
        '[{"upstream_id": "...", "data": {...}}] for update, [{"data": {...}}] for create, '
        '["upstream_id", ...] for delete. CSV (update only) has the header upstream_id plus '
        f"the fields to set; an empty cell leaves a field as it is, {NULL_MARKER} sets it to "
        "null, and rows that can't go (unknown record, wrong type, read-only field, repeated "
        "upstream_id) are listed and left out. The format follows the file's extension "
        "(--format forces it). Big lists are split by SEQUIN_MAX_RECORDS_PER_MUTATION into one "
        "group. Needs --user with the bulk editor role on the collection, or --as-system. "
        "Exits non-zero when any record failed, has an unknown outcome, or could not go."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=["create", "update", "delete"])
        parser.add_argument("records")
        parser.add_argument("--sync", dest="sync_id", required=True)
        parser.add_argument("--collection", dest="collection_id", required=True)
        add_acting_user_arguments(parser)
        parser.add_argument(
            "--format",
            dest="file_format",
            choices=FORMATS,
            help="csv or json; by default the file's extension decides (json for stdin)",
        )

    def handle(
        self,
        *args: Any,
        kind: MutationKind,
        records: str,
        sync_id: str,
        collection_id: str,
        file_format: str | None,
        **options: Any,
    ) -> None:
        user = acting_user(options)
        command_requires(user, Role.BULK_EDITOR, sync_id=sync_id, collection_id=collection_id)
        file_format = file_format or ("csv" if records.lower().endswith(".csv") else "json")
        refused = 0
        if file_format == "csv":
            if kind != "update":
                raise CommandError("A CSV file carries updates only: use `mutate update`.")
            plan = self._plan(read_bytes(records), sync_id=sync_id, collection_id=collection_id)
            refused = len(plan.refused)
            items = plan.records()
        else:
            items = json_items(read_bytes(records), kind=kind)
        attempts = (
            mutation_run_in_batches(
                kind=kind,
                sync_id=sync_id,
                collection_id=collection_id,
                records=items,
                user=user,
                source=Source.COMMAND,
                seen=seen_in_index(
                    sync_id=sync_id,
                    collection_id=collection_id,
                    upstream_ids=[str(i.get("upstream_id", "")) for i in items],
                ),
            )
            if items
            else []
        )
        self._summarize(attempts, refused=refused)

    def _plan(self, raw: bytes, *, sync_id: str, collection_id: str) -> CsvPlan:
        try:
            plan = csv_plan(sync_id=sync_id, collection_id=collection_id, raw=raw)
        except CsvRefused as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"{plan.row_count} row(s): {len(plan.updates)} to update, {plan.unchanged} already "
            f"hold the values, {len(plan.refused)} can't go."
        )
        for row in plan.refused:
            self.stdout.write(
                f"row {row.row} ({row.upstream_id or 'no id'}): {'; '.join(row.reasons)}"
            )
        return plan

    def _summarize(self, attempts: list[Mutation], *, refused: int) -> None:
        per_record: Counter[str] = Counter()
        for mutation in attempts:
            count = mutation.records.count()
            per_record[mutation.shown_outcome] += count
            self.stdout.write(
                f"#{mutation.pk} {mutation.shown_outcome_label} ({count} record(s))"
                f"{': ' + mutation.error_message if mutation.error_message else ''}"
            )
        applied = per_record[Outcome.SUCCEEDED] + per_record[Outcome.CONSUMERS_UNCONFIRMED]
        failed = per_record[Outcome.FAILED]
        unknown = per_record[Outcome.UNKNOWN] + per_record[Outcome.PENDING]
        self.stdout.write(
            f"Summary: {applied} applied, {failed} failed, {unknown} outcome unknown, "
            f"{refused} not sent."
        )
        if refused or any(not m.applied for m in attempts):
            raise CommandError("Not every record was applied; see the rows above and /mutations/.")


def read_bytes(records: str) -> bytes:
    """The file's bytes, refused before reading when it is bigger than a CSV may be."""
    if records == "-":
        return sys.stdin.buffer.read()
    path = Path(records)
    try:
        size = path.stat().st_size
        if size > settings.CSV_UPDATE_MAX_BYTES and records.lower().endswith(".csv"):
            raise CommandError(too_big_message(size))
        return path.read_bytes()
    except OSError as exc:
        raise CommandError(f"Can't read {records}: {exc.strerror}.") from exc


def json_items(raw: bytes, *, kind: MutationKind) -> list[dict[str, Any]]:
    try:
        items = json.loads(raw, cls=FiniteJSONDecoder)  # no NaN, no nesting past the bound
    except ValueError as exc:
        raise CommandError(f"RECORDS is not JSON: {exc}") from exc
    if not isinstance(items, list) or not items:
        raise CommandError("RECORDS must be a non-empty JSON list.")
    if kind == "delete":
        return [{"upstream_id": str(i)} for i in items]
    return items
