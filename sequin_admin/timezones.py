"""Times shown in the person's timezone: the one their browser reports (static/js/app.js
keeps it in a cookie), else settings.TIME_ZONE."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from functools import cache

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

TIMEZONE_COOKIE = "tz"


@cache
def known_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def person_timezone(request: HttpRequest) -> zoneinfo.ZoneInfo | None:
    """The zone the browser reported, if it names one this machine knows; anything else in
    the cookie (it is the person's to change) is ignored."""
    name = request.COOKIES.get(TIMEZONE_COOKIE, "")
    return zoneinfo.ZoneInfo(name) if name in known_zones() else None


class PersonTimezoneMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        zone = person_timezone(request)
        if zone is None:
            timezone.deactivate()
            return self.get_response(request)
        with timezone.override(zone):
            return self.get_response(request)
