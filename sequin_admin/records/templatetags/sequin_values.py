"""Showing upstream values: as the JSON they are (`as_json`), or as values a person reads
(`shown`): dates and times in the person's timezone, booleans as marks, numbers grouped,
nested objects folded, long text cut with a way to expand, null unlike an empty string.

Every piece of upstream text goes through `format_html`/`escape`: nothing here marks upstream
data safe.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django import template
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.safestring import SafeString

from sequin_admin.records.fields import LONG_TEXT

register = template.Library()

# Only strings shaped like ISO 8601 are read as dates: "2024-01-15", "2024-01-15T09:12:04Z",
# Salesforce's "2024-01-15T09:12:04.000+0000".
ISO_MOMENT = re.compile(
    r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$"
)
SHORT_TEXT = 60
DATE_SHOWN = "Y-m-d"
# Constants, no upstream text in them.
NULL_SHOWN = SafeString('<span class="value-null">null</span>')
EMPTY_SHOWN = SafeString(
    '<span class="value-empty"><span aria-hidden="true">""</span>'
    '<span class="visually-hidden">empty text</span></span>'
)


@register.filter
def as_json(value: Any) -> str:
    """Strings as they are; everything else as compact JSON. Autoescaping still applies."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


@register.filter
def at(mapping: Mapping[str, Any] | None, key: str) -> Any:
    """`mapping[key]`, or None: a lookup by a key the template holds in a variable."""
    return (mapping or {}).get(key)


@register.filter
def shown(value: Any) -> SafeString:
    """An upstream value as a person reads it, escaped."""
    if value is None:
        return NULL_SHOWN
    if isinstance(value, bool):
        mark, word = ("✓", "true") if value else ("✗", "false")
        return format_html(
            '<span class="value-bool value-{}"><span aria-hidden="true">{}</span>'
            '<span class="visually-hidden">{}</span></span>',
            word,
            mark,
            word,
        )
    if isinstance(value, int | float):
        return format_html(
            '<span class="value-number">{}</span>', number_format(value, force_grouping=True)
        )
    if isinstance(value, dict | list):
        return _folded(value)
    text = str(value)
    if text == "":
        return EMPTY_SHOWN
    if moment := _moment(text):
        return moment
    if len(text) > LONG_TEXT or "\n" in text:
        first_line = text.splitlines()[0] if text.strip() else text
        return format_html(
            '<details class="value-long"><summary>{}…</summary><div class="value-text">{}</div>'
            "</details>",
            first_line[:SHORT_TEXT],
            text,
        )
    return format_html("{}", text)


def _folded(value: dict[str, Any] | list[Any]) -> SafeString:
    if not value:
        return format_html('<span class="value-json">{}</span>', json.dumps(value))
    count = len(value)
    if isinstance(value, dict):
        label = f"{count} field{'s' if count != 1 else ''}: {', '.join(list(value)[:3])}"
        if count > 3:
            label += ", …"
    else:
        label = f"{count} item{'s' if count != 1 else ''}"
    return format_html(
        '<details class="value-nested"><summary>{}</summary><pre class="value-json">{}</pre>'
        "</details>",
        label,
        json.dumps(value, indent=2, ensure_ascii=False),
    )


def _moment(text: str) -> SafeString | None:
    if not ISO_MOMENT.match(text):
        return None
    try:
        moment = parse_datetime(text)
        day = parse_date(text) if len(text) == 10 else None
    except ValueError:
        return None
    if day is not None:
        return format_html('<time datetime="{}">{}</time>', text, date_format(day, DATE_SHOWN))
    if moment is None:
        return None
    return format_html(
        '<time datetime="{}" title="{}">{}</time>', moment.isoformat(), text, local_moment(moment)
    )


@register.filter
def instant(moment: datetime | None) -> SafeString | str:
    """A stored instant (a DateTimeField's value) as a <time> in the person's timezone."""
    if moment is None:
        return ""
    return format_html('<time datetime="{}">{}</time>', moment.isoformat(), local_moment(moment))


def local_moment(moment: datetime) -> str:
    """An instant in the current (the person's) timezone; a time without a zone as it is.

    strftime, not Django's `date` formatting: a list page shows one or two a row."""
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
        # Django's "T": the zone's abbreviation, or the offset where it has none.
        return f"{moment:%Y-%m-%d %H:%M} {moment.tzname() or f'{moment:%z}'}"
    return f"{moment:%Y-%m-%d %H:%M}"
