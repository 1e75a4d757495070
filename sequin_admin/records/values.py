"""Comparing record values as JSON: the one definition of "this field changed"."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def same_value(a: Any, b: Any) -> bool:
    """JSON equality: 5 equals 5.0, but True is not 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def fields_differing(*, base: Mapping[str, Any], wanted: Mapping[str, Any]) -> dict[str, Any]:
    """The entries of `wanted` that `base` does not already hold; a key `base` lacks holds null.

    One diff for every question: what an edit sends, whether the upstream holds what was
    sent (reconcile, retry, revert), and which kept choices still differ after a conflict.
    """
    return {key: value for key, value in wanted.items() if not same_value(value, base.get(key))}
