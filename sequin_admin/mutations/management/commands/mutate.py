from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from sequin_admin.mutations.models import Source
from sequin_admin.mutations.run import mutation_run_in_batches, seen_in_index
from sequin_admin.sequin.types import MutationKind


class Command(BaseCommand):
    help = (
        "Run a mutation from the command line, journaled like any other. RECORDS is a JSON "
        'file (or - for stdin) holding a list: [{"upstream_id": "...", "data": {...}}] for '
        'update, [{"data": {...}}] for create, ["upstream_id", ...] for delete. Big lists '
        "are split by SEQUIN_MAX_RECORDS_PER_MUTATION into one group."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=["create", "update", "delete"])
        parser.add_argument("records")
        parser.add_argument("--sync", dest="sync_id", required=True)
        parser.add_argument("--collection", dest="collection_id", required=True)
        parser.add_argument("--user", dest="username", help="journal the attempts as this user")

    def handle(
        self,
        *args: Any,
        kind: MutationKind,
        records: str,
        sync_id: str,
        collection_id: str,
        username: str | None,
        **options: Any,
    ) -> None:
        text = sys.stdin.read() if records == "-" else Path(records).read_text()
        try:
            items = json.loads(text)
        except ValueError as exc:
            raise CommandError(f"RECORDS is not JSON: {exc}") from exc
        if not isinstance(items, list) or not items:
            raise CommandError("RECORDS must be a non-empty JSON list.")
        if kind == "delete":
            items = [{"upstream_id": str(i)} for i in items]
        user = None
        if username:
            user = get_user_model().objects.filter(username=username).first()
            if user is None:
                raise CommandError(f"No user {username!r}.")
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
