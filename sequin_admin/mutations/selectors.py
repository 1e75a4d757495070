"""Reads of the journal: filters, pages, the per-day chart and exports."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django import forms
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Count, Prefetch, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from .models import Kind, Mutation, MutationRecord, Outcome, unanswered_before

TIMELINE_LENGTH = 20
PAGE_SIZE = 50
CHART_DAYS = 30
EXPORT_CHUNK = 500


def record_timeline(*, sync_id: str, collection_id: str, upstream_id: str) -> QuerySet[Mutation]:
    """The record's attempts, newest first, each with only this record's field changes."""
    own = MutationRecord.objects.filter(upstream_id=upstream_id).prefetch_related("changes")
    return (
        Mutation.objects.filter(
            sync_id=sync_id, collection_id=collection_id, records__upstream_id=upstream_id
        )
        .prefetch_related(Prefetch("records", queryset=own))
        .order_by("-id")[:TIMELINE_LENGTH]
    )


class MutationFilterForm(forms.Form):
    """The history's filters; every one lives in the address, so a view can be bookmarked."""

    user = forms.CharField(
        required=False, label="User", widget=forms.TextInput(attrs={"list": "users"})
    )
    outcome = forms.ChoiceField(
        required=False, choices=[("", "any outcome"), *Outcome.choices], label="Outcome"
    )
    kind = forms.ChoiceField(required=False, choices=[("", "any kind"), *Kind.choices])
    sync_id = forms.CharField(required=False, label="Sync")
    collection_id = forms.CharField(required=False, label="Collection")
    upstream_id = forms.CharField(required=False, label="upstream_id")
    field = forms.CharField(required=False, label="Field changed")
    since = forms.DateField(required=False, label="From", widget=forms.DateInput({"type": "date"}))
    until = forms.DateField(required=False, label="To", widget=forms.DateInput({"type": "date"}))

    def filters(self) -> dict[str, Any]:
        if not self.is_valid():
            return {}
        return {k: v for k, v in self.cleaned_data.items() if v not in ("", None)}


def mutation_filter(filters: Mapping[str, Any]) -> QuerySet[Mutation]:
    rows = Mutation.objects.all()
    if user := filters.get("user"):
        rows = rows.filter(username=user)
    if outcome := filters.get("outcome"):
        stale = Q(outcome=Outcome.PENDING, created_at__lt=unanswered_before())
        if outcome == Outcome.UNKNOWN:
            rows = rows.filter(Q(outcome=Outcome.UNKNOWN) | stale)
        elif outcome == Outcome.PENDING:
            rows = rows.filter(outcome=Outcome.PENDING).exclude(stale)
        else:
            rows = rows.filter(outcome=outcome)
    for name in ("kind", "sync_id", "collection_id"):
        if value := filters.get(name):
            rows = rows.filter(**{name: value})
    if upstream_id := filters.get("upstream_id"):
        rows = rows.filter(records__upstream_id=upstream_id)
    if field_name := filters.get("field"):
        rows = rows.filter(records__changes__field=field_name)
    if since := filters.get("since"):
        rows = rows.filter(created_at__gte=_start_of(since))
    if until := filters.get("until"):
        rows = rows.filter(created_at__lt=_start_of(until + timedelta(days=1)))
    if filters.get("upstream_id") or filters.get("field"):
        rows = rows.distinct()
    return rows


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_current_timezone())


@dataclass(frozen=True)
class MutationPage:
    rows: list[Mutation]
    next_after: int | None


def mutation_page(rows: QuerySet[Mutation], *, after: int | None) -> MutationPage:
    """Newest first, by id (ids grow with time): any page costs what the first costs."""
    if after:
        rows = rows.filter(id__lt=after)
    fetched = list(rows.prefetch_related("records__changes").order_by("-id")[: PAGE_SIZE + 1])
    more = len(fetched) > PAGE_SIZE
    fetched = fetched[:PAGE_SIZE]
    return MutationPage(rows=fetched, next_after=fetched[-1].pk if more and fetched else None)


# The chart


@dataclass(frozen=True)
class Bar:
    x: int
    y: int
    height: int
    outcome: str
    count: int
    day: date


@dataclass(frozen=True)
class Chart:
    bars: list[Bar]
    days: list[date]
    peak: int
    width: int
    height: int
    bar_width: int
    labels: list[tuple[int, str]]


OUTCOME_ORDER = [o.value for o in Outcome]


def attempts_per_day(rows: QuerySet[Mutation], *, days: int = CHART_DAYS) -> Chart:
    """Stacked bars of attempts per day by outcome, laid out for a server-rendered SVG."""
    today = timezone.localdate()
    first = today - timedelta(days=days - 1)
    counts = (
        rows.filter(created_at__gte=_start_of(first))
        .annotate(day=TruncDate("created_at"))
        .values("day", "outcome")
        .order_by()
        .annotate(n=Count("id", distinct=True))  # filters on fields join; count attempts once
    )
    per_day: dict[date, dict[str, int]] = {}
    for row in counts:
        per_day.setdefault(row["day"], {})[row["outcome"]] = row["n"]
    dates = [first + timedelta(days=i) for i in range(days)]
    peak = max((sum(per_day.get(d, {}).values()) for d in dates), default=0) or 1
    bar_width, gap, height = 14, 4, 120
    bars = []
    for index, day in enumerate(dates):
        top = height
        for outcome in OUTCOME_ORDER:
            count = per_day.get(day, {}).get(outcome, 0)
            if not count:
                continue
            bar_height = max(1, round(count / peak * height))
            top -= bar_height
            bars.append(Bar(index * (bar_width + gap), top, bar_height, outcome, count, day))
    labels = [
        (i * (bar_width + gap), d.strftime("%b %d")) for i, d in enumerate(dates) if i % 7 == 0
    ]
    return Chart(
        bars=bars,
        days=dates,
        peak=peak,
        width=days * (bar_width + gap),
        height=height,
        bar_width=bar_width,
        labels=labels,
    )


# Exports: streamed, a chunk of rows at a time, so memory stays flat however long the history.

CSV_COLUMNS = [
    "mutation_id",
    "created_at",
    "user",
    "source",
    "kind",
    "sync_id",
    "collection_id",
    "upstream_id",
    "field",
    "before",
    "sent",
    "returned",
    "outcome",
    "reconciliation",
    "response_status",
    "error",
    "duration_ms",
    "group_id",
    "retry_of",
    "revert_of",
]


def _export_rows(rows: QuerySet[Mutation]) -> Iterator[Mutation]:
    return rows.order_by("-id").prefetch_related("records__changes").iterator(EXPORT_CHUNK)


def _json_cell(value: Any, present: bool = True) -> str:
    return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False) if present else ""


def csv_rows(m: Mutation) -> Iterator[list[Any]]:
    """One row per field change (one per record for a delete), in CSV_COLUMNS order."""
    common = [
        m.pk,
        m.created_at.isoformat(),
        m.username,
        m.source,
        m.kind,
        m.sync_id,
        m.collection_id,
    ]
    tail = [
        m.outcome,
        m.reconciliation,
        m.response_status or "",
        m.error_message,
        m.duration_ms if m.duration_ms is not None else "",
        m.group_id or "",
        m.retry_of_id or "",
        m.revert_of_id or "",
    ]
    for record in m.records.all():
        changes = list(record.changes.all())
        if not changes:
            yield [*common, record.upstream_id, "", "", "", "", *tail]
        for c in changes:
            yield [
                *common,
                record.upstream_id,
                c.field,
                _json_cell(c.before, c.had_before),
                _json_cell(c.sent),
                _json_cell(c.returned, c.has_returned),
                *tail,
            ]


def export_csv(rows: QuerySet[Mutation]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(CSV_COLUMNS)
    yield flush()
    for m in _export_rows(rows):
        writer.writerows(csv_rows(m))
        yield flush()


def mutation_as_json(m: Mutation) -> dict[str, Any]:
    return {
        "id": m.pk,
        "created_at": m.created_at,
        "finished_at": m.finished_at,
        "duration_ms": m.duration_ms,
        "user": m.username,
        "source": m.source,
        "kind": m.kind,
        "sync_id": m.sync_id,
        "collection_id": m.collection_id,
        "request": m.request_body,
        "outcome": m.outcome,
        "reconciliation": m.reconciliation or None,
        "reconciliation_note": m.reconciliation_note,
        "response_status": m.response_status,
        "error": m.error_message,
        "group_id": m.group_id,
        "retry_of": m.retry_of_id,
        "revert_of": m.revert_of_id,
        "records": [
            {
                "upstream_id": r.upstream_id,
                "before_updated_idx": r.before_updated_idx,
                "returned_updated_idx": r.returned_updated_idx,
                "changes": [
                    {
                        "field": c.field,
                        **({"before": c.before} if c.had_before else {}),
                        "sent": c.sent,
                        **({"returned": c.returned} if c.has_returned else {}),
                    }
                    for c in r.changes.all()
                ],
            }
            for r in m.records.all()
        ],
    }


def export_json(rows: QuerySet[Mutation]) -> Iterator[str]:
    yield "["
    separator = "\n"
    for m in _export_rows(rows):
        yield separator + json.dumps(mutation_as_json(m), cls=DjangoJSONEncoder, ensure_ascii=False)
        separator = ",\n"
    yield "\n]\n"
