from __future__ import annotations

from django.apps import AppConfig


class EditsConfig(AppConfig):
    """The use cases on top of the index and the journal; its own models are the bulk jobs."""

    name = "sequin_admin.edits"
    label = "edits"
    verbose_name = "Edits"
