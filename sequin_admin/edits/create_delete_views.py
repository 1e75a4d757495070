"""The "New record" page and the record page's Delete: views over `create_delete`."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect

from sequin_admin.access.decorators import role_required
from sequin_admin.access.models import Role
from sequin_admin.error_pages import sequin_error_page
from sequin_admin.htmx import Fragment, HtmxHttpRequest
from sequin_admin.mutations.models import Mutation, Outcome
from sequin_admin.sequin import ErrorKind

from .create_delete import (
    DeleteForm,
    NewRecordForm,
    bulk_delete_start,
    bulk_delete_targets,
    creatable_specs,
    created_upstream_id,
    record_create,
    record_delete,
    search_hint,
)
from .forms import data_name, fields_named_in
from .job_views import selection_from_request
from .services import record_ensure_indexed

NEW_PAGE = "edits/record_new.html"
NEW_RECORD = Fragment(NEW_PAGE, "new-record")
DELETE_PAGE = "edits/record_delete.html"
DELETE_BOX = Fragment(DELETE_PAGE, "record-delete")
BULK_DELETE_PAGE = "edits/bulk_delete.html"
# Upstream ids the bulk delete page lists; the count covers them all.
SHOWN_TARGETS = 50


def _go(request: HtmxHttpRequest, url: str) -> HttpResponse:
    """A whole-page move: htmx follows HX-Redirect, a plain form post a 302."""
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


def record_url(sync_id: str, collection_id: str, upstream_id: str) -> str:
    return reverse("record_detail", args=[sync_id, collection_id, upstream_id])


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
@role_required(Role.BULK_EDITOR)
@sequin_error_page
def record_new(request: HtmxHttpRequest, sync_id: str, collection_id: str) -> HttpResponse:
    specs = creatable_specs(sync_id=sync_id, collection_id=collection_id)
    context: dict[str, Any] = {"sync_id": sync_id, "collection_id": collection_id}
    if request.method == "GET":
        form = NewRecordForm(specs=specs)
        return render(request, NEW_PAGE, {**context, "form": form})
    form = NewRecordForm(request.POST, specs=specs)
    template = NEW_RECORD.template if request.htmx else NEW_PAGE
    if not form.is_valid():
        return render(request, template, {**context, "form": form})
    data = form.data_to_send
    mutation, _ = record_create(
        user=request.user,
        sync_id=sync_id,
        collection_id=collection_id,
        data=data,
        form_token=form.cleaned_data["form_token"],
    )
    upstream_id = created_upstream_id(mutation)
    if mutation.applied and upstream_id:
        messages.success(request, f"Created {upstream_id} (mutation #{mutation.pk}).")
        return _go(request, record_url(sync_id, collection_id, upstream_id))
    if mutation.outcome == Outcome.FAILED:
        # Refused, so nothing was created: the values stay for another, new, attempt.
        _put_upstream_error(form, mutation)
        form.renew_token()
        return render(request, template, {**context, "form": form, "mutation": mutation})
    # The record may exist: never offer to send it again, only to look for it.
    query = urlencode({"q": search_hint(data=data), "deleted": "all"})
    search_url = f"{reverse('collection_detail', args=[sync_id, collection_id])}?{query}"
    context |= {"mutation": mutation, "may_exist": True, "search_url": search_url, "sent": data}
    return render(request, template, context)


def _put_upstream_error(form: NewRecordForm, mutation: Mutation) -> None:
    if mutation.error_kind != ErrorKind.VALIDATION:
        return
    for key in fields_named_in(mutation.error_message, [s.key for s in form.specs]):
        form.add_error(data_name(key), mutation.error_message)


@require_POST
@role_required(Role.BULK_EDITOR)
@sequin_error_page
def record_delete_view(
    request: HtmxHttpRequest, sync_id: str, collection_id: str, upstream_id: str
) -> HttpResponse:
    record = record_ensure_indexed(
        sync_id=sync_id, collection_id=collection_id, upstream_id=upstream_id
    )
    if record is None:
        raise Http404("Sequin has not listed this record.")
    form = DeleteForm(request.POST, record=record)
    if not form.is_valid():
        template = DELETE_BOX.template if request.htmx else DELETE_PAGE
        return render(request, template, {"record": record, "delete_form": form})
    outcome = record_delete(
        user=request.user, record=record, form_token=form.cleaned_data["form_token"]
    )
    mutation = outcome.mutation
    if outcome.status == "already_deleted":
        messages.info(request, f"{upstream_id} was already deleted; nothing was sent.")
    elif mutation is not None and outcome.status == "duplicate":
        messages.info(request, f"This delete was already sent as mutation #{mutation.pk}.")
    elif mutation is not None and mutation.applied:
        messages.success(request, f"Deleted {upstream_id} (mutation #{mutation.pk}).")
    elif mutation is not None:
        messages.warning(
            request,
            f"The delete did not go through as sent: {mutation.shown_outcome_label}. "
            f"{mutation.error_message} See mutation #{mutation.pk}.",
        )
    return _go(request, record_url(sync_id, collection_id, upstream_id))


@require_http_methods(["GET", "POST"])
@role_required(Role.BULK_EDITOR)
@sequin_error_page
def bulk_delete(request: HtmxHttpRequest, sync_id: str, collection_id: str) -> HttpResponse:
    """The collection page's selection (picked rows, or all that match), deleted by a job
    behind a typed confirmation of the count."""
    selection = selection_from_request(request, sync_id, collection_id)
    refusal = ""
    if request.method == "POST":
        try:
            job = bulk_delete_start(
                user=request.user,
                selection=selection,
                confirmation=request.POST.get("confirmation", ""),
            )
        except ValueError as exc:
            refusal = str(exc)
        else:
            return redirect(job)
    targets = bulk_delete_targets(selection=selection)
    context = {
        "sync_id": sync_id,
        "collection_id": collection_id,
        "selection": selection,
        "count": len(targets),
        "shown": targets[:SHOWN_TARGETS],
        "refusal": refusal,
    }
    return render(request, BULK_DELETE_PAGE, context)
