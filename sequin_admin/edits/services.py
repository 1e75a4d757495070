"""Editing one record: the use case behind the record page.

Only the changed fields are sent, and only if the record has not moved on upstream since
the form was rendered; every attempt goes through the journal (`mutation_run`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.cache import cache

from sequin_admin.mutations.journal import Seen
from sequin_admin.mutations.models import FieldChange, Mutation, Outcome, Source
from sequin_admin.mutations.reconcile import mutation_reconcile
from sequin_admin.mutations.run import mutation_run
from sequin_admin.mutations.selectors import mutation_for_form, mutation_of_record
from sequin_admin.records.fields import FieldSpec, field_specs
from sequin_admin.records.index import index_get, index_picklists
from sequin_admin.records.models import IndexedRecord
from sequin_admin.records.refresh import collection_refresh, collection_state
from sequin_admin.records.syncs import collection_exists
from sequin_admin.records.values import fields_differing
from sequin_admin.sequin import Consumer, MutationRequest, SequinError
from sequin_admin.sequin.configured import get_client
from sequin_admin.sequin.types import consumers_for

from .conflicts import Conflict, conflicts_for, must_choose
from .forms import FormState

logger = logging.getLogger(__name__)

CONSUMERS_CACHE_SECONDS = 60
# Reads of Sequin on behalf of one page are bounded: the index catches up within this many
# seconds (before a send, or to find a record in a collection never listed).
CATCH_UP_SECONDS = 3.0


def consumer_list(*, sync_id: str, collection_id: str) -> list[Consumer]:
    """Consumers to offer for `await_consumer_ids`: those whose filters can match the
    collection. The list is cached briefly; empty when Sequin can't list it."""
    key = "sequin_admin:consumers"
    consumers: list[Consumer] | None = cache.get(key)
    if consumers is None:
        try:
            consumers = get_client().list_consumers()
        except SequinError:
            return []
        cache.set(key, consumers, CONSUMERS_CACHE_SECONDS)
    return consumers_for(consumers, sync_id=sync_id, collection_id=collection_id)


def consumer_names(*, sync_id: str, collection_id: str, ids: Sequence[str]) -> dict[str, str]:
    """The names of the consumers `ids` among those offered for the collection."""
    if not ids:
        return {}
    return {c.id: c.name for c in consumer_list(sync_id=sync_id, collection_id=collection_id)}


def record_specs(*, state: FormState) -> list[FieldSpec]:
    """The form's fields, typed by what the listing saw of each field across the collection."""
    kinds = collection_state(sync_id=state.sync_id, collection_id=state.collection_id).field_kinds
    picklists = index_picklists(sync_id=state.sync_id, collection_id=state.collection_id)
    return field_specs(
        collection_id=state.collection_id,
        data=state.values,
        sample_kinds=kinds,
        picklists=picklists,
    )


def form_state_for(record: IndexedRecord) -> FormState:
    return FormState(
        sync_id=record.sync_id,
        collection_id=record.collection_id,
        upstream_id=record.upstream_id,
        updated_idx=record.updated_idx,
        values=record.data,
    )


def record_ensure_indexed(
    *, sync_id: str, collection_id: str, upstream_id: str
) -> IndexedRecord | None:
    """The record from the index; a collection never listed is listed for a bounded time
    first (the collection page goes on with the rest). Raises SequinError."""
    record = index_get(sync_id=sync_id, collection_id=collection_id, upstream_id=upstream_id)
    if record is not None:
        # The usual case: the page reads the index alone, and the form's specs read the
        # collection's state themselves.
        return record
    state = collection_state(sync_id=sync_id, collection_id=collection_id)
    if not state.last_refreshed_at and (
        state.pk is not None or collection_exists(sync_id=sync_id, collection_id=collection_id)
    ):
        collection_refresh(
            sync_id=sync_id, collection_id=collection_id, time_budget=CATCH_UP_SECONDS
        )
        record = index_get(sync_id=sync_id, collection_id=collection_id, upstream_id=upstream_id)
    return record


def record_catch_up(*, state: FormState) -> IndexedRecord | None:
    """The index's copy after a short incremental refresh; the stale copy if Sequin fails."""
    try:
        collection_refresh(
            sync_id=state.sync_id,
            collection_id=state.collection_id,
            time_budget=CATCH_UP_SECONDS,
        )
    except SequinError:
        logger.warning("Could not re-read %s before sending", state.collection_id)
    return index_get(
        sync_id=state.sync_id, collection_id=state.collection_id, upstream_id=state.upstream_id
    )


# held: the upstream already holds every change, so nothing was sent; deleted: the record
# was deleted upstream, so nothing was sent.
UpdateStatus = Literal["no_change", "held", "deleted", "conflict", "sent", "duplicate"]


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
    if first := mutation_for_form(form_token=state.token):
        return UpdateOutcome(status="duplicate", mutation=first)
    current = record_catch_up(state=state)
    if current is not None and current.deleted:
        return UpdateOutcome(status="deleted", current=current)
    if current is not None and current.updated_idx > state.updated_idx:
        conflicts = conflicts_for(original=state.values, changes=changes, current=current.data)
        if must_choose(conflicts):
            return UpdateOutcome(status="conflict", conflicts=conflicts, current=current)
        # The upstream moved elsewhere (or to the person's values): PATCH merges the rest.
        changes = fields_differing(base=current.data, wanted=changes)
        if not changes:
            return UpdateOutcome(status="held", current=current)
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
        consumer_names=consumer_names(
            sync_id=state.sync_id, collection_id=state.collection_id, ids=await_consumer_ids
        ),
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


def record_reconcile(*, record: IndexedRecord, mutation_id: str) -> Mutation | None:
    """Settle one of the record's attempts ("Check again" on its page) by re-reading its
    collection; None when `mutation_id` names no attempt on this record.

    Raises SequinError when the records cannot be re-read.
    """
    mutation = mutation_of_record(
        mutation_id=mutation_id,
        sync_id=record.sync_id,
        collection_id=record.collection_id,
        upstream_id=record.upstream_id,
    )
    return None if mutation is None else mutation_reconcile(mutation=mutation)


def mutation_fields(mutation: Mutation) -> list[str]:
    """The fields an attempt sent, in the order sent."""
    return list(
        dict.fromkeys(
            FieldChange.objects.filter(record__mutation=mutation).values_list("field", flat=True)
        )
    )
