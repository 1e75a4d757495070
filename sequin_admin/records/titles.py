"""What a person calls a record: its title, chosen by rules per provider, overridable in settings.

A rule is a template such as `"{FirstName} {LastName}"` whose placeholders are keys of the
record's `data`, dotted for nested objects (`{properties.name}`). A template whose placeholders
are all null or absent gives nothing, and the next rule is tried; the upstream id comes last.
Placeholders are looked up in the data by key only (never `str.format`, which would reach
attributes of the values).
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from functools import cache
from typing import Any

from django.conf import settings

from .fields import provider_of

TITLE_LENGTH = 80

GENERIC_RULES = ("{name}", "{Name}", "{title}", "{subject}", "{Subject}", "{email}", "{Email}")
PROVIDER_RULES: dict[str, tuple[str, ...]] = {
    "salesforce": ("{Name}", "{FirstName} {LastName}", "{Subject}", "{Email}"),
    "stripe": ("{name}", "{email}", "{description}"),
    "hubspot": (
        "{properties.name}",
        "{properties.firstname} {properties.lastname}",
        "{properties.email}",
        "{properties.domain}",
        # The same properties where a sync flattens them onto the record.
        "{name}",
        "{firstname} {lastname}",
        "{email}",
        "{domain}",
    ),
}


def title_rules(collection_id: str) -> tuple[str, ...]:
    """The templates tried for a collection, in order: the settings' override first."""
    override = getattr(settings, "SEQUIN_ADMIN_TITLES", {}).get(collection_id, ())
    own = (override,) if isinstance(override, str) else tuple(override)
    return (*own, *PROVIDER_RULES.get(provider_of(collection_id), ()), *GENERIC_RULES)


def record_title(*, collection_id: str, data: Mapping[str, Any], upstream_id: str) -> str:
    for template in title_rules(collection_id):
        if title := _filled(template, data):
            return title if len(title) <= TITLE_LENGTH else title[: TITLE_LENGTH - 1] + "…"
    return upstream_id


@cache
def _parsed(template: str) -> tuple[tuple[str, str | None], ...]:
    """The template's (literal, placeholder) pairs: parsed once per process, not once per
    record and rule (a history page titles 150 records, trying up to a dozen rules each)."""
    return tuple((literal, name) for literal, name, _, _ in string.Formatter().parse(template))


def _filled(template: str, data: Mapping[str, Any]) -> str:
    parts: list[str] = []
    found = False
    for literal, name in _parsed(template):
        parts.append(literal)
        if name is None:
            continue
        value = value_at(data, name)
        if value is not None and not isinstance(value, dict | list) and str(value).strip():
            parts.append(str(value))
            found = True
    return " ".join("".join(parts).split()) if found else ""


def value_at(data: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path (`MailingAddress.city`), or None where the path ends early.
    A key that itself holds a dot is found too."""
    if path in data:
        return data[path]
    head, dot, rest = path.partition(".")
    if not dot:
        return None
    inner = data.get(head)
    return value_at(inner, rest) if isinstance(inner, Mapping) else None
