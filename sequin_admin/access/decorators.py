"""`@role_required`: the grant check every view of the admin goes through.

Usage, under the method decorators and above `@sequin_error_page`::

    @require_GET
    @role_required(Role.VIEWER)                      # sync_id / collection_id from the URL
    @sequin_error_page
    def collection_detail(request, sync_id, collection_id): ...

    @require_http_methods(["GET", "POST"])
    @role_required(Role.VIEWER, post=Role.EDITOR)    # reading is viewing, posting is editing
    ...

    @require_POST
    @role_required(Role.EDITOR, scope=mutation_scope)  # /mutations/<mutation_id>/...: the
    ...                                                # attempt's sync and collection

Which role: viewer for pages, fragments and exports that only read; editor for what changes
one record; bulk editor for bulk jobs, CSV uploads, create and delete; admin for what remains.
`scope=` takes any function of the URL kwargs returning a `Scope` (or None for a 404):
`mutations.selectors.mutation_scope` and `replay_scope` (Retry and Revert: a bulk editor for
a create, a delete or many records) are two; a URL naming a bulk job would need its own.

A view whose URL names only `sync_id` needs the role on some collection of that sync. Lists
that span syncs (the sync list, the history) need no decorator: they filter by the grants
(`services.syncs_visible`, `services.scope_q`).

Refused: a 403 page that names the role and the scope; for htmx requests a 200 alert swapped
into the page's alert region (as `error_pages` does), so no form holding edits is replaced.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import wraps
from typing import Any, Concatenate, ParamSpec

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django_htmx.http import reswap, retarget

from sequin_admin.error_pages import ALERTS_ELEMENT_ID
from sequin_admin.htmx import HtmxHttpRequest

from .models import Role
from .services import access_allows

P = ParamSpec("P")
View = Callable[Concatenate[HtmxHttpRequest, P], HttpResponseBase]

FORBIDDEN_PAGE = "access/forbidden.html"
FORBIDDEN_ALERT = "access/forbidden_alert.html"


@dataclass(frozen=True)
class Scope:
    """Where a request acts, and the least role it needs there whatever the view asks (a retry
    of a many-record change needs a bulk editor even where one record needs an editor)."""

    sync_id: str
    collection_id: str | None = None
    minimum_role: Role = Role.VIEWER


# Reads a view's URL kwargs; None when the thing they name does not exist (a 404).
ScopeOf = Callable[[Mapping[str, Any]], Scope | None]


def scope_from_url(kwargs: Mapping[str, Any]) -> Scope:
    """`sync_id` and, when the URL has one, `collection_id`."""
    return Scope(sync_id=kwargs["sync_id"], collection_id=kwargs.get("collection_id"))


def role_required(
    role: Role, *, post: Role | None = None, scope: ScopeOf = scope_from_url
) -> Callable[[View[P]], View[P]]:
    """Let the request through only if the signed-in user holds `role` (`post` for a POST)
    on the scope `scope` reads from the URL kwargs; see the module's docstring."""

    def decorate(view: View[P]) -> View[P]:
        @wraps(view)
        def wrapped(
            request: HtmxHttpRequest, *args: P.args, **kwargs: P.kwargs
        ) -> HttpResponseBase:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            where = scope(kwargs)
            if where is None:
                raise Http404("Nothing at this address.")
            needed = post if post is not None and request.method == "POST" else role
            needed = max(needed, where.minimum_role)
            if not access_allows(
                user=request.user,
                role=needed,
                sync_id=where.sync_id,
                collection_id=where.collection_id,
            ):
                return access_denied(request, role=needed, scope=where)
            return view(request, *args, **kwargs)

        return wrapped

    return decorate


def access_denied(request: HtmxHttpRequest, *, role: Role, scope: Scope) -> HttpResponse:
    context = {"role": role, "scope": scope, "nothing_changed": request.method == "POST"}
    if request.htmx:
        response = render(request, FORBIDDEN_ALERT, context)
        return reswap(retarget(response, f"#{ALERTS_ELEMENT_ID}"), "innerHTML")
    return render(request, FORBIDDEN_PAGE, context, status=403)
