"""Creating a record and deleting one: the use cases behind "New record" and "Delete".

A create is sent at most once: the client never retries it (not even after a 429), the form's
one-time token turns a second post into the first attempt, and after an unknown outcome the
person is sent to look for the record rather than offered to send it again. A delete goes out
only when the person has typed the record's upstream_id; a bulk selection is deleted by a
job once the person has typed how many records that is.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any, Literal

from django import forms
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.http import QueryDict

from sequin_admin.mutations.journal import Seen
from sequin_admin.mutations.models import Mutation, Source
from sequin_admin.mutations.run import mutation_run
from sequin_admin.records.fields import FieldKind, FieldSpec, is_read_only, telling_rank
from sequin_admin.records.models import IndexedRecord
from sequin_admin.records.refresh import collection_state
from sequin_admin.sequin import MutationRequest

from .bulk import Selection
from .csv_updates import ENVELOPE_KEYS
from .forms import data_name, input_for, value_too_long
from .jobs import job_start
from .models import Job, JobKind

User = AbstractBaseUser | AnonymousUser
TOKEN_LENGTH = 64


def new_form_token() -> str:
    return secrets.token_urlsafe(16)


def creatable_specs(*, sync_id: str, collection_id: str) -> list[FieldSpec]:
    """The fields a new record can be given: every field the listing saw, typed by what it
    saw, less the read-only ones (the upstream sets those itself)."""
    kinds: dict[str, FieldKind] = collection_state(
        sync_id=sync_id, collection_id=collection_id
    ).field_kinds
    specs = [
        FieldSpec(key=key, kind=kind, value=None, read_only=False)
        for key, kind in kinds.items()
        if not is_read_only(collection_id, key) and key not in ENVELOPE_KEYS
    ]
    return sorted(specs, key=lambda s: (telling_rank(s.key), s.key.lower()))


class NewRecordForm(forms.Form):
    """One typed input per known field; a field left empty is not sent at all."""

    form_token = forms.CharField(widget=forms.HiddenInput, max_length=TOKEN_LENGTH)

    def __init__(self, *args: Any, specs: list[FieldSpec], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["form_token"] = new_form_token()
        self.specs = specs
        for spec in specs:
            self.fields[data_name(spec.key)] = input_for(spec)

    def field_rows(self) -> list[forms.BoundField]:
        return [self[data_name(spec.key)] for spec in self.specs]

    @property
    def data_to_send(self) -> dict[str, Any]:
        cleaned = self.cleaned_data
        values = {spec.key: cleaned.get(data_name(spec.key)) for spec in self.specs}
        return {key: value for key, value in values.items() if value not in (None, "")}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for key, value in self.data_to_send.items():
            if too_long := value_too_long(value):
                self.add_error(data_name(key), f"{key}: {too_long}")
        if not self.errors and not self.data_to_send:
            raise forms.ValidationError("Give the new record at least one field.")
        return cleaned

    def renew_token(self) -> None:
        """The values stay, under a token of their own: the next Create is a new attempt."""
        data = QueryDict(mutable=True)
        data.update(self.data)
        data["form_token"] = new_form_token()
        self.data = data


def record_create(
    *, user: User, sync_id: str, collection_id: str, data: dict[str, Any], form_token: str
) -> tuple[Mutation, bool]:
    """Send a create once; a token seen before returns its first attempt and sends nothing.

    Returns the attempt and whether it is new. A created record that Sequin returned is in
    the index afterwards (`mutation_run` indexes every answer).
    """
    request = MutationRequest(
        kind="create", sync_id=sync_id, collection_id=collection_id, records=({"data": data},)
    )
    return mutation_run(
        request=request, user=user, source=Source.FORM, seen={}, form_token=form_token
    )


def created_upstream_id(mutation: Mutation) -> str:
    """The id Sequin gave the new record; "" when no record came back."""
    record = mutation.records.first()
    return record.upstream_id if record is not None else ""


def search_hint(*, data: dict[str, Any]) -> str:
    """A value to search the collection by for a record that may have been created: the most
    telling text field that was sent (an email or a name before anything else)."""
    texts = [k for k, v in data.items() if isinstance(v, str) and v.strip()]
    return str(data[min(texts, key=telling_rank)]).strip() if texts else ""


class DeleteForm(forms.Form):
    confirmation = forms.CharField(
        label="Type the record's upstream_id to delete it", max_length=255, strip=True
    )
    form_token = forms.CharField(widget=forms.HiddenInput, max_length=TOKEN_LENGTH)

    def __init__(self, *args: Any, record: IndexedRecord, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.record = record
        if not self.is_bound:
            self.initial["form_token"] = new_form_token()

    def clean_confirmation(self) -> str:
        typed = str(self.cleaned_data["confirmation"])
        if typed != self.record.upstream_id:
            raise forms.ValidationError(
                f"That is not this record's upstream_id ({self.record.upstream_id}); "
                "nothing was deleted."
            )
        return typed


DeleteStatus = Literal["sent", "duplicate", "already_deleted"]


@dataclass(frozen=True)
class DeleteOutcome:
    status: DeleteStatus
    mutation: Mutation | None = None


def record_delete(*, user: User, record: IndexedRecord, form_token: str) -> DeleteOutcome:
    """Send `delete` for one record the person confirmed; the index marks it deleted when
    Sequin says it is. The whole record is journaled as it was seen."""
    if record.deleted:
        return DeleteOutcome(status="already_deleted")
    request = MutationRequest(
        kind="delete",
        sync_id=record.sync_id,
        collection_id=record.collection_id,
        upstream_ids=(record.upstream_id,),
    )
    mutation, is_new = mutation_run(
        request=request,
        user=user,
        source=Source.FORM,
        seen={record.upstream_id: Seen(data=record.data, updated_idx=record.updated_idx)},
        form_token=form_token,
    )
    return DeleteOutcome(status="sent" if is_new else "duplicate", mutation=mutation)


# Deleting a bulk selection, as a job


def bulk_delete_targets(*, selection: Selection) -> list[str]:
    """The selected records a delete can still reach: those the index holds as live."""
    gone = set(
        IndexedRecord.objects.filter(
            sync_id=selection.sync_id, collection_id=selection.collection_id, deleted__in=[True]
        ).values_list("upstream_id", flat=True)
    )
    return [upstream_id for upstream_id, _ in selection.rows() if upstream_id not in gone]


def bulk_delete_start(*, user: User, selection: Selection, confirmation: str) -> Job:
    """Start a delete job for the selection once the person typed how many records it
    deletes, counted again now: a selection that grew or shrank since the page was shown
    is refused (ValueError), and nothing is sent."""
    targets = bulk_delete_targets(selection=selection)
    if not targets:
        raise ValueError("No live record is selected: there is nothing to delete.")
    if confirmation.strip().replace(",", "") != str(len(targets)):
        raise ValueError(
            f"Type {len(targets)}, the number of records to delete, to confirm; "
            "nothing was deleted."
        )
    return job_start(
        user=user,
        sync_id=selection.sync_id,
        collection_id=selection.collection_id,
        kind=JobKind.DELETE,
        items=[(upstream_id, {}) for upstream_id in targets],
        query_string=selection.query_string or "",
        description=f"Bulk delete of {len(targets)} record{'s' if len(targets) != 1 else ''}",
    )
