"""One policy for showing Sequin's errors, for every view: `@sequin_error_page`.

Everything below the views raises `SequinError` when Sequin can't be read; writes never
raise (the journal records their outcome), so an error that reaches a view means nothing
was changed upstream. Full pages get the error page (404 when Sequin says not found, else
502: the fault is upstream's, never a 500 of ours); htmx requests get the error as a
fragment with status 200 (htmx swaps nothing on an error status), retargeted to the page's
alert region so it never replaces a form holding a person's edits.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, Concatenate, ParamSpec

from django.http import HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django_htmx.http import reswap, retarget

from sequin_admin.htmx import HtmxHttpRequest
from sequin_admin.sequin import ErrorKind, SequinError

P = ParamSpec("P")
# Any response: a streamed export is wrapped too.
View = Callable[Concatenate[HtmxHttpRequest, P], HttpResponseBase]

ALERTS_ELEMENT_ID = "sequin-alerts"


def sequin_error_page(view: View[P]) -> View[P]:
    @wraps(view)
    def wrapped(request: HtmxHttpRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponseBase:
        try:
            return view(request, *args, **kwargs)
        except SequinError as error:
            return sequin_error_response(request, error)

    return wrapped


def sequin_error_response(request: HtmxHttpRequest, error: SequinError) -> HttpResponse:
    context: dict[str, Any] = {"error": error, "nothing_changed": request.method == "POST"}
    if request.htmx:
        response = render(request, "sequin_error.html", context)
        return reswap(retarget(response, f"#{ALERTS_ELEMENT_ID}"), "innerHTML")
    status = 404 if error.kind == ErrorKind.NOT_FOUND else 502
    return render(request, "sequin_error_page.html", context, status=status)
