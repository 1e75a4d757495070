"""Updates from a CSV: upload and check it, see what would change, confirm to start its job."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.conf import settings
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from sequin_admin.access.decorators import role_required
from sequin_admin.access.models import Role
from sequin_admin.error_pages import sequin_error_page
from sequin_admin.htmx import HtmxHttpRequest

from .csv_updates import (
    DELIMITER_NAMES,
    NULL_MARKER,
    CsvPlan,
    CsvRefused,
    csv_plan_confirm,
    csv_plan_for,
    csv_upload_plan,
    too_big_message,
)

UPLOAD_PAGE = "edits/csv_upload.html"
PLAN_PAGE = "edits/csv_plan.html"
# Rows of each list the plan page shows; the counts cover them all.
SHOWN_ROWS = 200
# What a multipart body carries besides the file: boundaries, headers, the CSRF token.
MULTIPART_SLACK = 64 * 1024


class CsvUploadForm(forms.Form):
    file = forms.FileField(label="CSV file", allow_empty_file=False)


def _limits() -> dict[str, Any]:
    return {
        "null_marker": NULL_MARKER,
        "max_bytes": settings.CSV_UPDATE_MAX_BYTES,
        "max_rows": settings.CSV_UPDATE_MAX_ROWS,
    }


@require_http_methods(["GET", "POST"])
@role_required(Role.BULK_EDITOR)
@sequin_error_page
def csv_upload(request: HtmxHttpRequest, sync_id: str, collection_id: str) -> HttpResponse:
    context: dict[str, Any] = {"sync_id": sync_id, "collection_id": collection_id, **_limits()}
    if request.method == "GET":
        return render(request, UPLOAD_PAGE, {**context, "form": CsvUploadForm()})
    declared = int(request.META.get("CONTENT_LENGTH") or 0)
    if declared > settings.CSV_UPDATE_MAX_BYTES + MULTIPART_SLACK:
        # Refused on the declared length, before the upload is read at all.
        refusal = too_big_message(declared)
        return render(
            request, UPLOAD_PAGE, {**context, "form": CsvUploadForm(), "refusal": refusal}
        )
    form = CsvUploadForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            if upload.size > settings.CSV_UPDATE_MAX_BYTES:
                raise CsvRefused(too_big_message(upload.size))
            stored = csv_upload_plan(
                user=request.user,
                sync_id=sync_id,
                collection_id=collection_id,
                filename=upload.name or "",
                raw=upload.read(),
            )
        except CsvRefused as refusal:
            form.add_error("file", str(refusal))
        else:
            return redirect("csv_plan", sync_id, collection_id, stored.pk)
    return render(request, UPLOAD_PAGE, {**context, "form": form})


@require_http_methods(["GET", "POST"])
@role_required(Role.BULK_EDITOR)
@sequin_error_page
def csv_plan_detail(
    request: HtmxHttpRequest, sync_id: str, collection_id: str, plan_id: uuid.UUID
) -> HttpResponse:
    upload = csv_plan_for(plan_id=plan_id, user=request.user)
    if upload is None or (upload.sync_id, upload.collection_id) != (sync_id, collection_id):
        raise Http404("No such upload of yours.")
    refusal = ""
    if request.method == "POST":
        try:
            csv_plan_confirm(upload=upload, user=request.user)
        except CsvRefused as exc:
            refusal = str(exc)
        else:
            return redirect("csv_plan", sync_id, collection_id, upload.pk)
    plan = CsvPlan.from_json(upload.plan)
    context = {
        "sync_id": sync_id,
        "collection_id": collection_id,
        "upload": upload,
        "plan": plan,
        "updates": plan.updates[:SHOWN_ROWS],
        "refused": plan.refused[:SHOWN_ROWS],
        "shown_rows": SHOWN_ROWS,
        "delimiter_name": DELIMITER_NAMES.get(plan.delimiter, plan.delimiter),
        "refusal": refusal,
        **_limits(),
    }
    return render(request, PLAN_PAGE, context)
