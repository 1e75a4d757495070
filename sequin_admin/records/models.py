"""The record index: the admin's own searchable copy of the records it shows.

Sequin has no endpoint to read one record and `GET /v1/records` filters only by sync and
collection, so the admin keeps what it has listed (and what every mutation returned) here.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from .titles import record_title


class IndexedCollection(models.Model):
    """Where the listing of one collection stands: the cursor to resume from, and counts."""

    sync_id = models.CharField(max_length=100)
    collection_id = models.CharField(max_length=200)
    # Opaque to us and of no documented length.
    cursor = models.TextField(blank=True)
    record_count = models.PositiveIntegerField(default=0)
    deleted_count = models.PositiveIntegerField(default=0)
    last_refreshed_at = models.DateTimeField(null=True, blank=True)
    refresh_started_at = models.DateTimeField(null=True, blank=True)
    refresh_fetched = models.PositiveIntegerField(default=0)
    # The input kind of each field seen while listing (`fields.kinds_from_samples`), so a
    # form is built without sampling the collection on every request.
    field_kinds = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["sync_id", "collection_id"], name="unique_collection")
        ]

    def __str__(self) -> str:
        return f"{self.sync_id} {self.collection_id}"

    @property
    def refreshing(self) -> bool:
        return self.refresh_started_at is not None


class IndexedRecord(models.Model):
    sync_id = models.CharField(max_length=100)
    collection_id = models.CharField(max_length=200)
    upstream_id = models.CharField(max_length=255)
    data = models.JSONField(default=dict)
    deleted = models.BooleanField(default=False)
    # Sequin's version of the record; 0 when an answer carries none.
    updated_idx = models.BigIntegerField(default=0)
    upstream_created_at = models.DateTimeField(null=True)
    upstream_updated_at = models.DateTimeField(null=True)
    # Lower-cased values of `data`, so `?q=` is one indexed-column scan and not JSON parsing.
    search_text = models.TextField(blank=True)
    # Sequin answered a mutation without a version: the row holds what was sent and returned,
    # and the next listing of the record replaces it.
    reread_pending = models.BooleanField(default=False)
    indexed_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["sync_id", "collection_id", "upstream_id"], name="unique_indexed_record"
            )
        ]
        indexes = [
            # Keyset paging, newest first: WHERE sync, collection, deleted ORDER BY idx, id.
            models.Index(
                fields=["sync_id", "collection_id", "deleted", "-updated_idx", "-id"],
                name="record_keyset",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.collection_id} {self.upstream_id}"

    @property
    def title(self) -> str:
        """What a person calls the record (`titles.py`)."""
        return record_title(
            collection_id=self.collection_id, data=self.data, upstream_id=self.upstream_id
        )


class ColumnChoice(models.Model):
    """The columns a person last picked for a collection, shown when the address names none."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    sync_id = models.CharField(max_length=100)
    collection_id = models.CharField(max_length=200)
    columns = models.JSONField(default=list)
    chosen_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "sync_id", "collection_id"], name="unique_column_choice"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.collection_id}: {', '.join(self.columns)}"
