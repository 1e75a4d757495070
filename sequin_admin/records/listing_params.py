"""The addresses the collection page links to: a column sorted, a filter removed, a condition
added. Each is the page's own address with one thing changed and the page key dropped (a key
belongs to one order and one set of filters)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from django.http import QueryDict

from .listing import FILTER_OPS, UPSTREAM_ID, FieldChoices, FieldFilter, ListingQuery

PAGING_PARAMS = ("after", "before", "page")
# The filter panel's "add a condition" row: a field, an op and a value.
CONDITION_FIELD, CONDITION_OP, CONDITION_VALUE = "cf", "cop", "cv"
OP_LABELS = {"eq": "=", "contains": "contains", "empty": "is empty", "gte": "≥", "lte": "≤"}
UPDATED_COLUMN = "updated_idx"


def without_paging(params: QueryDict) -> QueryDict:
    copied = params.copy()
    for name in PAGING_PARAMS:
        copied.pop(name, None)
    return copied


AriaSort = Literal["ascending", "descending", "none"]


@dataclass(frozen=True)
class SortHeader:
    label: str
    href: str
    aria_sort: AriaSort


def sort_headers(
    params: QueryDict, query: ListingQuery, columns: Sequence[str]
) -> list[SortHeader]:
    """A header for the record (its title, sorted by upstream_id), each column and `updated`:
    a link to sort by it, ascending first, or reversed when the list is already sorted by it."""
    headers = []
    for column, label in [
        (UPSTREAM_ID, "Record"),
        *((c, c) for c in columns),
        (UPDATED_COLUMN, "updated"),
    ]:
        current = query.sort_path == column
        ascending_now = current and not query.descending
        linked = without_paging(params)
        linked["sort"] = f"-{column}" if ascending_now else column
        aria: AriaSort = ("ascending" if ascending_now else "descending") if current else "none"
        headers.append(SortHeader(label=label, href=f"?{linked.urlencode()}", aria_sort=aria))
    return headers


@dataclass(frozen=True)
class FilterChip:
    label: str
    remove_href: str


def filter_chips(params: QueryDict, query: ListingQuery) -> list[FilterChip]:
    """One chip per active filter value, each linking to the address without it."""
    chips = []
    for f in query.filters:
        for value in f.values:
            linked = without_paging(params)
            linked.setlist(f.param, [v for v in linked.getlist(f.param) if v.strip() != value])
            shown = "" if f.op == "empty" else f" {value}"
            chips.append(
                FilterChip(
                    label=f"{f.path} {OP_LABELS[f.op]}{shown}",
                    remove_href=f"?{linked.urlencode()}",
                )
            )
    return chips


def kept_filters(query: ListingQuery, choices: Sequence[FieldChoices]) -> list[tuple[str, str]]:
    """The active filters the panel's checkboxes do not show, as hidden inputs, so that a
    change in the panel keeps them."""
    offered = {(c.path, text) for c in choices for text, _ in c.counts}
    return [
        (f.param, value)
        for f in query.filters
        for value in f.values
        if not _offered(f, value, offered)
    ]


def _offered(f: FieldFilter, value: str, offered: set[tuple[str, str]]) -> bool:
    return f.op == "eq" and (f.path, value) in offered


def condition_folded(params: QueryDict) -> QueryDict:
    """The address with the panel's condition row turned into a filter parameter."""
    folded = without_paging(params)
    field = folded.pop(CONDITION_FIELD, [""])[-1].strip()
    op = folded.pop(CONDITION_OP, [""])[-1]
    value = folded.pop(CONDITION_VALUE, [""])[-1].strip()
    if op == "empty":
        value = "1"
    if field and op in FILTER_OPS and value:
        folded.appendlist(f"f.{field}.{op}", value)
    return folded
