from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sequin_admin.access.commands import acting_user, add_acting_user_arguments
from sequin_admin.mutations.reconcile import unsettled_reconcile
from sequin_admin.sequin import SequinError


class Command(BaseCommand):
    help = (
        "Re-read the records of every attempt whose outcome is unknown (a 504, a timeout, a "
        "dropped connection, or a process that died mid-call) and record whether it applied. "
        "With --user only attempts on collections that user holds the editor role on."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--sync", dest="sync_id")
        parser.add_argument("--collection", dest="collection_id")
        add_acting_user_arguments(parser)

    def handle(
        self, *args: Any, sync_id: str | None, collection_id: str | None, **options: Any
    ) -> None:
        try:
            done = unsettled_reconcile(
                sync_id=sync_id, collection_id=collection_id, user=acting_user(options)
            )
        except SequinError as exc:
            raise CommandError(f"{exc.title}: {exc.message}") from exc
        for mutation in done:
            self.stdout.write(
                f"#{mutation.pk} {mutation.get_reconciliation_display()}: "
                f"{mutation.reconciliation_note}"
            )
        self.stdout.write(f"{len(done)} attempt(s) reconciled.")
