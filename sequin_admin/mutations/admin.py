"""The journal in Django's stock admin, read-only: a baseline beside the history pages.

Read-only because journal.py is the only writer of these rows (see models.py).
"""

from __future__ import annotations

from django.contrib import admin

from sequin_admin.readonly_admin import ReadOnlyModelAdmin

from .models import Mutation


@admin.register(Mutation)
class MutationAdmin(ReadOnlyModelAdmin):
    # `username`, not `user`: it is copied at write time and costs no join per row.
    list_display = ["id", "created_at", "username", "kind", "sync_id", "collection_id", "outcome"]
    list_filter = ["outcome", "kind"]
    list_per_page = 50
