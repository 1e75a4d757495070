from __future__ import annotations

from django.apps import AppConfig


class MutationsConfig(AppConfig):
    name = "sequin_admin.mutations"
    label = "mutations"
    verbose_name = "Mutation history"

    def ready(self) -> None:
        from sequin_admin.records.signals import collection_refreshed

        from .reconcile import unsettled_settle

        collection_refreshed.connect(unsettled_settle, dispatch_uid="mutations.unsettled_settle")
