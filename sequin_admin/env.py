"""Reading configuration from the environment (twelve-factor), with clear errors."""

from __future__ import annotations

import os

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
