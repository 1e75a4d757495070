"""The history's lines: what each row of `/mutations/` shows, worked out once in Python.

The table's template read each attempt through a dozen lookups, filters and tags per row
(`records.all` four times, `{% url %}`, dates converted to the person's timezone, the outcome
computed twice): for 50 rows that cost more than the rest of the page (bench/history.py).
Here each row is plain text the template only prints (and escapes).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import quote

from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone
from django.utils.http import RFC3986_SUBDELIMS

from .models import Mutation, MutationRecord, Outcome, Source, unanswered_before
from .selectors import SHOWN_RECORDS, records_titled

# Addresses reversed once a page with these in place of an attempt's id and a record's
# upstream id, then filled in per line: a `reverse` per line and record cost more than the
# rest of a line. Neither can occur in the rest of the address.
_SENTINEL_ID = 987654321
_SENTINEL_UPSTREAM_ID = "upstream-id-0f5c1e2a"


@dataclass(frozen=True)
class RecordLink:
    title: str
    upstream_id: str  # "" for a record the attempt created and no answer named
    url: str


@dataclass(frozen=True)
class HistoryLine:
    pk: int
    url: str
    # Other attempts of its group, and the address that lists the group (0 and "": none).
    group_others: int
    group_query: str
    created_iso: str
    created_shown: str
    user_display: str
    source_label: str  # "" for an edit form's attempt
    kind: str
    collection_id: str
    records: list[RecordLink]
    more_records: int
    fields: str
    badge: str
    outcome_label: str
    reconciliation_label: str
    response_status: str


def history_lines(rows: Sequence[Mutation], *, query: QueryDict) -> list[HistoryLine]:
    """The lines for `mutation_page`'s rows; `query` is the page's query string (the group
    links keep its filters)."""
    records_titled([(m, r) for m in rows for r in m.shown_records])  # type: ignore[attr-defined]
    page = _Page(
        cutoff=unanswered_before(),
        detail=reverse("mutation_detail", args=[_SENTINEL_ID]),
        group_query=query.copy(),
    )
    # The group links drop the page key, as `{% querystring group=... after=None %}` does.
    page.group_query.pop("after", None)
    return [_line(m, page) for m in rows]


@dataclass
class _Page:
    """What every line of a page shares, worked out once."""

    cutoff: datetime
    detail: str
    group_query: QueryDict
    # A record page's address per collection, with `_SENTINEL_UPSTREAM_ID` for the record.
    record_pages: dict[tuple[str, str], str] = field(default_factory=dict)

    def record_url(self, sync_id: str, collection_id: str, upstream_id: str) -> str:
        """What `reverse("record_detail", ...)` gives, one `reverse` per collection: Django
        quotes the path it fills in, so the id goes in quoted alike. An id with a slash is
        left to `reverse` (it matches no record address)."""
        if "/" in upstream_id:
            return reverse("record_detail", args=[sync_id, collection_id, upstream_id])
        key = (sync_id, collection_id)
        if key not in self.record_pages:
            self.record_pages[key] = reverse(
                "record_detail", args=[sync_id, collection_id, _SENTINEL_UPSTREAM_ID]
            )
        return self.record_pages[key].replace(
            _SENTINEL_UPSTREAM_ID, quote(upstream_id, safe=RFC3986_SUBDELIMS + "/~:@")
        )


def _line(m: Mutation, page: _Page) -> HistoryLine:
    group_size = getattr(m, "group_size", None) or 0
    shown: list[MutationRecord] = m.shown_records  # type: ignore[attr-defined]
    outcome = m.outcome_shown(unanswered_before=page.cutoff)
    if m.applied:
        badge = "success"
    elif outcome == Outcome.FAILED:
        badge = "danger"
    else:
        badge = "warning"
    if group_size > 1:
        # Set on the page's one copy, line after line: each line's value replaces the last.
        page.group_query["group"] = str(m.group_id)
        group_query = f"?{page.group_query.urlencode()}"
    else:
        group_query = ""
    # As the template's `date:"c"` and `date:"Y-m-d H:i:s T"` print it, in the person's zone.
    local = timezone.localtime(m.created_at)
    return HistoryLine(
        pk=m.pk,
        url=page.detail.replace(str(_SENTINEL_ID), str(m.pk)),
        group_others=group_size - 1 if group_size > 1 else 0,
        group_query=group_query,
        created_iso=local.isoformat(),
        created_shown=f"{local:%Y-%m-%d %H:%M:%S} {local.tzname()}",
        user_display=m.user_display,
        source_label="" if m.source == Source.FORM else m.get_source_display(),
        kind=m.kind,
        collection_id=m.collection_id,
        records=[
            RecordLink(
                title=r.title,  # type: ignore[attr-defined]
                upstream_id=r.upstream_id,
                url=page.record_url(m.sync_id, m.collection_id, r.upstream_id)
                if r.upstream_id
                else "",
            )
            for r in shown[:SHOWN_RECORDS]
        ],
        more_records=max(0, m.record_count - SHOWN_RECORDS),  # type: ignore[attr-defined]
        fields=", ".join(m.first_fields),  # type: ignore[attr-defined]
        badge=badge,
        outcome_label=Outcome(outcome).label,
        reconciliation_label=m.get_reconciliation_display() if m.reconciliation else "",
        response_status=str(m.response_status) if m.response_status else "—",
    )
