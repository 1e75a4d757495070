"""Reading and filling the record index (see models.py for why it exists)."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from django.db import transaction
from django.utils import timezone

from sequin_admin.sequin import Record, SequinClient, SequinError
from sequin_admin.sequin.client import DEFAULT_PAGE_SIZE

from .models import IndexedCollection, IndexedRecord

DeletedFilter = Literal["live", "deleted", "all"]
PAGE_SIZE = 50
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


@dataclass(frozen=True)
class IndexPage:
    rows: list[IndexedRecord]
    next_key: str | None
    previous_key: str | None


def index_page(
    *,
    sync_id: str,
    collection_id: str,
    q: str = "",
    deleted: DeletedFilter = "live",
    after: str | None = None,
    before: str | None = None,
    limit: int = PAGE_SIZE,
) -> IndexPage:
    """Newest first, paged by (updated_idx, id) keys: page 10,000 costs what page 1 costs."""
    rows = IndexedRecord.objects.filter(sync_id=sync_id, collection_id=collection_id)
    if deleted != "all":
        # `deleted__in`, not `deleted=False`: SQLite renders the latter as `NOT "deleted"`,
        # which cannot use the keyset index and sorts the whole collection (make bench).
        rows = rows.filter(deleted__in=[deleted == "deleted"])
    for term in q.lower().split():
        rows = rows.filter(search_text__contains=term)
    backwards = False
    if after and (key := _parse_key(after)):
        # `updated_idx <= k` bounds an index range scan; the exclude breaks ties on id.
        rows = rows.filter(updated_idx__lte=key[0]).exclude(updated_idx=key[0], id__gte=key[1])
    elif before and (key := _parse_key(before)):
        rows = rows.filter(updated_idx__gte=key[0]).exclude(updated_idx=key[0], id__lte=key[1])
        backwards = True
    ordering = ("updated_idx", "id") if backwards else ("-updated_idx", "-id")
    fetched = list(rows.order_by(*ordering)[: limit + 1])
    more = len(fetched) > limit
    fetched = fetched[:limit]
    if backwards:
        fetched.reverse()
    has_next = more if not backwards else True
    has_previous = bool(after) or (backwards and more)
    return IndexPage(
        rows=fetched,
        next_key=_key(fetched[-1]) if fetched and has_next else None,
        previous_key=_key(fetched[0]) if fetched and has_previous else None,
    )


def _key(row: IndexedRecord) -> str:
    return f"{row.updated_idx}.{row.pk}"


def _parse_key(text: str) -> tuple[int, int] | None:
    try:
        idx, pk = text.split(".", 1)
        return int(idx), int(pk)
    except ValueError:
        return None


def index_collection(*, sync_id: str, collection_id: str) -> IndexedCollection:
    state, _ = IndexedCollection.objects.get_or_create(sync_id=sync_id, collection_id=collection_id)
    return state


def index_refresh(
    *,
    client: SequinClient,
    sync_id: str,
    collection_id: str,
    time_budget: float | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
) -> IndexedCollection:
    """Fetch what changed since the stored cursor; resumable page by page.

    With a `time_budget` (seconds) it stops after the page that crosses it and leaves the
    collection marked as refreshing, so the caller can show progress and call again.
    """
    state = index_collection(sync_id=sync_id, collection_id=collection_id)
    if state.refresh_started_at is None:
        state.refresh_started_at = timezone.now()
        state.refresh_fetched = 0
        state.save(update_fields=["refresh_started_at", "refresh_fetched"])
    started = time.monotonic()
    try:
        for page in client.iter_record_pages(
            sync_id=sync_id,
            collection_id=collection_id,
            after_cursor=state.cursor or None,
            limit=page_size,
        ):
            with transaction.atomic():
                index_upsert(records=page.records)
                state.cursor = page.cursor or state.cursor
                state.refresh_fetched += len(page.records)
                state.save(update_fields=["cursor", "refresh_fetched"])
            if time_budget is not None and time.monotonic() - started > time_budget:
                return state
    except SequinError:
        state.refresh_started_at = None
        state.save(update_fields=["refresh_started_at"])
        raise
    live = IndexedRecord.objects.filter(sync_id=sync_id, collection_id=collection_id)
    state.record_count = live.filter(deleted=False).count()
    state.deleted_count = live.filter(deleted=True).count()
    state.refresh_started_at = None
    state.last_refreshed_at = timezone.now()
    state.save()
    return state
