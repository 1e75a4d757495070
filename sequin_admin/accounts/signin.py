"""The sign-in page, and whom django-axes counts failed sign-ins against."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.views import LoginView
from django.http import HttpRequest

from .demo import DEMO_PASSWORD, DEMO_USERNAME


class SignInView(LoginView):
    """Django's sign-in; in sandbox mode, and only there, the page shows the demo account."""

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        if settings.SEQUIN_SANDBOX_MODE:
            context["demo_account"] = {"username": DEMO_USERNAME, "password": DEMO_PASSWORD}
        return context


def client_address(request: HttpRequest) -> str | None:
    """The address a sign-in came from (AXES_CLIENT_IP_CALLABLE).

    Behind DJANGO_PROXY_COUNT proxies, each appends the address it saw to X-Forwarded-For;
    the entry the outermost trusted proxy appended is the client's. Entries to its left come
    from the client itself and could be forged, so they are never used. Without proxies it
    is the peer address.
    """
    proxies: int = settings.PROXY_COUNT
    if proxies:
        forwarded = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [hop for hop in forwarded if hop]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR")
