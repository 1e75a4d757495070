from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from sequin_admin.htmx import HtmxHttpRequest
from sequin_admin.sequin import SequinError

from . import services
from .models import Mutation


@require_GET
def mutation_detail(request: HtmxHttpRequest, mutation_id: int) -> HttpResponse:
    mutation = get_object_or_404(
        Mutation.objects.prefetch_related("records__changes"), pk=mutation_id
    )
    return render(request, "mutations/mutation_detail.html", {"mutation": mutation})


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
        messages.error(request, f"Could not re-read the record: {error.message}")
    else:
        messages.info(request, f"Checked: {mutation.get_reconciliation_display()}.")
    return redirect(mutation)
