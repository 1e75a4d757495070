"""Browsing and editing records: the one way from views to the client, index and journal."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.cache import cache

from sequin_admin.mutations.journal import Seen
from sequin_admin.mutations.models import Mutation, Outcome, Source
from sequin_admin.mutations.services import mutation_run, mutations_reconcile
from sequin_admin.sequin import Consumer, MutationRequest, SequinError, Sync
from sequin_admin.sequin.configured import get_client

from .conflicts import Conflict, conflicts_for
from .fields import FieldKind, FieldSpec, field_specs, kinds_from_samples, same_value
from .forms import FormState
from .index import index_collection, index_get, index_refresh
from .models import IndexedCollection, IndexedRecord

logger = logging.getLogger(__name__)

CONSUMERS_CACHE_SECONDS = 60
SAMPLE_SIZE = 200
# Before a send the index catches up with what changed upstream, within this many seconds.
PRE_SEND_REFRESH_SECONDS = 3.0


def sync_list() -> list[Sync]:
    return sorted(get_client().list_syncs(), key=lambda s: (s.provider, s.name))


def sync_get(*, sync_id: str) -> Sync:
    return get_client().get_sync(sync_id)


def collections_of(*, sync: Sync) -> list[IndexedCollection]:
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


def collection_refresh(
    *, sync_id: str, collection_id: str, time_budget: float | None = None
) -> IndexedCollection:
    """Catch the index up with Sequin; with a budget, one slice: call again while
    `.refreshing`. A finished refresh settles the collection's unknown outcomes."""
    state = index_refresh(
        client=get_client(),
        sync_id=sync_id,
        collection_id=collection_id,
        time_budget=time_budget,
    )
    if not state.refreshing:
        _reconcile_after_refresh(sync_id=sync_id, collection_id=collection_id)
    return state


def _reconcile_after_refresh(*, sync_id: str, collection_id: str) -> None:
    try:
        mutations_reconcile(sync_id=sync_id, collection_id=collection_id, refresh=False)
    except SequinError:
        logger.warning("Reconciliation after refresh of %s failed", collection_id)


def consumer_list() -> list[Consumer]:
    """HTTP consumers to offer for `await_consumer_ids`; cached briefly, empty on error."""
    key = "sequin_admin:consumers"
    consumers: list[Consumer] | None = cache.get(key)
    if consumers is None:
        try:
            consumers = get_client().list_consumers()
        except SequinError:
            return []
        cache.set(key, consumers, CONSUMERS_CACHE_SECONDS)
    return consumers


def sample_kinds(*, sync_id: str, collection_id: str) -> dict[str, FieldKind]:
    samples = (
        IndexedRecord.objects.filter(sync_id=sync_id, collection_id=collection_id)
        .order_by("-updated_idx")
        .values_list("data", flat=True)[:SAMPLE_SIZE]
    )
    return kinds_from_samples(samples)


def record_specs(*, state: FormState) -> list[FieldSpec]:
    return field_specs(
        collection_id=state.collection_id,
        data=state.values,
        sample_kinds=sample_kinds(sync_id=state.sync_id, collection_id=state.collection_id),
    )


def form_state_for(record: IndexedRecord) -> FormState:
    return FormState(
        sync_id=record.sync_id,
        collection_id=record.collection_id,
        upstream_id=record.upstream_id,
        updated_idx=record.updated_idx,
        values=record.data,
    )


UpdateStatus = Literal["no_change", "conflict", "sent", "duplicate"]


@dataclass
class UpdateOutcome:
    status: UpdateStatus
    mutation: Mutation | None = None
    conflicts: list[Conflict] = field(default_factory=list)
    current: IndexedRecord | None = None


def record_update(
    *,
    user: AbstractBaseUser | AnonymousUser,
    state: FormState,
    changes: Mapping[str, Any],
    await_consumer_ids: Sequence[str] = (),
    await_consumers_timeout: int | None = None,
) -> UpdateOutcome:
    """Send only the changed fields, unless the record moved on upstream since the form."""
    if not changes:
        return UpdateOutcome(status="no_change")
    if first := Mutation.objects.filter(form_token=state.token).first():
        return UpdateOutcome(status="duplicate", mutation=first)
    current = record_catch_up(state=state)
    if current is not None and current.updated_idx > state.updated_idx:
        return UpdateOutcome(
            status="conflict",
            conflicts=conflicts_for(original=state.values, changes=changes, current=current.data),
            current=current,
        )
    request = update_request(
        state=state,
        changes=changes,
        await_consumer_ids=await_consumer_ids,
        await_consumers_timeout=await_consumers_timeout,
    )
    mutation, is_new = mutation_run(
        request=request,
        user=user,
        source=Source.FORM,
        seen={state.upstream_id: Seen(data=state.values, updated_idx=state.updated_idx)},
        form_token=state.token,
    )
    if mutation.outcome == Outcome.CONSUMERS_UNCONFIRMED:
        # Applied upstream but no record came back: read it, so the form shows what is there.
        current = record_catch_up(state=state)
    else:
        current = index_get(
            sync_id=state.sync_id, collection_id=state.collection_id, upstream_id=state.upstream_id
        )
    return UpdateOutcome(
        status="sent" if is_new else "duplicate", mutation=mutation, current=current
    )


def update_request(
    *,
    state: FormState,
    changes: Mapping[str, Any],
    await_consumer_ids: Sequence[str] = (),
    await_consumers_timeout: int | None = None,
) -> MutationRequest:
    """The update a form sends; the preview shows exactly this."""
    return MutationRequest(
        kind="update",
        sync_id=state.sync_id,
        collection_id=state.collection_id,
        records=({"upstream_id": state.upstream_id, "data": dict(changes)},),
        await_consumer_ids=tuple(await_consumer_ids),
        await_consumers_timeout=await_consumers_timeout if await_consumer_ids else None,
    )


def record_catch_up(*, state: FormState) -> IndexedRecord | None:
    """The index's copy after a short incremental refresh; the stale copy if Sequin fails."""
    try:
        index_refresh(
            client=get_client(),
            sync_id=state.sync_id,
            collection_id=state.collection_id,
            time_budget=PRE_SEND_REFRESH_SECONDS,
        )
    except SequinError:
        logger.warning("Could not re-read %s before sending", state.collection_id)
    return index_get(
        sync_id=state.sync_id, collection_id=state.collection_id, upstream_id=state.upstream_id
    )


def rebase_on(
    current: IndexedRecord, changes: Mapping[str, Any], keep_mine: Sequence[str], token: str
) -> tuple[FormState, dict[str, Any]]:
    """After a conflict: the state of the upstream's current record, and the person's kept
    changes that still differ from it."""
    state = FormState(
        sync_id=current.sync_id,
        collection_id=current.collection_id,
        upstream_id=current.upstream_id,
        updated_idx=current.updated_idx,
        values=current.data,
        token=token,
    )
    kept = {
        key: value
        for key, value in changes.items()
        if key in keep_mine and not same_value(value, current.data.get(key))
    }
    return state, kept


def record_ensure_indexed(
    *, sync_id: str, collection_id: str, upstream_id: str
) -> IndexedRecord | None:
    """The record from the index; a collection never listed is listed first."""
    record = index_get(sync_id=sync_id, collection_id=collection_id, upstream_id=upstream_id)
    if (
        record is None
        and index_collection(sync_id=sync_id, collection_id=collection_id).last_refreshed_at is None
    ):
        collection_refresh(sync_id=sync_id, collection_id=collection_id)
        record = index_get(sync_id=sync_id, collection_id=collection_id, upstream_id=upstream_id)
    return record
