"""Browsing: syncs, their collections and a collection's records, from the index."""

from __future__ import annotations

from functools import partial

from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import trigger_client_event

from sequin_admin.error_pages import sequin_error_page
from sequin_admin.htmx import Fragment, HtmxHttpRequest

from .columns import columns_chosen
from .listing import DELETED_FILTERS, DeletedFilter, index_page
from .refresh import collection_refresh as refresh
from .refresh import collection_state
from .syncs import collection_exists, collections_of, sync_get, sync_name
from .syncs import sync_list as syncs_listed

COLLECTION_PAGE = "records/collection_detail.html"
RESULTS = Fragment(COLLECTION_PAGE, "results")
REFRESH_STATUS = Fragment(COLLECTION_PAGE, "refresh-status")
# Sent when a refresh from the page is done; the results reload on it.
REFRESHED_EVENT = "records-refreshed"
# A refresh from the page runs in slices of this many seconds, with progress between them.
REFRESH_STEP_SECONDS = 1.5


@require_GET
@sequin_error_page
def sync_list(request: HtmxHttpRequest) -> HttpResponse:
    return render(request, "records/sync_list.html", {"syncs": syncs_listed()})


@require_GET
@sequin_error_page
def sync_detail(request: HtmxHttpRequest, sync_id: str) -> HttpResponse:
    sync = sync_get(sync_id=sync_id)
    context = {"sync": sync, "collections": collections_of(sync=sync)}
    return render(request, "records/sync_detail.html", context)


@require_GET
@vary_on_headers("HX-Request")
@sequin_error_page
def collection_detail(request: HtmxHttpRequest, sync_id: str, collection_id: str) -> HttpResponse:
    state = collection_state(sync_id=sync_id, collection_id=collection_id)
    if state.last_refreshed_at is None and not state.refreshing and not request.htmx:
        # Asked once, before the first listing; a live search (htmx) reads the index only.
        if state.pk is None and not collection_exists(sync_id=sync_id, collection_id=collection_id):
            raise Http404("Sequin lists no such collection in this sync.")
        # The first visit fills the index; a slice now, the rest continues from the page.
        state = refresh(
            sync_id=sync_id, collection_id=collection_id, time_budget=REFRESH_STEP_SECONDS
        )
    q = request.GET.get("q", "").strip()
    deleted: DeletedFilter = next(
        (d for d in DELETED_FILTERS if d == request.GET.get("deleted")), "live"
    )
    page = index_page(
        sync_id=sync_id,
        collection_id=collection_id,
        q=q,
        deleted=deleted,
        after=request.GET.get("after"),
        before=request.GET.get("before"),
    )
    # Every field the listing has seen; before any listing, the page's own keys.
    all_keys = list(state.field_kinds) or list(
        dict.fromkeys(key for row in page.rows for key in row.data)
    )
    columns = columns_chosen(
        user=request.user,
        sync_id=sync_id,
        collection_id=collection_id,
        asked=request.GET.getlist("col"),
        known=all_keys,
    )
    context = {
        "sync_id": sync_id,
        # Called by the page's breadcrumbs only, not by a live search's fragment.
        "sync_name": partial(sync_name, sync_id=sync_id),
        "collection_id": collection_id,
        "state": state,
        "page": page,
        "rows": [(row, [row.data.get(c) for c in columns]) for row in page.rows],
        "columns": columns,
        "all_keys": all_keys,
        "q": q,
        "deleted": deleted,
        "refreshed_event": REFRESHED_EVENT,
    }
    template = RESULTS.template if RESULTS.wanted_by(request) else COLLECTION_PAGE
    return render(request, template, context)


@require_POST
@sequin_error_page
def collection_refresh(request: HtmxHttpRequest, sync_id: str, collection_id: str) -> HttpResponse:
    # With htmx a slice per request, the page asking for the next; without, all at once.
    state = refresh(
        sync_id=sync_id,
        collection_id=collection_id,
        time_budget=REFRESH_STEP_SECONDS if request.htmx else None,
    )
    if not request.htmx:
        return redirect("collection_detail", sync_id, collection_id)
    context = {"sync_id": sync_id, "collection_id": collection_id, "state": state}
    response = render(request, REFRESH_STATUS.template, context)
    if not state.refreshing:
        trigger_client_event(response, REFRESHED_EVENT)
    return response
