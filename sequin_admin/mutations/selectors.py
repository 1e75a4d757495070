"""Reads of the journal: a record's timeline, filtered pages, counts per day. Queries only."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import (
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    prefetch_related_objects,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, StrIndex
from django.utils import timezone

from sequin_admin.access.decorators import Scope
from sequin_admin.access.models import Role
from sequin_admin.access.services import Person, scope_q
from sequin_admin.records.index import titles_of
from sequin_admin.records.titles import record_title

from .models import (
    FieldChange,
    Kind,
    Mutation,
    MutationRecord,
    Outcome,
    group_field_mark,
    unanswered_before,
)

TIMELINE_LENGTH = 20
PAGE_SIZE = 50
CHART_DAYS = 30
# The chart counts at most this many attempts, the newest: a bulk job journals thousands, and
# counting a million on every page load would cost seconds (bench/history.py). On SQLite the
# day of each counted attempt is a Python call: 10,000 cost about as much as the rest of the page.
CHART_LIMIT = 2_000
# A line of the history names this many of its attempt's records, then "+N".
SHOWN_RECORDS = 3


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


def mutation_of_record(
    *, mutation_id: str, sync_id: str, collection_id: str, upstream_id: str
) -> Mutation | None:
    """The attempt `mutation_id` if it touched this record; None for any other id or text."""
    if not (mutation_id.isascii() and mutation_id.isdigit()):
        return None
    return (
        Mutation.objects.filter(
            pk=int(mutation_id),
            sync_id=sync_id,
            collection_id=collection_id,
            records__upstream_id=upstream_id,
        )
        .distinct()
        .first()
    )


def mutations_visible(*, user: Person | None) -> QuerySet[Mutation]:
    """The attempts on collections the user may see, by one SQL filter built from their
    grants; every attempt for None, the system (a command run with `--as-system`)."""
    if user is None:
        return Mutation.objects.all()
    return Mutation.objects.filter(scope_q(user=user, role=Role.VIEWER))


def mutation_scope(kwargs: Mapping[str, Any]) -> Scope | None:
    """For `@role_required` on `/mutations/<mutation_id>/...`: the attempt's collection."""
    found = (
        Mutation.objects.filter(pk=kwargs["mutation_id"])
        .values_list("sync_id", "collection_id")
        .first()
    )
    return None if found is None else Scope(sync_id=found[0], collection_id=found[1])


def replay_scope(kwargs: Mapping[str, Any]) -> Scope | None:
    """For Retry and Revert: an editor may replay a change of one record by update; a create,
    a delete or a change of many records needs a bulk editor, as sending it afresh would."""
    found = (
        Mutation.objects.filter(pk=kwargs["mutation_id"])
        .annotate(record_count=Count("records"))
        .values_list("sync_id", "collection_id", "kind", "record_count")
        .first()
    )
    if found is None:
        return None
    sync_id, collection_id, kind, record_count = found
    return Scope(
        sync_id=sync_id,
        collection_id=collection_id,
        minimum_role=replay_role(kind=kind, record_count=record_count),
    )


def replay_role(*, kind: str, record_count: int) -> Role:
    """The role Retry and Revert need: an editor's for one record by update, else a bulk
    editor's (a create, a delete, or many records), as sending it afresh would."""
    return Role.EDITOR if kind == Kind.UPDATE and record_count <= 1 else Role.BULK_EDITOR


def mutation_filter(filters: Mapping[str, Any], *, user: Person | None) -> QuerySet[Mutation]:
    """The history's rows for `filters`, among those `user` may see (`mutations_visible`)."""
    rows = mutations_visible(user=user)
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
    # As EXISTS, not joins: no DISTINCT, so pages and the chart walk the keyset index.
    if upstream_id := filters.get("upstream_id"):
        touched = MutationRecord.objects.filter(mutation=OuterRef("pk"), upstream_id=upstream_id)
        rows = rows.filter(Exists(touched))
    if field_name := filters.get("field"):
        # Driven from the attempt's records (index mutation_id), then their changes (index
        # fieldchange_record_field): a join on `field` first reads every change of that field
        # in the journal for each attempt a page walks.
        changed = FieldChange.objects.filter(record=OuterRef("pk"), field=field_name)
        with_change = MutationRecord.objects.filter(mutation=OuterRef("pk")).filter(Exists(changed))
        rows = rows.filter(Exists(with_change))
    if group := filters.get("group"):
        rows = rows.filter(group_id=group)
    if since := filters.get("since"):
        rows = rows.filter(created_at__gte=_start_of(since))
    if until := filters.get("until"):
        rows = rows.filter(created_at__lt=_start_of(until + timedelta(days=1)))
    return rows


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_current_timezone())


# Filters a group's latest attempt answers for its whole group: those every attempt of a
# group answers alike (a group is one job's or one command's batches, one person's, of one
# kind, on one collection), and a field any attempt of the group changed (`group_fields`).
LINE_FILTERS = frozenset({"user", "kind", "sync_id", "collection_id", "group", "field"})


def groups_collapsed(*, filters: Mapping[str, Any], user: Person | None) -> QuerySet[Mutation]:
    """The history's lines for `filters` (`mutation_filter`): one per group of attempts (a
    bulk job's or a command's batches), annotated with `group_size`, the group's attempts.

    Where every filter answers a group's attempts alike, or names a field (a group changed
    it when any of its attempts did: `group_fields`), a group's line is its latest attempt
    (`latest_of_group`, index mutation_line): a page reads its lines only. Otherwise a line
    is the group's newest attempt among those the filters keep (`groups_newest`)."""
    if not all(not value or name in LINE_FILTERS for name, value in filters.items()):
        return groups_newest(mutation_filter(filters, user=user))
    lines = mutation_filter({**filters, "field": None}, user=user).filter(latest_of_group=True)
    if field_name := filters.get("field"):
        # INSTR/STRPOS, not LIKE: SQLite's LIKE ignores case, and field names do not.
        mark = StrIndex("group_fields", Value(group_field_mark(field_name)))
        lines = lines.alias(field_at=mark).filter(field_at__gt=0)
    return lines.annotate(group_size=_group_size())


def groups_newest(rows: QuerySet[Mutation]) -> QuerySet[Mutation]:
    """The newest attempt of each group among `rows`, annotated with `group_size`: "no newer
    attempt of its group among `rows`", checked per row a page reads (index
    `mutation_group`), never a MAX over every group of the journal."""
    newer_in_group = rows.order_by().filter(group_id=OuterRef("group_id"), id__gt=OuterRef("id"))
    # An attempt of no group has none newer in it: NULL equals nothing.
    return rows.filter(~Exists(newer_in_group)).annotate(group_size=_group_size())


def _group_size() -> Subquery:
    return _count_per_row(Mutation.objects.filter(group_id=OuterRef("group_id")), "group_id")


def _count_per_row(related: QuerySet[Any], key: str) -> Subquery:
    """How many of `related` (filtered on the outer row by `key`) there are, as a subquery a
    page runs per row it reads, by the index on `key`."""
    return Subquery(related.order_by().values(key).annotate(n=Count("id")).values("n"))


@dataclass(frozen=True)
class MutationPage:
    rows: list[Mutation]
    next_after: int | None


def mutation_page(rows: QuerySet[Mutation], *, after: int | None) -> MutationPage:
    """Newest first, by id (ids grow with time): any page costs what the first costs.

    Each attempt comes with `record_count`, as `shown_records` its first `SHOWN_RECORDS`
    records, and as `first_fields` the names of the fields its first record changed: what a
    line of the history shows. A bulk job's attempt holds 100 records; reading them all, with their
    changes' values, is 5,000 records and 5,000 changes for one page of 50 lines."""
    if after:
        rows = rows.filter(id__lt=after)
    of_attempt = MutationRecord.objects.filter(mutation=OuterRef("pk"))
    record_count = _count_per_row(of_attempt, "mutation")
    shown = MutationRecord.objects.only(
        "id", "mutation_id", "upstream_id", "before_data", "returned_data"
    ).order_by("id")
    fetched: list[Mutation] = list(
        rows.annotate(record_count=Coalesce(record_count, 0))
        # A batch's request and answer are its records' worth of JSON, read only by the
        # attempt's own page.
        .defer("request_body", "response_body", "error_message", "reconciliation_note")
        .prefetch_related(
            Prefetch("records", queryset=shown[:SHOWN_RECORDS], to_attr="shown_records")
        )
        .order_by("-id")[: PAGE_SIZE + 1]
    )
    # The fields changed, of each attempt's first record only (the line names those): one
    # query of names, no change's values.
    firsts = {m.shown_records[0].pk: m for m in fetched if m.shown_records}  # type: ignore[attr-defined]
    for m in fetched:
        m.first_fields = []  # type: ignore[attr-defined]
    if firsts:
        for record_id, name in (
            FieldChange.objects.filter(record__in=list(firsts))
            .order_by("id")
            .values_list("record_id", "field")
        ):
            firsts[record_id].first_fields.append(name)  # type: ignore[attr-defined]
    more = len(fetched) > PAGE_SIZE
    fetched = fetched[:PAGE_SIZE]
    return MutationPage(rows=fetched, next_after=fetched[-1].pk if more and fetched else None)


def with_record_titles(mutations: Iterable[Mutation]) -> None:
    """Give each attempt's records (prefetched) a `title`: the indexed record's, looked up in
    one query for all of them; else from the data the journal kept; else the upstream id."""
    mutations = list(mutations)
    prefetch_related_objects(mutations, "records")  # a no-op where the caller prefetched them
    records_titled([(m, r) for m in mutations for r in m.records.all()])


def records_titled(records: Sequence[tuple[Mutation, MutationRecord]]) -> None:
    """Give each (attempt, record) pair's record a `title`, as `with_record_titles` does, for
    records the caller read (`mutation_page`'s `shown_records`)."""
    found = titles_of((m.sync_id, m.collection_id, r.upstream_id) for m, r in records)
    for m, r in records:
        title = found.get((m.sync_id, m.collection_id, r.upstream_id))
        if title is None:
            kept = r.returned_data or r.before_data
            title = (
                record_title(collection_id=m.collection_id, data=kept, upstream_id=r.upstream_id)
                if isinstance(kept, dict)
                else r.upstream_id
            )
        r.title = title or "(new record)"  # type: ignore[attr-defined]


def chart_days(*, days: int = CHART_DAYS) -> list[date]:
    """The days the chart shows, oldest first, ending today in the current timezone."""
    first = timezone.localdate() - timedelta(days=days - 1)
    return [first + timedelta(days=i) for i in range(days)]


def attempts_per_day(
    rows: QuerySet[Mutation], *, days: list[date], limit: int = CHART_LIMIT
) -> dict[date, dict[str, int]]:
    """How many attempts of `rows` each day had, by outcome, among the newest `limit` of
    them: the cost is that of reading `limit` rows by the keyset index, whatever the journal's
    size. When the counts add up to `limit`, older days may be missing attempts.

    Each attempt's day is found by comparing its time with the days' starts in SQL: on SQLite
    `TruncDate` is a Python function called per attempt, which cost as much as the rest of
    the query."""
    starts = [_start_of(day) for day in days]
    newest = rows.filter(created_at__gte=starts[0]).order_by("-id").values("id")[:limit]
    counts = (
        Mutation.objects.filter(id__in=newest)
        .annotate(day=_day_index(starts, end=_start_of(days[-1] + timedelta(days=1))))
        .values("day", "outcome")
        .order_by()
        .annotate(n=Count("id"))
    )
    per_day: dict[date, dict[str, int]] = {}
    for row in counts:
        if row["day"] >= 0:
            per_day.setdefault(days[row["day"]], {})[row["outcome"]] = row["n"]
    return per_day


def _day_index(starts: list[datetime], *, end: datetime) -> RawSQL:
    """Which of the days beginning at `starts` an attempt was made on, -1 for none: a CASE of
    comparisons, newest day first (most of the newest attempts are today's). Later than the
    last day (a clock set back) is no day of the chart, as TruncDate would give a day past it.

    Written as SQL text: the same CASE built of 31 `When`s cost Django 15 ms a page to
    resolve and compile, five times what the database takes to run it."""
    quote = connection.ops.quote_name
    column = f"{quote(Mutation._meta.db_table)}.{quote('created_at')}"
    adapt = connection.ops.adapt_datetimefield_value
    whens = " ".join(f"WHEN {column} >= %s THEN {index}" for index in reversed(range(len(starts))))
    return RawSQL(
        f"CASE WHEN {column} >= %s THEN -1 {whens} ELSE -1 END",  # nosec B611 # bound values
        [adapt(end), *(adapt(start) for start in reversed(starts))],
        output_field=IntegerField(),
    )


def usernames(*, user: Person | None) -> QuerySet[Any, str]:
    """The people with an account who made an attempt the user may see, for the user
    filter's suggestions: one probe of the username index per account, where a DISTINCT over
    the journal reads every attempt on each page load. A deleted account's attempts keep its
    name and are found by typing it."""
    made = mutations_visible(user=user).filter(username=OuterRef("username"))
    return (
        get_user_model()
        .objects.filter(Exists(made))
        .order_by("username")
        .values_list("username", flat=True)
    )
