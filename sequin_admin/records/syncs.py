"""Syncs and their collections, as Sequin lists them and as far as the index has them."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache

from sequin_admin.sequin import SequinError, Sync
from sequin_admin.sequin.configured import get_client

from .models import IndexedCollection

# Sync names change rarely; breadcrumbs read them from the cache, so a page view costs no call
# to Sequin for them more than once in this many seconds.
SYNC_NAMES_TTL = 300


def sync_list() -> list[Sync]:
    syncs = sorted(get_client().list_syncs(), key=lambda s: (s.provider, s.name))
    cache.set(_names_key(), {s.id: s.name for s in syncs}, SYNC_NAMES_TTL)
    return syncs


def sync_get(*, sync_id: str) -> Sync:
    sync = get_client().get_sync(sync_id)
    names = cache.get(_names_key())
    if names is not None and names.get(sync.id) != sync.name:
        cache.set(_names_key(), {**names, sync.id: sync.name}, SYNC_NAMES_TTL)
    return sync


def sync_name(*, sync_id: str) -> str:
    """The sync's name for breadcrumbs: from the cache, else one listing of the syncs; the id
    when Sequin cannot say (a breadcrumb is no reason for an error page)."""
    names: dict[str, str] | None = cache.get(_names_key())
    if names is None:
        try:
            sync_list()
        except SequinError:
            return sync_id
        names = cache.get(_names_key()) or {}
    return names.get(sync_id, sync_id)


def _names_key() -> str:
    # One entry per Sequin: a test run or a deployment may switch between them.
    return f"sequin_admin:sync_names:{settings.SEQUIN_API_URL}"


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
