"""Writing and reading single rows of the record index (see models.py for why it exists)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from django.core.cache import cache
from django.db.models import Q
from django.utils import timezone

from sequin_admin.sequin import MutationRequest, MutationResult, Record

from .fields import picklists_from_samples, reference_collection
from .models import IndexedRecord
from .titles import record_title

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
            reread_pending=False,
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
            "reread_pending",
        ],
    )
    return len(rows)


def index_apply_answer(*, result: MutationResult, request: MutationRequest) -> None:
    """What a successful mutation tells the index, read no further than Sequin promised.

    A returned record's data is merged onto the indexed row unless it is clearly whole (an
    update may return only the patched keys) and never replaces a newer version; a record
    returned without a version keeps the row's and is marked for a re-read; a delete marks
    its records deleted whatever the answer's `deleted` says.
    """
    returned = [
        r.within(sync_id=request.sync_id, collection_id=request.collection_id)
        for r in result.records
    ]
    deleted_ids = set(request.upstream_ids) if request.kind == "delete" else set()
    rows = {
        row.upstream_id: row
        for row in IndexedRecord.objects.filter(
            sync_id=request.sync_id,
            collection_id=request.collection_id,
            upstream_id__in=[r.upstream_id for r in returned] + sorted(deleted_ids),
        )
    }
    merged = []
    for record in returned:
        row = rows.get(record.upstream_id)
        if row is None:
            merged.append(record)
            continue
        whole = set(record.data) >= set(row.data)
        merged.append(
            replace(
                record,
                data=record.data if whole else {**row.data, **record.data},
                updated_idx=row.updated_idx if record.updated_idx is None else record.updated_idx,
            )
        )
    index_upsert(records=merged)
    unversioned = {r.upstream_id for r in returned if r.updated_idx is None}
    rows_of_request = IndexedRecord.objects.filter(
        sync_id=request.sync_id, collection_id=request.collection_id
    )
    if deleted_ids:
        rows_of_request.filter(upstream_id__in=deleted_ids).update(deleted=True)
        unversioned |= deleted_ids - {r.upstream_id for r in returned}
    rows_of_request.filter(upstream_id__in=unversioned).update(reread_pending=True)


def index_get(*, sync_id: str, collection_id: str, upstream_id: str) -> IndexedRecord | None:
    return IndexedRecord.objects.filter(
        sync_id=sync_id, collection_id=collection_id, upstream_id=upstream_id
    ).first()


RecordKey = tuple[str, str, str]  # sync_id, collection_id, upstream_id


def titles_of(keys: Iterable[RecordKey]) -> dict[RecordKey, str]:
    """Titles of the indexed records among `keys`, in one query; records not indexed are left
    out (the caller picks what else to show)."""
    wanted: dict[tuple[str, str], set[str]] = {}
    for sync_id, collection_id, upstream_id in keys:
        if upstream_id:
            wanted.setdefault((sync_id, collection_id), set()).add(upstream_id)
    if not wanted:
        return {}
    where = Q()
    for (sync_id, collection_id), upstream_ids in wanted.items():
        where |= Q(sync_id=sync_id, collection_id=collection_id, upstream_id__in=upstream_ids)
    rows = IndexedRecord.objects.filter(where).values_list(
        "sync_id", "collection_id", "upstream_id", "data"
    )
    return {
        (sync_id, collection_id, upstream_id): record_title(
            collection_id=collection_id, data=data, upstream_id=upstream_id
        )
        for sync_id, collection_id, upstream_id, data in rows
    }


# The newest records of a collection a picklist's values are read from, and how long they
# are kept: a record page reads them from the cache, not from a scan of the collection.
PICKLIST_SAMPLE = 500
PICKLIST_CACHE_SECONDS = 300


def index_picklists(*, sync_id: str, collection_id: str) -> dict[str, list[str]]:
    """The collection's picklist fields and the values seen for each (`fields.py`)."""
    key = f"sequin_admin:picklists:{sync_id}:{collection_id}"
    found: dict[str, list[str]] | None = cache.get(key)
    if found is None:
        # The keyset index's order: a range scan of the newest rows, not a sort.
        sample = (
            IndexedRecord.objects.filter(
                sync_id=sync_id, collection_id=collection_id, deleted__in=[False]
            )
            .order_by("-updated_idx", "-id")
            .values_list("data", flat=True)[:PICKLIST_SAMPLE]
        )
        found = picklists_from_samples(sample, collection_id=collection_id)
        cache.set(key, found, PICKLIST_CACHE_SECONDS)
    return found


@dataclass(frozen=True)
class Reference:
    """A field's value that is the id of another indexed record."""

    path: str
    sync_id: str
    collection_id: str
    upstream_id: str
    title: str


def index_references(
    *, sync_id: str, collection_id: str, data: Mapping[str, Any]
) -> dict[str, list[Reference]]:
    """The record's fields (top-level and one level down, as `properties.associatedcompanyid`)
    that hold the id of another record found in the index, by top-level key; one query."""
    wanted: dict[RecordKey, list[str]] = {}
    for path, value in _paths(data):
        target = reference_collection(collection_id, path)
        if target and isinstance(value, str | int) and not isinstance(value, bool) and value:
            wanted.setdefault((sync_id, target, str(value)), []).append(path)
    found: dict[str, list[Reference]] = {}
    for key, title in titles_of(wanted).items():
        for path in wanted[key]:
            reference = Reference(path, key[0], key[1], key[2], title)
            found.setdefault(path.split(".", 1)[0], []).append(reference)
    return found


def _paths(data: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    for key, value in data.items():
        if isinstance(value, Mapping):
            for inner, inner_value in value.items():
                yield f"{key}.{inner}", inner_value
        else:
            yield key, value
