"""Bulk jobs in the browser: bulk edit from the collection page, a job's page, the jobs list."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from sequin_admin.access.decorators import role_required
from sequin_admin.access.models import Role
from sequin_admin.access.services import scope_q
from sequin_admin.error_pages import sequin_error_page
from sequin_admin.htmx import Fragment, HtmxHttpRequest

from .bulk import Selection, bulk_changes, bulk_fields, bulk_preview, bulk_run
from .jobs import (
    job_cancel,
    job_items_page,
    job_progress,
    job_resume_if_stale,
    job_retry_failures,
    job_scope,
)
from .models import ItemOutcome, Job

JOB_PAGE = "edits/job_detail.html"
JOB_PROGRESS = Fragment(JOB_PAGE, "job-progress")
BULK_PAGE = "edits/bulk_edit.html"
JOBS_PER_PAGE = 50


def selection_from_request(request: HtmxHttpRequest, sync_id: str, collection_id: str) -> Selection:
    """The records a bulk page acts on, from its form: ticked ids, or all that match the
    collection page's query string (`scope=matching`); bulk edit and bulk delete share it."""
    params = request.POST if request.method == "POST" else request.GET
    if params.get("scope") == "matching":
        return Selection(sync_id, collection_id, query_string=params.get("qs", ""))
    ids = tuple(dict.fromkeys(i for i in params.getlist("id") if i))
    return Selection(sync_id, collection_id, upstream_ids=ids)


@require_http_methods(["GET", "POST"])
@role_required(Role.BULK_EDITOR)
@sequin_error_page
def bulk_edit(request: HtmxHttpRequest, sync_id: str, collection_id: str) -> HttpResponse:
    selection = selection_from_request(request, sync_id, collection_id)
    fields = bulk_fields(sync_id=sync_id, collection_id=collection_id)
    chosen = {
        spec.key: (request.POST.get(f"value.{spec.key}", ""), f"null.{spec.key}" in request.POST)
        for spec in fields
        if f"set.{spec.key}" in request.POST
    }
    changes, errors = bulk_changes(fields=fields, chosen=chosen)
    context = {
        "sync_id": sync_id,
        "collection_id": collection_id,
        "selection": selection,
        "fields": fields,
        "chosen": chosen,
        "errors": errors,
        "preview": None,
    }
    if request.method == "POST" and not errors:
        if not changes:
            context["errors"] = {"": "Choose at least one field to change."}
        elif request.POST.get("action") == "run":
            job = bulk_run(user=request.user, selection=selection, changes=changes)
            if job is not None:
                return redirect(job)
            messages.info(request, "Every selected record already holds these values.")
        else:
            context["preview"] = bulk_preview(selection=selection, changes=changes)
    return render(request, BULK_PAGE, context)


@require_GET
@vary_on_headers("HX-Request")
@role_required(Role.VIEWER, scope=job_scope)
@sequin_error_page
def job_detail(request: HtmxHttpRequest, job_id: int) -> HttpResponse:
    job = get_object_or_404(Job.objects.select_related("retry_of"), pk=job_id)
    job_resume_if_stale(job=job)  # a job whose worker died is taken up again
    outcome = request.GET.get("outcome", "")
    outcome = outcome if outcome in ItemOutcome.values else ""
    try:
        after = int(request.GET.get("after", "-1"))
    except ValueError:
        after = -1
    context = {
        "job": job,
        "progress": job_progress(job=job),
        "outcome": outcome,
        "outcomes": ItemOutcome.choices,
    }
    if JOB_PROGRESS.wanted_by(request):
        return render(request, JOB_PROGRESS.template, context)
    context["items"] = job_items_page(job=job, after=after, outcome=outcome)
    return render(request, JOB_PAGE, context)


@require_POST
@role_required(Role.BULK_EDITOR, scope=job_scope)
@sequin_error_page
def job_cancel_view(request: HtmxHttpRequest, job_id: int) -> HttpResponse:
    job = job_cancel(job=get_object_or_404(Job, pk=job_id))
    messages.info(request, f"Job #{job.pk} is {job.get_state_display()}.")
    return redirect(job)


@require_POST
@role_required(Role.BULK_EDITOR, scope=job_scope)
@sequin_error_page
def job_retry_view(request: HtmxHttpRequest, job_id: int) -> HttpResponse:
    job = get_object_or_404(Job, pk=job_id)
    retry = job_retry_failures(job=job, user=request.user)
    if retry is None:
        messages.warning(request, "Nothing to retry: no record of this job failed.")
        return redirect(job)
    return redirect(retry)


@require_GET
@sequin_error_page
def job_list(request: HtmxHttpRequest) -> HttpResponse:
    # Only jobs on collections the person may see: the grants are one SQL filter.
    jobs = Job.objects.filter(scope_q(user=request.user))
    try:
        before = int(request.GET.get("before", "0"))
    except ValueError:
        before = 0
    if before:
        jobs = jobs.filter(pk__lt=before)
    rows = list(jobs.order_by("-id")[: JOBS_PER_PAGE + 1])
    more = len(rows) > JOBS_PER_PAGE
    rows = rows[:JOBS_PER_PAGE]
    context = {"jobs": rows, "next_before": rows[-1].pk if more else None}
    return render(request, "edits/job_list.html", context)
