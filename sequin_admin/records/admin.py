"""The record index in Django's stock admin, the baseline `bench/record_pages.py` measures.

People browse records through the admin's own pages (keyset paging, see index.py); this plain
registration is what Django gives out of the box, OFFSET paging and COUNT(*), so the benchmark
can put a number on the difference. Read-only: only refreshes and mutations write the index.
"""

from __future__ import annotations

from django.contrib import admin

from sequin_admin.readonly_admin import ReadOnlyModelAdmin

from .models import IndexedRecord


@admin.register(IndexedRecord)
class IndexedRecordAdmin(ReadOnlyModelAdmin):
    list_display = ["upstream_id", "collection_id", "updated_idx"]
    # The same order as index_page, newest first, so both list the same rows on a page.
    ordering = ("-updated_idx", "-id")
    list_per_page = 50
    search_fields = ["search_text"]
