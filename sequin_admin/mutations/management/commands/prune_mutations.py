from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from sequin_admin.mutations.retention import mutations_prune


class Command(BaseCommand):
    help = "Delete journal entries older than MUTATION_RETENTION_DAYS (or --days)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=None)
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, *args: Any, days: int | None, dry_run: bool, **options: Any) -> None:
        days = settings.MUTATION_RETENTION_DAYS if days is None else days
        if days <= 0:
            raise CommandError("Retention is off (MUTATION_RETENTION_DAYS=0); pass --days N.")
        count = mutations_prune(older_than_days=days, dry_run=dry_run)
        verb = "would delete" if dry_run else "deleted"
        self.stdout.write(f"{verb} {count} attempt(s) older than {days} days.")
