"""The client as a Django app only so that its settings are checked at start-up."""

from __future__ import annotations

from django.apps import AppConfig


class SequinConfig(AppConfig):
    name = "sequin_admin.sequin"
    label = "sequin"
    verbose_name = "Sequin client"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the checks)
