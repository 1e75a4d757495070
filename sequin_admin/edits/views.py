"""The record page and the history's Retry and Revert: views over the edit use cases."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from sequin_admin.error_pages import sequin_error_page
from sequin_admin.htmx import Fragment, HtmxHttpRequest
from sequin_admin.mutations.models import Mutation
from sequin_admin.mutations.selectors import record_timeline
from sequin_admin.mutations.views import detail_context
from sequin_admin.records.index import index_get

from .create_delete import DeleteForm
from .editor import editor_open, editor_post, posted_form, preview_of
from .replay import Replay
from .replay import mutation_retry as retry
from .replay import mutation_revert as revert
from .services import record_ensure_indexed

RECORD_PAGE = "edits/record_detail.html"
EDITOR = Fragment(RECORD_PAGE, "record-editor")
PREVIEW = Fragment(RECORD_PAGE, "preview-box")


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
@sequin_error_page
def record_detail(
    request: HtmxHttpRequest, sync_id: str, collection_id: str, upstream_id: str
) -> HttpResponse:
    record = record_ensure_indexed(
        sync_id=sync_id, collection_id=collection_id, upstream_id=upstream_id
    )
    if record is None:
        raise Http404("Sequin has not listed this record. Refresh the collection and try again.")
    if request.method == "GET":
        editor = editor_open(record=record)
    else:
        editor = editor_post(record=record, data=request.POST, user=request.user)
    context = {
        **vars(editor),
        "preview": editor.preview,
        "delete_form": DeleteForm(record=editor.record),
        "timeline": record_timeline(
            sync_id=sync_id, collection_id=collection_id, upstream_id=upstream_id
        ),
    }
    return render(request, EDITOR.template if request.htmx else RECORD_PAGE, context)


@require_POST
def record_preview(
    request: HtmxHttpRequest, sync_id: str, collection_id: str, upstream_id: str
) -> HttpResponse:
    """The JSON that Send would post, for the form as it stands; htmx updates it as you type."""
    record = index_get(sync_id=sync_id, collection_id=collection_id, upstream_id=upstream_id)
    if record is None:
        raise Http404("Unknown record.")
    context = {"record": record, "preview": preview_of(posted_form(request.POST))}
    return render(request, PREVIEW.template, {**context, "show_preview": True})


@require_POST
@sequin_error_page
def mutation_retry(request: HtmxHttpRequest, mutation_id: int) -> HttpResponse:
    mutation = get_object_or_404(Mutation, pk=mutation_id)
    keep_mine = None
    if request.POST.get("action") == "resolve":
        keep_mine = {
            name.removeprefix("resolve.")
            for name, value in request.POST.items()
            if name.startswith("resolve.") and value == "mine"
        }
    result = retry(mutation=mutation, user=request.user, keep_mine=keep_mine)
    return _after_replay(request, mutation, result, "Retry")


@require_POST
@sequin_error_page
def mutation_revert(request: HtmxHttpRequest, mutation_id: int) -> HttpResponse:
    mutation = get_object_or_404(Mutation, pk=mutation_id)
    return _after_replay(request, mutation, revert(mutation=mutation, user=request.user), "Revert")


def _after_replay(
    request: HtmxHttpRequest, original: Mutation, result: Replay, action: str
) -> HttpResponse:
    if result.status == "conflict":
        context = detail_context(original, conflicts=result.conflicts)
        return render(request, "edits/retry_conflicts.html", context)
    if result.status == "sent" and result.mutation is not None:
        messages.info(request, f"{action} sent as mutation #{result.mutation.pk}. {result.message}")
        return redirect(result.mutation)
    messages.warning(request, f"{action}: {result.message}")
    return redirect(original)
