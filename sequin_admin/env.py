"""Reading configuration from the environment (twelve-factor), with clear errors."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), not {value!r}.")


def env_int(name: str, default: int, *, minimum: int = 1) -> int:
    value = os.environ.get(name)
    if not value:
        return default
    try:
        number = int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}.") from exc
    if number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {number}.")
    return number


def env_timeout(name: str, default: tuple[float, float]) -> tuple[float, float]:
    """`40` sets the read timeout (connect stays at most 5 s); `5,40` sets both."""
    value = os.environ.get(name)
    if not value:
        return default
    try:
        parts = [float(p) for p in value.split(",")]
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be seconds, e.g. 40 or 5,40: {value!r}.") from exc
    if len(parts) == 1:
        return (min(default[0], parts[0]), parts[0])
    if len(parts) == 2 and all(p > 0 for p in parts):
        return (parts[0], parts[1])
    raise ImproperlyConfigured(f"{name} must be seconds, e.g. 40 or 5,40: {value!r}.")


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_url(name: str) -> str | None:
    """An http(s) URL with a host, or None when unset."""
    value = os.environ.get(name)
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ImproperlyConfigured(
            f"{name} must be an http(s) URL such as https://api.sequin.io, not {value!r}."
        )
    return value


def is_loopback_url(url: str) -> bool:
    """Whether the URL's host is this machine (localhost, 127.0.0.0/8, ::1)."""
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def env_path(name: str, base: Path) -> Path | None:
    """A filesystem path; a relative one is taken from `base` (the project), not the cwd."""
    value = os.environ.get(name)
    if not value:
        return None
    return base / value  # an absolute `value` replaces `base`
