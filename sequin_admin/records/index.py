"""Writing and reading single rows of the record index (see models.py for why it exists)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from django.utils import timezone

from sequin_admin.sequin import Record

from .models import IndexedRecord

SEARCH_TEXT_LIMIT = 10_000


def search_text_for(upstream_id: str, data: dict[str, Any]) -> str:
    parts = [upstream_id, *_leaf_values(data)]
    return " ".join(parts).lower()[:SEARCH_TEXT_LIMIT]


def _leaf_values(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _leaf_values(item)
    elif isinstance(value, list):
        for item in value:
            yield from _leaf_values(item)
    elif value is not None and not isinstance(value, bool):
        yield str(value)


def index_upsert(*, records: Iterable[Record]) -> int:
    """Store records, never replacing a newer version (higher `updated_idx`) with an older one."""
    incoming = {(r.sync_id, r.collection_id, r.upstream_id): r for r in records}
    if not incoming:
        return 0
    known: dict[tuple[str, str, str], int] = {}
    for sync_id, collection_id in {(k[0], k[1]) for k in incoming}:
        upstream_ids = [k[2] for k in incoming if k[0] == sync_id and k[1] == collection_id]
        for upstream_id, updated_idx in IndexedRecord.objects.filter(
            sync_id=sync_id, collection_id=collection_id, upstream_id__in=upstream_ids
        ).values_list("upstream_id", "updated_idx"):
            known[(sync_id, collection_id, upstream_id)] = updated_idx
    rows = [
        IndexedRecord(
            sync_id=r.sync_id,
            collection_id=r.collection_id,
            upstream_id=r.upstream_id,
            data=r.data,
            deleted=r.deleted,
            updated_idx=r.updated_idx or 0,
            upstream_created_at=r.upstream_created_at,
            upstream_updated_at=r.upstream_updated_at,
            search_text=search_text_for(r.upstream_id, r.data),
            indexed_at=timezone.now(),
        )
        for key, r in incoming.items()
        if key not in known or (r.updated_idx or 0) >= known[key]
    ]
    IndexedRecord.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["sync_id", "collection_id", "upstream_id"],
        update_fields=[
            "data",
            "deleted",
            "updated_idx",
            "upstream_created_at",
            "upstream_updated_at",
            "search_text",
            "indexed_at",
        ],
    )
    return len(rows)


def index_get(*, sync_id: str, collection_id: str, upstream_id: str) -> IndexedRecord | None:
    return IndexedRecord.objects.filter(
        sync_id=sync_id, collection_id=collection_id, upstream_id=upstream_id
    ).first()
