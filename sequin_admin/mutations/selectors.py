"""Reads of the journal: a record's timeline, filtered pages, counts per day. Queries only."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, Max, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import TruncDate
from django.utils import timezone

from .models import Mutation, MutationRecord, Outcome, unanswered_before

TIMELINE_LENGTH = 20
PAGE_SIZE = 50
CHART_DAYS = 30


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


def mutation_for_form(*, form_token: str) -> Mutation | None:
    """The attempt a rendered form already made, if any: a form is sent at most once."""
    return Mutation.objects.filter(form_token=form_token).first()


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
    if group := filters.get("group"):
        rows = rows.filter(group_id=group)
    if since := filters.get("since"):
        rows = rows.filter(created_at__gte=_start_of(since))
    if until := filters.get("until"):
        rows = rows.filter(created_at__lt=_start_of(until + timedelta(days=1)))
    if filters.get("upstream_id") or filters.get("field"):
        rows = rows.distinct()
    return rows


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_current_timezone())


def groups_collapsed(rows: QuerySet[Mutation]) -> QuerySet[Mutation]:
    """One line per group of attempts (a bulk job's or a command's batches): the group's
    newest attempt among `rows`, annotated with `group_size`, the group's attempts."""
    newest = (
        rows.order_by()
        .filter(group_id__isnull=False)
        .values("group_id")
        .annotate(newest=Max("id"))
        .values("newest")
    )
    group_size = (
        Mutation.objects.filter(group_id=OuterRef("group_id"))
        .order_by()
        .values("group_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    return rows.filter(Q(group_id__isnull=True) | Q(id__in=newest)).annotate(
        group_size=Subquery(group_size)
    )


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


def chart_days(*, days: int = CHART_DAYS) -> list[date]:
    """The days the chart shows, oldest first, ending today in the current timezone."""
    first = timezone.localdate() - timedelta(days=days - 1)
    return [first + timedelta(days=i) for i in range(days)]


def attempts_per_day(rows: QuerySet[Mutation], *, days: list[date]) -> dict[date, dict[str, int]]:
    """How many attempts of `rows` each day had, by outcome."""
    counts = (
        rows.filter(created_at__gte=_start_of(days[0]))
        .annotate(day=TruncDate("created_at"))
        .values("day", "outcome")
        .order_by()
        .annotate(n=Count("id", distinct=True))  # filters on fields join; count attempts once
    )
    per_day: dict[date, dict[str, int]] = {}
    for row in counts:
        per_day.setdefault(row["day"], {})[row["outcome"]] = row["n"]
    return per_day


def usernames() -> QuerySet[Mutation, str]:
    """Everyone who has made an attempt, for the user filter's suggestions."""
    return Mutation.objects.order_by().values_list("username", flat=True).distinct()
