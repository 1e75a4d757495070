"""Reads of the journal for pages."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import Mutation

TIMELINE_LENGTH = 20


def record_timeline(*, sync_id: str, collection_id: str, upstream_id: str) -> QuerySet[Mutation]:
    return (
        Mutation.objects.filter(
            sync_id=sync_id, collection_id=collection_id, records__upstream_id=upstream_id
        )
        .prefetch_related("records__changes")
        .order_by("-created_at", "-id")[:TIMELINE_LENGTH]
    )
