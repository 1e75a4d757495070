from __future__ import annotations

import json

from django.contrib import messages
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from sequin_admin.htmx import HtmxHttpRequest
from sequin_admin.sequin import SequinError

from . import replay, services
from .models import Mutation
from .selectors import (
    MutationFilterForm,
    attempts_per_day,
    export_csv,
    export_json,
    mutation_filter,
    mutation_page,
)


@require_GET
def mutation_list(request: HtmxHttpRequest) -> HttpResponse:
    form = MutationFilterForm(request.GET)
    rows = mutation_filter(form.filters())
    after = request.GET.get("after", "")
    page = mutation_page(rows, after=int(after) if after.isdigit() else None)
    context = {
        "form": form,
        "page": page,
        "chart": attempts_per_day(rows),
        "users": Mutation.objects.order_by().values_list("username", flat=True).distinct(),
    }
    template = "mutations/mutation_list.html"
    if request.htmx and request.htmx.target == "history-results":
        template += "#history-results"
    return render(request, template, context)


@require_GET
def mutation_export(request: HtmxHttpRequest) -> StreamingHttpResponse:
    form = MutationFilterForm(request.GET)
    rows = mutation_filter(form.filters())
    kind = "json" if request.GET.get("format") == "json" else "csv"
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    if kind == "json":
        response = StreamingHttpResponse(export_json(rows), content_type="application/json")
    else:
        response = StreamingHttpResponse(export_csv(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="mutations-{stamp}.{kind}"'
    return response


@require_GET
def mutation_detail(request: HtmxHttpRequest, mutation_id: int) -> HttpResponse:
    mutation = get_object_or_404(
        Mutation.objects.select_related("retry_of", "revert_of").prefetch_related(
            "records__changes", "retries", "reverts"
        ),
        pk=mutation_id,
    )
    return render(request, "mutations/mutation_detail.html", _detail_context(mutation))


def _detail_context(mutation: Mutation, **extra: object) -> dict[str, object]:
    try:
        response_json = json.dumps(json.loads(mutation.response_body), indent=2)
    except ValueError:
        response_json = None
    return {
        "mutation": mutation,
        "request_json": json.dumps(mutation.request_body, indent=2, ensure_ascii=False),
        "response_json": response_json,
        "can_retry": replay.can_retry(mutation),
        "can_revert": replay.can_revert(mutation),
        **extra,
    }


@require_POST
def mutation_reconcile(request: HtmxHttpRequest, mutation_id: int) -> HttpResponse:
    mutation = get_object_or_404(Mutation, pk=mutation_id)
    error = None
    try:
        mutation = services.mutation_reconcile(mutation=mutation)
    except SequinError as exc:
        error = exc
    if request.htmx:
        return render(
            request, "mutations/outcome_alert.html", {"mutation": mutation, "error": error}
        )
    if error:
        messages.error(request, f"Could not re-read the records: {error.message}")
    else:
        messages.info(request, f"Checked: {mutation.get_reconciliation_display()}.")
    return redirect(mutation)


@require_POST
def mutation_retry(request: HtmxHttpRequest, mutation_id: int) -> HttpResponse:
    mutation = get_object_or_404(Mutation, pk=mutation_id)
    keep_mine = None
    if request.POST.get("action") == "resolve":
        keep_mine = {
            name.removeprefix("resolve.")
            for name, value in request.POST.items()
            if name.startswith("resolve.") and value == "mine"
        }
    try:
        result = replay.mutation_retry(mutation=mutation, user=request.user, keep_mine=keep_mine)
    except SequinError as exc:
        messages.error(request, f"Could not re-read the records, nothing was sent: {exc.message}")
        return redirect(mutation)
    return _after_replay(request, mutation, result, "Retry")


@require_POST
def mutation_revert(request: HtmxHttpRequest, mutation_id: int) -> HttpResponse:
    mutation = get_object_or_404(Mutation, pk=mutation_id)
    try:
        result = replay.mutation_revert(mutation=mutation, user=request.user)
    except SequinError as exc:
        messages.error(request, f"Could not re-read the records, nothing was sent: {exc.message}")
        return redirect(mutation)
    return _after_replay(request, mutation, result, "Revert")


def _after_replay(
    request: HtmxHttpRequest, original: Mutation, result: replay.Replay, action: str
) -> HttpResponse:
    if result.status == "conflict":
        return render(
            request,
            "mutations/mutation_detail.html",
            _detail_context(original, conflicts=result.conflicts),
        )
    if result.status == "sent" and result.mutation is not None:
        messages.info(request, f"{action} sent as mutation #{result.mutation.pk}. {result.message}")
        return redirect(result.mutation)
    messages.warning(request, f"{action}: {result.message}")
    return redirect(original)
