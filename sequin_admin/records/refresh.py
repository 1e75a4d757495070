"""Filling the record index from `GET /v1/records`: the one way a collection is refreshed."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Generator, Iterator
from contextlib import closing
from typing import Any

from django.db import transaction
from django.utils import timezone

from sequin_admin.sequin import RecordPage, SequinError
from sequin_admin.sequin.client import DEFAULT_PAGE_SIZE
from sequin_admin.sequin.configured import get_client

from .fields import kinds_from_samples
from .index import index_upsert
from .models import IndexedCollection, IndexedRecord
from .signals import collection_refreshed

# Pages fetched ahead of the one being written: the next page's HTTP call overlaps the
# previous page's write, and a stopped refresh has fetched at most this many for nothing.
PREFETCH_PAGES = 2
# How often a fetcher blocked on a full queue checks whether the reader has gone.
_HANDOFF_POLL_SECONDS = 0.1


def prefetched(pages: Iterator[RecordPage], *, depth: int) -> Generator[RecordPage]:
    """`pages`, read by a thread up to `depth` pages ahead of the caller.

    The thread only iterates `pages` (HTTP and parsing, no database); what it raises is raised
    here, in order, after the pages before it. Closing this generator (the caller stops early)
    stops the thread and waits for it, so the client it used is free again on return.
    """
    handoff: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: tuple[str, Any]) -> bool:
        while not stop.is_set():
            try:
                handoff.put(item, timeout=_HANDOFF_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def fetch() -> None:
        try:
            for page in pages:
                if not put(("page", page)):
                    return
        except BaseException as exc:  # handed to the reader, who raises it
            put(("error", exc))
            return
        put(("end", None))

    fetcher = threading.Thread(target=fetch, name="record-pages-ahead", daemon=True)
    fetcher.start()
    try:
        while True:
            kind, item = handoff.get()
            if kind == "end":
                return
            if kind == "error":
                raise item
            yield item
    finally:
        stop.set()
        fetcher.join()


def collection_state(*, sync_id: str, collection_id: str) -> IndexedCollection:
    """Where the listing of a collection stands. Reading writes nothing: a collection never
    listed gets an unsaved, empty state."""
    return IndexedCollection.objects.filter(
        sync_id=sync_id, collection_id=collection_id
    ).first() or IndexedCollection(sync_id=sync_id, collection_id=collection_id)


def collection_refresh(
    *,
    sync_id: str,
    collection_id: str,
    time_budget: float | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
) -> IndexedCollection:
    """Fetch what changed since the stored cursor; resumable page by page.

    With a `time_budget` (seconds) it stops after the page that crosses it and leaves the
    collection marked as refreshing, so the caller can show progress and call again. A
    refresh that reaches the end sends `collection_refreshed`. Raises SequinError.
    """
    state, _ = IndexedCollection.objects.get_or_create(sync_id=sync_id, collection_id=collection_id)
    if state.refresh_started_at is None:
        state.refresh_started_at = timezone.now()
        state.refresh_fetched = 0
        state.save(update_fields=["refresh_started_at", "refresh_fetched"])
    started = time.monotonic()
    pages = get_client().iter_record_pages(
        sync_id=sync_id,
        collection_id=collection_id,
        after_cursor=state.cursor or None,
        limit=page_size,
    )
    try:
        with closing(prefetched(pages, depth=PREFETCH_PAGES)) as ahead:
            for page in ahead:
                with transaction.atomic():
                    index_upsert(records=page.records)
                    state.cursor = page.cursor or state.cursor
                    state.refresh_fetched += len(page.records)
                    state.field_kinds = kinds_from_samples(
                        (r.data for r in page.records), known=state.field_kinds
                    )
                    state.save(update_fields=["cursor", "refresh_fetched", "field_kinds"])
                if time_budget is not None and time.monotonic() - started > time_budget:
                    return state
    except SequinError:
        state.refresh_started_at = None
        state.save(update_fields=["refresh_started_at"])
        raise
    rows = IndexedRecord.objects.filter(sync_id=sync_id, collection_id=collection_id)
    state.record_count = rows.filter(deleted=False).count()
    state.deleted_count = rows.filter(deleted=True).count()
    state.refresh_started_at = None
    state.last_refreshed_at = timezone.now()
    state.save()
    collection_refreshed.send(
        sender=IndexedCollection, sync_id=sync_id, collection_id=collection_id
    )
    return state
