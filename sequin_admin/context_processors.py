from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def sequin(request: HttpRequest) -> dict[str, object]:
    """What every page shows about the connection; never the token."""
    return {
        "sequin_sandbox_mode": settings.SEQUIN_SANDBOX_MODE,
        "sequin_api_url": settings.SEQUIN_API_URL,
    }
