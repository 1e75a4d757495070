"""The history: every attempt, filtered, charted, exported, and one attempt in full."""

from __future__ import annotations

import json

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.backends.jinja2 import Jinja2
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from sequin_admin.access.decorators import role_required
from sequin_admin.access.models import Role
from sequin_admin.access.services import Person, role_of
from sequin_admin.error_pages import sequin_error_page
from sequin_admin.htmx import Fragment, HtmxHttpRequest

from .chart import chart_of
from .export import export_csv, export_json
from .forms import MutationFilterForm
from .lines import history_lines
from .models import Mutation
from .reconcile import mutation_reconcile as reconcile
from .selectors import (
    CHART_LIMIT,
    attempts_per_day,
    chart_days,
    groups_collapsed,
    mutation_filter,
    mutation_page,
    mutation_scope,
    replay_role,
    usernames,
    with_record_titles,
)

LIST_PAGE = "mutations/mutation_list.html"
# The history's rows are rendered by Jinja2, which compiles a template to Python: Django's
# engine resolved some twenty lookups per row, a fifth of the page's time (bench/history.py).
# Autoescaping on, as Django's Jinja2 backend sets it. One engine per process: it caches.
ROWS_ENGINE = Jinja2(
    {
        "NAME": "history-rows",
        "DIRS": [settings.BASE_DIR / "templates"],
        "APP_DIRS": False,
        "OPTIONS": {},
    }
)
HISTORY_ROWS = "mutations/history_rows.jinja2"
HISTORY_RESULTS = Fragment(LIST_PAGE, "history-results")
HISTORY_CHART = Fragment(LIST_PAGE, "history-chart")
OUTCOME_ALERT = "mutations/outcome_alert.html"


@require_GET
@vary_on_headers("HX-Request")
def mutation_list(request: HtmxHttpRequest) -> HttpResponse:
    form = MutationFilterForm(request.GET)
    filters = form.filters()
    # Only attempts on collections the person may see: the grants are one SQL filter.
    if filters.get("group"):
        listed = mutation_filter(filters, user=request.user)
    else:
        listed = groups_collapsed(filters=filters, user=request.user)
    page = mutation_page(listed, after=_page_key(request.GET.get("after", "")))
    lines = history_lines(page.rows, query=request.GET)
    rows_html = ROWS_ENGINE.get_template(HISTORY_ROWS).render({"lines": lines})
    context = {
        "form": form,
        "group": filters.get("group"),
        "page": page,
        "lines": lines,
        "rows": mark_safe(rows_html),  # nosec B308, B703 # Jinja2 (autoescape on) escaped values
        "users": usernames(user=request.user),
    }
    template = HISTORY_RESULTS.template if HISTORY_RESULTS.wanted_by(request) else LIST_PAGE
    return render(request, template, context)


@require_GET
def mutation_chart(request: HtmxHttpRequest) -> HttpResponse:
    """The chart of the history's filtered attempts, a fragment of its own: the page asks for
    it once drawn (`hx-trigger="load"`), so the lines show without waiting for the counting."""
    rows = mutation_filter(MutationFilterForm(request.GET).filters(), user=request.user)
    days = chart_days()
    chart = chart_of(
        attempts_per_day(rows, days=days, limit=CHART_LIMIT), days=days, limit=CHART_LIMIT
    )
    return render(request, HISTORY_CHART.template, {"chart": chart})


def _page_key(text: str) -> int | None:
    """The `after` id of a page; anything else (a typo, "²") means the first page."""
    return int(text) if text.isascii() and text.isdigit() else None


@require_GET
def mutation_export(request: HtmxHttpRequest) -> StreamingHttpResponse:
    form = MutationFilterForm(request.GET)
    rows = mutation_filter(form.filters(), user=request.user)
    kind = "json" if request.GET.get("format") == "json" else "csv"
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    if kind == "json":
        response = StreamingHttpResponse(export_json(rows), content_type="application/json")
    else:
        response = StreamingHttpResponse(export_csv(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="mutations-{stamp}.{kind}"'
    return response


@require_GET
@role_required(Role.VIEWER, scope=mutation_scope)
def mutation_detail(request: HtmxHttpRequest, mutation_id: int) -> HttpResponse:
    mutation = get_object_or_404(
        Mutation.objects.select_related("retry_of", "revert_of").prefetch_related(
            "records__changes", "retries", "reverts"
        ),
        pk=mutation_id,
    )
    context = detail_context(mutation, user=request.user)
    return render(request, "mutations/mutation_detail.html", context)


def detail_context(mutation: Mutation, *, user: Person, **extra: object) -> dict[str, object]:
    """What the attempt's page shows, with only the buttons the person may use; the retry view
    adds the conflicts it met. Expects the attempt's records prefetched."""
    held = role_of(user=user, sync_id=mutation.sync_id, collection_id=mutation.collection_id) or 0
    needed = replay_role(kind=mutation.kind, record_count=len(mutation.records.all()))
    with_record_titles([mutation])
    try:
        response_json = json.dumps(json.loads(mutation.response_body), indent=2)
    except ValueError:
        response_json = None
    return {
        "mutation": mutation,
        "request_json": json.dumps(mutation.request_body, indent=2, ensure_ascii=False),
        "response_json": response_json,
        "can_edit": held >= Role.EDITOR,
        "can_replay": held >= needed,
        **extra,
    }


@require_POST
@role_required(Role.EDITOR, scope=mutation_scope)
@sequin_error_page
def mutation_reconcile(request: HtmxHttpRequest, mutation_id: int) -> HttpResponse:
    mutation = reconcile(mutation=get_object_or_404(Mutation, pk=mutation_id))
    if request.htmx:
        # Only editors get here (@role_required), so the alert keeps its Check again.
        return render(request, OUTCOME_ALERT, {"mutation": mutation, "can_edit": True})
    messages.info(request, f"Checked: {mutation.get_reconciliation_display()}.")
    return redirect(mutation)
