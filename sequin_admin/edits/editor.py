"""The record page's editor: what a person sees around the form after opening or posting it.

`editor_open` and `editor_post` are the two ways in; the view only renders what they return.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from sequin_admin.mutations.models import Mutation, Outcome
from sequin_admin.records.index import index_get
from sequin_admin.records.models import IndexedRecord
from sequin_admin.sequin import ErrorKind, MutationRequest
from sequin_admin.sequin.urls import service_root

from .conflicts import Conflict, rebase_on
from .forms import FormState, RecordForm
from .services import (
    consumer_list,
    form_state_for,
    mutation_fields,
    record_reconcile,
    record_specs,
    record_update,
    update_request,
)

# The form's buttons, and the outcome alert's "Check again" on the record page.
SEND, PREVIEW, RESOLVE, CHECK = "send", "preview", "resolve", "check"
DELETED_REFUSAL = (
    "This record was deleted upstream: it can no longer be edited, and nothing was sent."
)


@dataclass(frozen=True)
class Preview:
    json: str
    curl: str


@dataclass
class Editor:
    """The record, its form, and the answer to what the person just did."""

    record: IndexedRecord
    form: RecordForm
    show_preview: bool = False
    conflicts: list[Conflict] | None = None
    mutation: Mutation | None = None
    highlighted: list[str] = field(default_factory=list)
    duplicate: bool = False
    notice: str = ""
    # Why what the person asked for was not done (nothing was sent).
    refusal: str = ""

    @property
    def preview(self) -> Preview | None:
        return None if self.conflicts else preview_of(self.form)


def record_form(state: FormState | None, data: Mapping[str, Any] | None = None) -> RecordForm:
    """A fresh form for `state`, or a posted one (`data`) shaped by the state it carries."""
    if state is None:
        return RecordForm(data, form_state=None, specs=[])
    return RecordForm(
        data,
        form_state=state,
        specs=record_specs(state=state),
        consumers=consumer_list(sync_id=state.sync_id, collection_id=state.collection_id),
    )


def posted_form(data: Mapping[str, Any]) -> RecordForm:
    """The submitted form, its signed state decoded once."""
    return record_form(FormState.load(str(data.get("state", ""))), data)


def editor_open(*, record: IndexedRecord) -> Editor:
    if record.deleted:  # read-only: no form to fill
        return Editor(record=record, form=record_form(None))
    return Editor(record=record, form=record_form(form_state_for(record)))


def editor_post(
    *,
    record: IndexedRecord,
    data: Mapping[str, Any],
    user: AbstractBaseUser | AnonymousUser,
) -> Editor:
    """Preview, send, or send after choosing per conflicting field; the edits survive any
    answer but success. "Check again" settles an unknown outcome (`editor_check`)."""
    if data.get("action") == CHECK:
        return editor_check(record=record, data=data)
    if record.deleted:
        return Editor(record=record, form=record_form(None), refusal=DELETED_REFUSAL)
    form = posted_form(data)
    if not form.is_valid() or form.form_state is None:
        return Editor(record=record, form=form)
    state = form.form_state
    if not state.belongs_to(
        sync_id=record.sync_id, collection_id=record.collection_id, upstream_id=record.upstream_id
    ):
        form.add_error(None, "This form belongs to another record; reload the page.")
        return Editor(record=record, form=form)
    action = data.get("action", SEND)
    if action == PREVIEW:
        return Editor(record=record, form=form, show_preview=True)
    changes = form.changes
    if action == RESOLVE and (
        current := index_get(
            sync_id=record.sync_id,
            collection_id=record.collection_id,
            upstream_id=record.upstream_id,
        )
    ):
        keep = [key for key in changes if data.get(f"resolve.{key}") == "mine"]
        state, changes = rebase_on(
            current=current, changes=changes, keep_mine=keep, token=state.token
        )
        if not changes:
            return Editor(
                record=current,
                form=record_form(form_state_for(current)),
                notice="You took the upstream's values for every field: nothing was sent.",
            )
    outcome = record_update(
        user=user,
        state=state,
        changes=changes,
        await_consumer_ids=form.cleaned_data.get("await_consumer_ids") or (),
        await_consumers_timeout=form.cleaned_data.get("await_consumers_timeout"),
    )
    if outcome.status == "no_change":
        return Editor(record=record, form=form, notice="Nothing changed: nothing was sent.")
    if outcome.status == "held":
        current = outcome.current or record
        return Editor(
            record=current,
            form=record_form(form_state_for(current)),
            notice="The upstream already holds your values: nothing was sent.",
        )
    if outcome.status == "deleted":
        return Editor(record=outcome.current or record, form=form, refusal=DELETED_REFUSAL)
    if outcome.status == "conflict":
        return Editor(record=outcome.current or record, form=form, conflicts=outcome.conflicts)
    mutation = outcome.mutation
    if mutation is None:  # sent and duplicate outcomes always carry their attempt
        raise RuntimeError(f"record_update answered {outcome.status!r} without an attempt")
    current = outcome.current or record
    if mutation.applied and outcome.status == "sent":
        return Editor(
            record=current,
            form=record_form(form_state_for(current)),
            mutation=mutation,
            highlighted=list(changes),
        )
    if mutation.outcome == Outcome.FAILED and mutation.error_kind == ErrorKind.VALIDATION:
        form.add_upstream_error(mutation.error_message)
    if outcome.status == "sent":
        # The edits stay for another try, which is a new attempt: it needs a token of its own
        # (and meets the conflict check if the unknown outcome did land).
        form.reissue(state.renewed())
    return Editor(
        record=current, form=form, mutation=mutation, duplicate=outcome.status == "duplicate"
    )


def editor_check(*, record: IndexedRecord, data: Mapping[str, Any]) -> Editor:
    """Check again on the record page: re-read the record and settle the attempt's unknown
    outcome. When the change landed, the form reloads the record as the upstream now holds it
    (its fresh version, so the next edit meets no false conflict); otherwise the edits that
    came with the request stay in the form.

    Raises SequinError when the records cannot be re-read.
    """
    mutation = record_reconcile(record=record, mutation_id=str(data.get("mutation", "")))
    current = (
        index_get(
            sync_id=record.sync_id,
            collection_id=record.collection_id,
            upstream_id=record.upstream_id,
        )
        or record
    )
    if mutation is None:
        return Editor(
            record=current,
            form=record_form(None if current.deleted else form_state_for(current)),
            refusal="That attempt did not touch this record: nothing was checked.",
        )
    if mutation.applied or current.deleted or "state" not in data:
        form = record_form(None if current.deleted else form_state_for(current))
    else:
        form = posted_form(data)
    return Editor(
        record=current,
        form=form,
        mutation=mutation,
        highlighted=mutation_fields(mutation) if mutation.applied else [],
    )


def preview_of(form: RecordForm) -> Preview | None:
    """The JSON that Send would post for the form as it stands, and the same as curl."""
    if not form.is_bound or not form.is_valid() or not form.changes or not form.form_state:
        return None
    return request_preview(
        update_request(
            state=form.form_state,
            changes=form.changes,
            await_consumer_ids=form.cleaned_data.get("await_consumer_ids") or (),
            await_consumers_timeout=form.cleaned_data.get("await_consumers_timeout"),
        )
    )


def request_preview(request: MutationRequest) -> Preview:
    """A mutation's exact JSON body, and the same as curl with the token left to the shell."""
    body = request.body()
    url = f"{service_root(settings.SEQUIN_API_URL)}/v1/mutations/run"
    curl = (
        f"curl -X POST {shlex.quote(url)} "
        '-H "Authorization: Bearer $SEQUIN_API_TOKEN" '
        "-H 'Content-Type: application/json' "
        f"-d {shlex.quote(json.dumps(body, ensure_ascii=False))}"
    )
    return Preview(json=json.dumps(body, indent=2, ensure_ascii=False), curl=curl)
