"""System checks on the Sequin settings (`manage.py check`, and every runserver start)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Warning, register

from .urls import unexpected_path


@register("sequin")
def check_api_url(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    url = str(settings.SEQUIN_API_URL)
    path = unexpected_path(url)
    if path is None:
        return []
    return [
        Warning(
            f"SEQUIN_API_URL ({url}) has the path {path!r}; every request goes to "
            f"{path}/v1/..., which is rarely what is meant.",
            hint="Set SEQUIN_API_URL to the service's root, e.g. https://api.sequin.io "
            "(a trailing /v1 is accepted too).",
            id="sequin.W001",
        )
    ]
