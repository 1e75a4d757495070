"""Pages of the record index: what the collection page lists."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from django.db.models import QuerySet

from .models import IndexedRecord

DeletedFilter = Literal["live", "deleted", "all"]
DELETED_FILTERS: tuple[DeletedFilter, ...] = ("live", "deleted", "all")
PAGE_SIZE = 50
# Each term is one more LIKE; SQLite refuses a query past ~1,000 of them, and nobody types ten.
MAX_SEARCH_TERMS = 10


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
    rows = index_matching(sync_id=sync_id, collection_id=collection_id, q=q, deleted=deleted)
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


def index_matching(
    *, sync_id: str, collection_id: str, q: str = "", deleted: DeletedFilter = "live"
) -> QuerySet[IndexedRecord]:
    """Every record the collection page's search and filters match, unordered: the page
    shows them a page at a time, a bulk edit takes them all."""
    rows = IndexedRecord.objects.filter(sync_id=sync_id, collection_id=collection_id)
    if deleted != "all":
        # `deleted__in`, not `deleted=False`: SQLite renders the latter as `NOT "deleted"`,
        # which cannot use the keyset index and sorts the whole collection (make bench).
        rows = rows.filter(deleted__in=[deleted == "deleted"])
    for term in search_terms(q):
        rows = rows.filter(search_text__contains=term)
    return rows


def deleted_filter(value: str | None) -> DeletedFilter:
    """The page's `deleted` parameter; anything else reads as live records."""
    return next((d for d in DELETED_FILTERS if d == value), "live")


def _key(row: IndexedRecord) -> str:
    return f"{row.updated_idx}.{row.pk}"


def _parse_key(text: str) -> tuple[int, int] | None:
    try:
        idx, pk = text.split(".", 1)
        return int(idx), int(pk)
    except ValueError:
        return None


def search_terms(q: str) -> list[str]:
    """The distinct lower-cased words of a search, at most MAX_SEARCH_TERMS of them."""
    return list(dict.fromkeys(q.lower().split()))[:MAX_SEARCH_TERMS]
