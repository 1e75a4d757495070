"""Bulk edit from the collection page: which records, which new values, what would change.

The selection is either upstream ids picked one by one (or a whole page) or everything the
collection page's search and filters match, read from its query string through
`records.listing.index_matching`, so the bulk edit always agrees with the listing.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.http import QueryDict

from sequin_admin.records.fields import is_read_only
from sequin_admin.records.listing import ListingQuery, index_matching
from sequin_admin.records.models import IndexedRecord
from sequin_admin.records.refresh import collection_state
from sequin_admin.records.values import fields_differing

from .forms import parse_new_value, value_too_long
from .jobs import User, job_start
from .models import Job, JobKind

PREVIEW_ROWS = 50
# How the collection's sampled kinds map onto the edit form's way of reading typed text.
PARSE_KIND = {"integer": "number", "number": "number", "boolean": "boolean", "json": "json"}


@dataclass(frozen=True)
class Selection:
    sync_id: str
    collection_id: str
    upstream_ids: tuple[str, ...] = ()
    # The collection page's query string when "all that match" was chosen.
    query_string: str | None = None

    @property
    def matching(self) -> bool:
        return self.query_string is not None

    def rows(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """(upstream_id, data) of each selected record the index holds, in upstream id order."""
        if self.matching:
            # The page's search, deleted choice and filters; its sort and page don't matter.
            query = ListingQuery.from_params(QueryDict(self.query_string or ""))
            rows = index_matching(
                sync_id=self.sync_id, collection_id=self.collection_id, query=query
            )
        else:
            rows = IndexedRecord.objects.filter(
                sync_id=self.sync_id,
                collection_id=self.collection_id,
                upstream_id__in=self.upstream_ids,
            )
        yield from rows.order_by("upstream_id").values_list("upstream_id", "data").iterator(2000)


@dataclass(frozen=True)
class EditableField:
    key: str
    kind: str


def bulk_fields(*, sync_id: str, collection_id: str) -> list[EditableField]:
    """The collection's fields a bulk edit may set: every sampled key but the read-only."""
    kinds = collection_state(sync_id=sync_id, collection_id=collection_id).field_kinds
    return [
        EditableField(key=key, kind=kind)
        for key, kind in sorted(kinds.items())
        if not is_read_only(collection_id, key)
    ]


def bulk_changes(
    *, fields: Sequence[EditableField], chosen: Mapping[str, tuple[str, bool]]
) -> tuple[dict[str, Any], dict[str, str]]:
    """The new values from `chosen` (key -> (typed text, set to null)); and errors by key."""
    changes: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for spec in fields:
        if spec.key not in chosen:
            continue
        text, to_null = chosen[spec.key]
        try:
            value = None if to_null else parse_new_value(PARSE_KIND.get(spec.kind, "text"), text)
        except ValueError as exc:
            errors[spec.key] = str(exc)
            continue
        if too_long := value_too_long(value):
            errors[spec.key] = too_long
        else:
            changes[spec.key] = value
    return changes, errors


@dataclass(frozen=True)
class BulkPreview:
    selected: int
    changing: int
    # The first PREVIEW_ROWS records that change: (upstream_id, {field: (before, after)}).
    sample: list[tuple[str, dict[str, tuple[Any, Any]]]]

    @property
    def unchanged(self) -> int:
        return self.selected - self.changing


def _diffs(
    selection: Selection, changes: Mapping[str, Any]
) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    for upstream_id, data in selection.rows():
        differing = fields_differing(base=data, wanted=changes)
        yield upstream_id, data, differing


def bulk_preview(*, selection: Selection, changes: Mapping[str, Any]) -> BulkPreview:
    """Per record what would change; records already holding the values are left out."""
    selected = changing = 0
    sample: list[tuple[str, dict[str, tuple[Any, Any]]]] = []
    for upstream_id, data, differing in _diffs(selection, changes):
        selected += 1
        if not differing:
            continue
        changing += 1
        if len(sample) < PREVIEW_ROWS:
            sample.append((upstream_id, {k: (data.get(k), v) for k, v in differing.items()}))
    return BulkPreview(selected=selected, changing=changing, sample=sample)


def bulk_run(*, user: User, selection: Selection, changes: Mapping[str, Any]) -> Job | None:
    """A job updating the selected records that differ, each with only its differing
    fields; None when none differs."""
    items = [(uid, differing) for uid, _, differing in _diffs(selection, changes) if differing]
    if not items:
        return None
    names = ", ".join(changes)
    return job_start(
        user=user,
        sync_id=selection.sync_id,
        collection_id=selection.collection_id,
        kind=JobKind.UPDATE,
        items=items,
        query_string=selection.query_string or "",
        description=f"Bulk edit of {names}"[:300],
    )
