"""Syncs and their collections, as Sequin lists them and as far as the index has them."""

from __future__ import annotations

from sequin_admin.sequin import Sync
from sequin_admin.sequin.configured import get_client

from .models import IndexedCollection


def sync_list() -> list[Sync]:
    return sorted(get_client().list_syncs(), key=lambda s: (s.provider, s.name))


def sync_get(*, sync_id: str) -> Sync:
    return get_client().get_sync(sync_id)


def collection_exists(*, sync_id: str, collection_id: str) -> bool:
    """Whether Sequin lists the collection under the sync. Asked before a collection is first
    listed, so an address nobody can have reached from a page writes nothing."""
    return collection_id in sync_get(sync_id=sync_id).collection_ids


def collections_of(*, sync: Sync) -> list[IndexedCollection]:
    """Each collection of the sync with its listing state (unsaved where never listed)."""
    known = {
        c.collection_id: c
        for c in IndexedCollection.objects.filter(
            sync_id=sync.id, collection_id__in=sync.collection_ids
        )
    }
    return [
        known.get(cid) or IndexedCollection(sync_id=sync.id, collection_id=cid)
        for cid in sync.collection_ids
    ]
