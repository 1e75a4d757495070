"""Grants in Django's admin site: who holds which role where. Every change made here is
logged by Django's admin as a `LogEntry` (the site's "history" of each grant)."""

from __future__ import annotations

from django.contrib import admin

from .models import Grant


@admin.register(Grant)
class GrantAdmin(admin.ModelAdmin):
    list_display = ["__str__", "role", "user", "group", "sync_pattern", "collection_pattern"]
    list_filter = ["role", "group", "sync_pattern", "collection_pattern"]
    search_fields = [
        "user__username",
        "group__name",
        "sync_pattern",
        "collection_pattern",
    ]
    list_select_related = ["user", "group"]
    fields = ["role", "user", "group", "sync_pattern", "collection_pattern"]
    list_per_page = 50
