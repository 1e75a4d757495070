from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sequin_admin.access.commands import (
    acting_user,
    add_acting_user_arguments,
    command_requires,
)
from sequin_admin.access.models import Role
from sequin_admin.mutations.models import Source
from sequin_admin.mutations.run import mutation_run_in_batches, seen_in_index
from sequin_admin.sequin.types import MutationKind


class Command(BaseCommand):
    help = (
        "Run a mutation from the command line, journaled like any other. RECORDS is a JSON "
        'file (or - for stdin) holding a list: [{"upstream_id": "...", "data": {...}}] for '
        'update, [{"data": {...}}] for create, ["upstream_id", ...] for delete. Big lists '
        "are split by SEQUIN_MAX_RECORDS_PER_MUTATION into one group. Needs --user with the "
        "bulk editor role on the collection, or --as-system."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=["create", "update", "delete"])
        parser.add_argument("records")
        parser.add_argument("--sync", dest="sync_id", required=True)
        parser.add_argument("--collection", dest="collection_id", required=True)
        add_acting_user_arguments(parser)

    def handle(
        self,
        *args: Any,
        kind: MutationKind,
        records: str,
        sync_id: str,
        collection_id: str,
        **options: Any,
    ) -> None:
        user = acting_user(options)
        command_requires(user, Role.BULK_EDITOR, sync_id=sync_id, collection_id=collection_id)
        text = sys.stdin.read() if records == "-" else Path(records).read_text()
        try:
            items = json.loads(text)
        except ValueError as exc:
            raise CommandError(f"RECORDS is not JSON: {exc}") from exc
        if not isinstance(items, list) or not items:
            raise CommandError("RECORDS must be a non-empty JSON list.")
        if kind == "delete":
            items = [{"upstream_id": str(i)} for i in items]
        attempts = mutation_run_in_batches(
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
        for mutation in attempts:
            self.stdout.write(
                f"#{mutation.pk} {mutation.shown_outcome_label}"
                f"{': ' + mutation.error_message if mutation.error_message else ''}"
            )
        if any(not m.applied for m in attempts):
            raise CommandError("Not every attempt was applied; see /mutations/.")
