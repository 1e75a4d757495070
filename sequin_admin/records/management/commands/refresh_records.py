from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sequin_admin.access.commands import acting_user, add_acting_user_arguments, command_requires
from sequin_admin.access.models import Role
from sequin_admin.access.services import access_allows
from sequin_admin.records.refresh import collection_refresh
from sequin_admin.records.syncs import sync_get, sync_list
from sequin_admin.sequin import SequinError


class Command(BaseCommand):
    help = (
        "Bring the record index up to date with Sequin: only what changed since the last "
        "refresh is fetched, and an interrupted refresh resumes where it stopped. With --user "
        "only the collections that user holds the viewer role on."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--sync", dest="sync_id", help="only this sync")
        parser.add_argument("--collection", dest="collection_id", help="only this collection")
        add_acting_user_arguments(parser)

    def handle(
        self, *args: Any, sync_id: str | None, collection_id: str | None, **options: Any
    ) -> None:
        user = acting_user(options)
        if sync_id:
            command_requires(user, Role.VIEWER, sync_id=sync_id, collection_id=collection_id)
        try:
            syncs = [sync_get(sync_id=sync_id)] if sync_id else sync_list()
        except SequinError as exc:
            raise CommandError(f"{exc.title}: {exc.message}") from exc
        done = 0
        for sync in syncs:
            for cid in sync.collection_ids:
                if collection_id and cid != collection_id:
                    continue
                if user is not None and not access_allows(
                    user=user, role=Role.VIEWER, sync_id=sync.id, collection_id=cid
                ):
                    continue
                try:
                    state = collection_refresh(sync_id=sync.id, collection_id=cid)
                except SequinError as exc:
                    raise CommandError(f"{sync.name} {cid}: {exc.title}: {exc.message}") from exc
                done += 1
                self.stdout.write(
                    f"{sync.name} {cid}: {state.refresh_fetched} fetched, "
                    f"{state.record_count} records, {state.deleted_count} deleted"
                )
        if user is not None and not done:
            raise CommandError(
                f"{user.get_username()} may see no collection here (no viewer role on it)."
            )
        if collection_id and not done:
            raise CommandError(f"No sync has the collection {collection_id!r}.")
