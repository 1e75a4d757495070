from __future__ import annotations

import json
import shlex
from typing import Any

from django.conf import settings
from django.core import signing
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import trigger_client_event

from sequin_admin.htmx import HtmxHttpRequest
from sequin_admin.mutations.models import Mutation, Outcome
from sequin_admin.mutations.selectors import record_timeline
from sequin_admin.sequin import SequinError, SequinNotFound

from . import services
from .conflicts import Conflict
from .fields import telling_columns
from .forms import FormState, RecordForm
from .index import index_collection, index_get, index_page
from .models import IndexedRecord

VALIDATION_STATUSES = (400, 422)
# A refresh from the page runs in slices of this many seconds, with progress between them.
REFRESH_STEP_SECONDS = 1.5


@require_GET
def sync_list(request: HtmxHttpRequest) -> HttpResponse:
    try:
        syncs = services.sync_list()
        error = None
    except SequinError as exc:
        syncs, error = [], exc
    return render(request, "records/sync_list.html", {"syncs": syncs, "error": error})


@require_GET
def sync_detail(request: HtmxHttpRequest, sync_id: str) -> HttpResponse:
    try:
        sync = services.sync_get(sync_id=sync_id)
    except SequinNotFound as exc:
        return render(request, "sequin_error_page.html", {"error": exc}, status=404)
    except SequinError as exc:
        return render(request, "sequin_error_page.html", {"error": exc})
    collections = services.collections_of(sync=sync)
    return render(request, "records/sync_detail.html", {"sync": sync, "collections": collections})


@require_GET
def collection_detail(request: HtmxHttpRequest, sync_id: str, collection_id: str) -> HttpResponse:
    state = index_collection(sync_id=sync_id, collection_id=collection_id)
    error = None
    if state.last_refreshed_at is None and not request.htmx:
        # The first visit fills the index; a slice now, the rest continues from the page.
        try:
            state = services.collection_refresh(
                sync_id=sync_id, collection_id=collection_id, time_budget=REFRESH_STEP_SECONDS
            )
        except SequinError as exc:
            error = exc
    q = request.GET.get("q", "").strip()
    deleted = request.GET.get("deleted", "live")
    if deleted not in ("live", "deleted", "all"):
        deleted = "live"
    page = index_page(
        sync_id=sync_id,
        collection_id=collection_id,
        q=q,
        deleted=deleted,  # type: ignore[arg-type]
        after=request.GET.get("after"),
        before=request.GET.get("before"),
    )
    # The page's own keys; on an empty page (a search with no match) the collection's.
    all_keys = _keys_of(page.rows) or list(
        services.sample_kinds(sync_id=sync_id, collection_id=collection_id)
    )
    chosen = [c for c in request.GET.getlist("col") if c in all_keys]
    columns = chosen or telling_columns(all_keys, collection_id=collection_id)
    context = {
        "sync_id": sync_id,
        "collection_id": collection_id,
        "state": state,
        "page": page,
        "rows": [(row, [row.data.get(c) for c in columns]) for row in page.rows],
        "columns": columns,
        "all_keys": all_keys,
        "q": q,
        "deleted": deleted,
        "error": error,
    }
    template = "records/collection_detail.html"
    if request.htmx and request.htmx.target == "results":
        template += "#results"
    return render(request, template, context)


def _keys_of(rows: Any) -> list[str]:
    keys: dict[str, None] = {}
    for row in rows:
        keys.update(dict.fromkeys(row.data))
    return list(keys)


@require_POST
def collection_refresh(request: HtmxHttpRequest, sync_id: str, collection_id: str) -> HttpResponse:
    error = None
    try:
        # With htmx a slice per request, the page asking for the next; without, all at once.
        state = services.collection_refresh(
            sync_id=sync_id,
            collection_id=collection_id,
            time_budget=REFRESH_STEP_SECONDS if request.htmx else None,
        )
    except SequinError as exc:
        state, error = index_collection(sync_id=sync_id, collection_id=collection_id), exc
    if not request.htmx:
        return redirect("collection_detail", sync_id, collection_id)
    response = render(
        request,
        "records/collection_detail.html#refresh-status",
        {"sync_id": sync_id, "collection_id": collection_id, "state": state, "error": error},
    )
    if not state.refreshing and error is None:
        trigger_client_event(response, "records-refreshed")
    return response


@require_http_methods(["GET", "POST"])
def record_detail(
    request: HtmxHttpRequest, sync_id: str, collection_id: str, upstream_id: str
) -> HttpResponse:
    try:
        record = services.record_ensure_indexed(
            sync_id=sync_id, collection_id=collection_id, upstream_id=upstream_id
        )
    except SequinError as exc:
        return render(request, "sequin_error_page.html", {"error": exc})
    if record is None:
        raise Http404("Sequin has not listed this record. Refresh the collection and try again.")
    if request.method == "GET":
        state = services.form_state_for(record)
        form = _record_form(state)
        return _render_record(request, record, form)

    form = _record_form(None, data=request.POST)
    if not form.is_valid() or form.form_state is None:
        return _render_record(request, record, form)
    state = form.form_state
    if (state.sync_id, state.collection_id, state.upstream_id) != (
        sync_id,
        collection_id,
        upstream_id,
    ):
        form.add_error(None, "This form belongs to another record; reload the page.")
        return _render_record(request, record, form)
    action = request.POST.get("action", "send")
    if action == "preview":
        return _render_record(request, record, form, preview=True)
    changes = form.changes
    if action == "resolve" and (
        current := index_get(sync_id=sync_id, collection_id=collection_id, upstream_id=upstream_id)
    ):
        keep = [key for key in changes if request.POST.get(f"resolve.{key}") == "mine"]
        state, changes = services.rebase_on(current, changes, keep, state.token)
        if not changes:
            return _render_record(
                request,
                current,
                _record_form(services.form_state_for(current)),
                notice="You took the upstream's values for every field: nothing was sent.",
            )
    outcome = services.record_update(
        user=request.user,
        state=state,
        changes=changes,
        await_consumer_ids=form.cleaned_data.get("await_consumer_ids") or (),
        await_consumers_timeout=form.cleaned_data.get("await_consumers_timeout"),
    )
    if outcome.status == "no_change":
        return _render_record(request, record, form, notice="Nothing changed: nothing was sent.")
    if outcome.status == "conflict":
        return _render_record(request, outcome.current or record, form, conflicts=outcome.conflicts)
    mutation = outcome.mutation
    assert mutation is not None
    current = outcome.current or record
    if mutation.applied and outcome.status == "sent":
        fresh = _record_form(services.form_state_for(current))
        return _render_record(request, current, fresh, mutation=mutation, highlighted=list(changes))
    if mutation.outcome == Outcome.FAILED and mutation.response_status in VALIDATION_STATUSES:
        form.add_upstream_error(mutation.error_message)
    if outcome.status == "sent":
        # The edits stay for another try, which is a new attempt: it needs a token of its own
        # (and meets the conflict check if the unknown outcome did land).
        form.reissue(state.renewed())
    return _render_record(
        request, current, form, mutation=mutation, duplicate=outcome.status == "duplicate"
    )


def _record_form(state: FormState | None, data: Any = None) -> RecordForm:
    """A fresh form for `state`, or a posted one (`data`) shaped by its own signed state."""
    if data is not None:
        try:
            state = FormState.load(data.get("state", ""))
        except (signing.BadSignature, KeyError, TypeError):
            state = None  # the form's own validation reports the bad state
    specs = services.record_specs(state=state) if state else []
    consumers = services.consumer_list()
    if data is not None:
        return RecordForm(data, specs=specs, consumers=consumers)
    assert state is not None
    return RecordForm(initial={"state": state.sign()}, specs=specs, consumers=consumers)


def _render_record(
    request: HtmxHttpRequest,
    record: IndexedRecord,
    form: RecordForm,
    *,
    preview: bool = False,
    conflicts: list[Conflict] | None = None,
    mutation: Mutation | None = None,
    highlighted: list[str] | None = None,
    duplicate: bool = False,
    notice: str = "",
) -> HttpResponse:
    record_url = reverse(
        "record_detail", args=[record.sync_id, record.collection_id, record.upstream_id]
    )
    context = {
        "record": record,
        "form": form,
        "record_url": record_url,
        "preview": _preview(form) if preview or conflicts is None else None,
        "show_preview": preview,
        "conflicts": conflicts,
        "mutation": mutation,
        "highlighted": highlighted or [],
        "duplicate": duplicate,
        "notice": notice,
        "timeline": record_timeline(
            sync_id=record.sync_id,
            collection_id=record.collection_id,
            upstream_id=record.upstream_id,
        ),
    }
    template = "records/record_detail.html"
    if request.htmx:
        template += "#editor"
    return render(request, template, context)


def _preview(form: RecordForm) -> dict[str, str] | None:
    if not form.is_bound or not form.is_valid() or not form.changes or not form.form_state:
        return None
    body = services.update_request(
        state=form.form_state,
        changes=form.changes,
        await_consumer_ids=form.cleaned_data.get("await_consumer_ids") or (),
        await_consumers_timeout=form.cleaned_data.get("await_consumers_timeout"),
    ).body()
    url = f"{settings.SEQUIN_API_URL.rstrip('/')}/v1/mutations/run"
    curl = (
        f"curl -X POST {shlex.quote(url)} "
        '-H "Authorization: Bearer $SEQUIN_API_TOKEN" '
        "-H 'Content-Type: application/json' "
        f"-d {shlex.quote(json.dumps(body, ensure_ascii=False))}"
    )
    return {"json": json.dumps(body, indent=2, ensure_ascii=False), "curl": curl}


@require_POST
def record_preview(
    request: HtmxHttpRequest, sync_id: str, collection_id: str, upstream_id: str
) -> HttpResponse:
    """The JSON that Send would post, for the form as it stands; htmx updates it as you type."""
    record = index_get(sync_id=sync_id, collection_id=collection_id, upstream_id=upstream_id)
    if record is None:
        raise Http404("Unknown record.")
    form = _record_form(None, data=request.POST)
    return render(
        request,
        "records/record_detail.html#preview",
        {"preview": _preview(form), "show_preview": True, "form": form},
    )
