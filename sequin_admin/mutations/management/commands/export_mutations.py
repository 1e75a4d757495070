from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sequin_admin.access.commands import acting_user, add_acting_user_arguments
from sequin_admin.mutations.export import export_csv, export_json
from sequin_admin.mutations.forms import MutationFilterForm
from sequin_admin.mutations.selectors import mutation_filter

FILTERS = (
    "by",
    "outcome",
    "kind",
    "sync_id",
    "collection_id",
    "upstream_id",
    "field",
    "since",
    "until",
)


class Command(BaseCommand):
    help = (
        "Write the mutation history, filtered as on /mutations/, as CSV or JSON to stdout: "
        "with --user only the attempts that user may see (as on the page), with --as-system all."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", choices=["csv", "json"], default="csv")
        add_acting_user_arguments(parser)
        # --user names who runs the export, so the history's user filter is --by.
        for name in FILTERS:
            parser.add_argument(f"--{name.replace('_', '-')}", dest=name)

    def handle(self, *args: Any, **options: Any) -> None:
        user = acting_user(options)
        wanted = {k: options[k] for k in FILTERS if options.get(k)}
        if "by" in wanted:
            wanted["user"] = wanted.pop("by")
        form = MutationFilterForm(wanted)
        if not form.is_valid():
            raise CommandError(form.errors.as_text())
        rows = mutation_filter(form.filters(), user=user)
        chunks = export_json(rows) if options["format"] == "json" else export_csv(rows)
        for chunk in chunks:
            self.stdout.write(chunk, ending="")
