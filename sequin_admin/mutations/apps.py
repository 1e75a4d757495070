from __future__ import annotations

from django.apps import AppConfig


class MutationsConfig(AppConfig):
    name = "sequin_admin.mutations"
    label = "mutations"
    verbose_name = "Mutation history"
