"""Browsing: syncs, their collections and a collection's records, from the index."""

from __future__ import annotations

import re
from functools import partial

from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import push_url, trigger_client_event

from sequin_admin.access.decorators import role_required
from sequin_admin.access.models import Role
from sequin_admin.access.services import access_allows, collections_visible, syncs_visible
from sequin_admin.error_pages import sequin_error_page
from sequin_admin.htmx import Fragment, HtmxHttpRequest

from .columns import columns_chosen
from .export import EXPORT_FORMATS, export_csv, export_json, export_rows
from .listing import (
    FILTER_OPS,
    FieldChoices,
    ListingQuery,
    field_choices,
    index_count,
    index_page,
)
from .listing_params import (
    CONDITION_FIELD,
    condition_folded,
    filter_chips,
    kept_filters,
    sort_headers,
    without_paging,
)
from .models import IndexedCollection, IndexedRecord
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
    # Only the syncs, and their collections, the person holds a grant on; a sync whose
    # collections are all out of reach is left out too.
    listed = syncs_listed()
    syncs = []
    for sync in syncs_visible(user=request.user, syncs=listed):
        ids = collections_visible(
            user=request.user, sync_id=sync.id, collection_ids=sync.collection_ids
        )
        if ids or not sync.collection_ids:
            syncs.append((sync, ids))
    return render(
        request, "records/sync_list.html", {"syncs": syncs, "hidden": bool(listed) and not syncs}
    )


@require_GET
@role_required(Role.VIEWER)
@sequin_error_page
def sync_detail(request: HtmxHttpRequest, sync_id: str) -> HttpResponse:
    sync = sync_get(sync_id=sync_id)
    visible = set(
        collections_visible(user=request.user, sync_id=sync_id, collection_ids=sync.collection_ids)
    )
    collections = [c for c in collections_of(sync=sync) if c.collection_id in visible]
    context = {"sync": sync, "collections": collections}
    return render(request, "records/sync_detail.html", context)


@require_GET
@vary_on_headers("HX-Request")
@role_required(Role.VIEWER)
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
    canonical = f"{request.path}?{condition_folded(request.GET).urlencode()}"
    if request.GET.get(CONDITION_FIELD):
        # The filter panel's "add a condition" row, written back as the address it means
        # (htmx follows the redirect and pushes where it led).
        return redirect(canonical)
    query = _listing_query(request, state)
    page = index_page(
        sync_id=sync_id, collection_id=collection_id, query=query, field_kinds=state.field_kinds
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
    count = index_count(
        sync_id=sync_id, collection_id=collection_id, query=query, state=state, page=page
    )
    choices = field_choices(state=state)
    context = {
        "sync_id": sync_id,
        # Called by the page's breadcrumbs only, not by a live search's fragment.
        "sync_name": partial(sync_name, sync_id=sync_id),
        "collection_id": collection_id,
        "state": state,
        "page": page,
        "rows": [(row, _record_url(row), [row.data.get(c) for c in columns]) for row in page.rows],
        "columns": columns,
        "all_keys": all_keys,
        "q": query.q,
        "deleted": query.deleted,
        "refreshed_event": REFRESHED_EVENT,
        "query": query,
        "count": count,
        "sort_headers": sort_headers(request.GET, query, columns),
        "chips": filter_chips(request.GET, query),
        "choices": [(c, _checked(query, c)) for c in choices],
        "kept_filters": kept_filters(query, choices),
        "filter_ops": FILTER_OPS,
        "export_params": without_paging(request.GET).urlencode(),
        # New record, CSV updates and the bulk selection only for those who may use them.
        "can_bulk": access_allows(
            user=request.user, role=Role.BULK_EDITOR, sync_id=sync_id, collection_id=collection_id
        ),
    }
    template = RESULTS.template if RESULTS.wanted_by(request) else COLLECTION_PAGE
    response = render(request, template, context)
    if request.htmx and CONDITION_FIELD in request.GET:
        # A live update sends the panel's empty condition row; the address shown leaves it out.
        push_url(response, canonical)
    return response


def _record_url(row: IndexedRecord) -> str:
    # reverse() here, not {% url %} in the row: the tag costs several times more, 50 a page.
    return reverse("record_detail", args=[row.sync_id, row.collection_id, row.upstream_id])


def _listing_query(request: HtmxHttpRequest, state: IndexedCollection) -> ListingQuery:
    query = ListingQuery.from_params(request.GET)
    # Before any listing there are no known fields to hold an address to.
    return query.restricted_to(state.field_kinds) if state.field_kinds else query


def _checked(query: ListingQuery, choices: FieldChoices) -> set[str]:
    return {v for f in query.filters if (f.path, f.op) == (choices.path, "eq") for v in f.values}


@require_GET
@role_required(Role.VIEWER)
@sequin_error_page
def collection_export(
    request: HtmxHttpRequest, sync_id: str, collection_id: str, export_format: str
) -> StreamingHttpResponse:
    state = collection_state(sync_id=sync_id, collection_id=collection_id)
    if state.pk is None or export_format not in EXPORT_FORMATS:
        raise Http404("Nothing of this collection is indexed to export.")
    query = _listing_query(request, state)
    all_keys = list(state.field_kinds)
    columns = [c for c in request.GET.getlist("col") if c in all_keys] or all_keys
    rows = export_rows(
        sync_id=sync_id, collection_id=collection_id, query=query, field_kinds=state.field_kinds
    )
    if export_format == "json":
        response = StreamingHttpResponse(
            export_json(rows, columns), content_type="application/json"
        )
    else:
        response = StreamingHttpResponse(
            export_csv(rows, columns), content_type="text/csv; charset=utf-8"
        )
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    name = re.sub(r"[^A-Za-z0-9_-]", "-", collection_id)
    response["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.{export_format}"'
    return response


@require_POST
@role_required(Role.VIEWER)
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
