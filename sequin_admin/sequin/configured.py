"""The client built from Django settings, lazily and once per thread.

requests does not promise that a Session is thread-safe, and the development server and
gunicorn's threads serve requests concurrently, so each thread keeps its own client.
"""

from __future__ import annotations

import threading

from django.conf import settings

from .client import SequinClient

_local = threading.local()


def get_client() -> SequinClient:
    key = (
        settings.SEQUIN_API_URL,
        settings.SEQUIN_API_TOKEN,
        settings.SEQUIN_TIMEOUT,
        settings.SEQUIN_MAX_RECORDS_PER_MUTATION,
    )
    cached: tuple[tuple[object, ...], SequinClient] | None = getattr(_local, "client", None)
    if cached is None or cached[0] != key:
        if cached is not None:
            cached[1].close()
        client = SequinClient(
            base_url=settings.SEQUIN_API_URL,
            token=settings.SEQUIN_API_TOKEN,
            timeout=settings.SEQUIN_TIMEOUT,
            max_records_per_mutation=settings.SEQUIN_MAX_RECORDS_PER_MUTATION,
        )
        _local.client = cached = (key, client)
    return cached[1]
