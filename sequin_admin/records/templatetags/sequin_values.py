"""Showing upstream values as the JSON they are: true, false, null, {"a": 1}."""

from __future__ import annotations

import json
from typing import Any

from django import template

register = template.Library()


@register.filter
def as_json(value: Any) -> str:
    """Strings as they are; everything else as compact JSON. Autoescaping still applies."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)
