"""The record page and the history's Retry and Revert: views over the edit use cases."""

from __future__ import annotations

from functools import partial

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect

from sequin_admin.access.decorators import role_required
from sequin_admin.access.models import Role
from sequin_admin.access.services import access_allows
from sequin_admin.error_pages import sequin_error_page
from sequin_admin.htmx import Fragment, HtmxHttpRequest
from sequin_admin.mutations.models import Mutation
from sequin_admin.mutations.selectors import record_timeline, replay_scope
from sequin_admin.mutations.views import detail_context
from sequin_admin.records.index import index_get, index_references
from sequin_admin.records.syncs import sync_name

from .create_delete import DeleteForm
from .editor import editor_open, editor_post, posted_form, preview_of, request_preview
from .replay import Action, Replay, replay_confirm, replay_plan
from .services import record_ensure_indexed

RECORD_PAGE = "edits/record_detail.html"
EDITOR = Fragment(RECORD_PAGE, "record-editor")
PREVIEW = Fragment(RECORD_PAGE, "preview-body")
CONFIRM_PAGE = "edits/replay_confirm.html"
CONFIRM = Fragment(CONFIRM_PAGE, "replay-confirm")
CONFIRM_ACTION = "confirm"


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
@role_required(Role.VIEWER, post=Role.EDITOR)
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
        "sync_name": partial(sync_name, sync_id=sync_id),
        "references": index_references(
            sync_id=sync_id, collection_id=collection_id, data=editor.record.data
        ),
        "delete_form": DeleteForm(record=editor.record),
        "timeline": record_timeline(
            sync_id=sync_id, collection_id=collection_id, upstream_id=upstream_id
        ),
        # A viewer reads the form but gets no buttons; its post would be refused anyway.
        "can_edit": access_allows(
            user=request.user, role=Role.EDITOR, sync_id=sync_id, collection_id=collection_id
        ),
        "can_delete": access_allows(
            user=request.user, role=Role.BULK_EDITOR, sync_id=sync_id, collection_id=collection_id
        ),
    }
    return render(request, EDITOR.template if request.htmx else RECORD_PAGE, context)


@require_POST
@role_required(Role.EDITOR)
def record_preview(
    request: HtmxHttpRequest, sync_id: str, collection_id: str, upstream_id: str
) -> HttpResponse:
    """The JSON that Send would post, for the form as it stands; htmx updates it as you type."""
    record = index_get(sync_id=sync_id, collection_id=collection_id, upstream_id=upstream_id)
    if record is None:
        raise Http404("Unknown record.")
    context = {"record": record, "preview": preview_of(posted_form(request.POST))}
    return render(request, PREVIEW.template, {**context, "show_preview": True})


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
@role_required(Role.EDITOR, scope=replay_scope)
@sequin_error_page
def mutation_retry(request: HtmxHttpRequest, mutation_id: int) -> HttpResponse:
    """GET (or POST after choosing per conflicting field) shows what a retry would send;
    only the POST that confirms it sends."""
    return _replay(request, mutation_id, "retry")


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
@role_required(Role.EDITOR, scope=replay_scope)
@sequin_error_page
def mutation_revert(request: HtmxHttpRequest, mutation_id: int) -> HttpResponse:
    """GET shows what a revert would send; only the POST that confirms it sends."""
    return _replay(request, mutation_id, "revert")


def _replay(request: HtmxHttpRequest, mutation_id: int, action: Action) -> HttpResponse:
    mutation = get_object_or_404(Mutation, pk=mutation_id)
    if request.method == "POST" and request.POST.get("action") == CONFIRM_ACTION:
        result = replay_confirm(
            mutation=mutation,
            action=action,
            user=request.user,
            token=request.POST.get("token", ""),
        )
    else:
        keep_mine = None
        if request.method == "POST" and request.POST.get("action") == "resolve":
            keep_mine = {
                name.removeprefix("resolve.")
                for name, value in request.POST.items()
                if name.startswith("resolve.") and value == "mine"
            }
        result = replay_plan(mutation=mutation, action=action, keep_mine=keep_mine)
    return _after_replay(request, mutation, result, action)


def _after_replay(
    request: HtmxHttpRequest, original: Mutation, result: Replay, action: Action
) -> HttpResponse:
    label = action.capitalize()
    if result.status in ("ready", "changed") and result.request is not None:
        context = detail_context(
            original,
            user=request.user,
            replay=result,
            action=action,
            preview=request_preview(result.request),
            replay_url=reverse(f"mutation_{action}", args=[original.pk]),
        )
        template = CONFIRM.template if CONFIRM.wanted_by(request) else CONFIRM_PAGE
        return render(request, template, context)
    if result.status == "conflict":
        if request.htmx:  # the choices need the whole page
            return HttpResponseClientRedirect(request.get_full_path())
        context = detail_context(original, user=request.user, conflicts=result.conflicts)
        return render(request, "edits/retry_conflicts.html", context)
    if result.status == "sent" and result.mutation is not None:
        messages.info(request, f"{label} sent as mutation #{result.mutation.pk}. {result.message}")
        return _go(request, result.mutation.get_absolute_url())
    messages.warning(request, f"{label}: {result.message}")
    shown = result.mutation if result.status == "duplicate" and result.mutation else original
    return _go(request, shown.get_absolute_url())


def _go(request: HtmxHttpRequest, url: str) -> HttpResponse:
    """A redirect; for htmx a whole-page one, as the answer no longer fits the fragment."""
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
