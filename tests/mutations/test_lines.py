"""The history's lines: the text each row shows, worked out once a page (bench/history.py)."""

from __future__ import annotations

import uuid
import zoneinfo
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from sequin_admin.mutations.journal import journal_start
from sequin_admin.mutations.lines import _Page, history_lines
from sequin_admin.mutations.models import Mutation, Outcome, Source
from sequin_admin.mutations.selectors import (
    attempts_per_day,
    chart_days,
    groups_collapsed,
    mutation_page,
)
from sequin_admin.sequin import MutationRequest

pytestmark = pytest.mark.django_db


def attempt(records: int, *, group: uuid.UUID | None = None, fields: int = 1) -> Mutation:
    request = MutationRequest(
        kind="update",
        sync_id="s1",
        collection_id="salesforce:contact",
        records=tuple(
            {"upstream_id": f"u{i}", "data": {f"F{n}": "v" for n in range(fields)}}
            for i in range(records)
        ),
    )
    return journal_start(request=request, user=None, source=Source.JOB, seen={}, group_id=group)


def lines_of(query: str = "") -> list:  # type: ignore[type-arg]
    rows = groups_collapsed(filters={}, user=None)
    return history_lines(mutation_page(rows, after=None).rows, query=QueryDict(query))


@pytest.mark.parametrize("upstream_id", ["u1", "00Q 5%?#&=", "éü", "a:b@c~d", "+;,!$'()*"])
def test_a_record_link_is_what_reverse_gives(upstream_id: str) -> None:
    page = _Page(cutoff=timezone.now(), detail="", group_query=QueryDict(mutable=True))
    for _ in range(2):  # the second from the collection's address kept by the first
        assert page.record_url("s1", "salesforce:contact", upstream_id) == reverse(
            "record_detail", args=["s1", "salesforce:contact", upstream_id]
        )


def test_a_line_names_three_records_counts_the_rest_and_the_first_ones_fields() -> None:
    attempt(5, fields=2)
    attempt(2)
    newest, older = lines_of()
    assert [r.upstream_id for r in newest.records] == ["u0", "u1"]
    assert newest.more_records == 0 and newest.fields == "F0"
    assert [r.upstream_id for r in older.records] == ["u0", "u1", "u2"]
    assert older.more_records == 2 and older.fields == "F0, F1"
    assert older.records[0].url == "/syncs/s1/salesforce:contact/u0/"


def test_a_page_reads_as_many_queries_and_records_whatever_an_attempts_size() -> None:
    def read() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as queries:
            rows = mutation_page(groups_collapsed(filters={}, user=None), after=None).rows
            history_lines(rows, query=QueryDict(""))
        return len(queries), sum(len(m.shown_records) for m in rows)  # type: ignore[attr-defined]

    attempt(1)
    few = read()
    attempt(100)
    queries, records = read()
    assert queries == few[0]
    assert records == 1 + 3  # a batch of 100 records: its first three are read


def test_a_group_line_links_to_its_group_keeping_the_filters_but_not_the_page() -> None:
    group = uuid.uuid4()
    attempt(1, group=group)
    attempt(1, group=group)
    (line,) = lines_of("outcome=pending&after=99")
    assert line.group_others == 1
    assert line.group_query == f"?outcome=pending&group={group}"


def test_the_time_and_outcome_read_as_the_person_sees_them() -> None:
    made = attempt(1)
    at = datetime(2026, 1, 15, 23, 30, 5, tzinfo=UTC)
    Mutation.objects.filter(pk=made.pk).update(created_at=at, outcome=Outcome.PENDING)
    with timezone.override(zoneinfo.ZoneInfo("Europe/Berlin")):
        (line,) = lines_of()
    assert line.created_iso == "2026-01-16T00:30:05+01:00"
    assert line.created_shown == "2026-01-16 00:30:05 CET"
    # Pending for longer than any answer takes: its process died, the outcome is unknown.
    assert (line.outcome_label, line.badge) == ("outcome unknown", "warning")
    assert line.url == f"/mutations/{made.pk}/"


def test_the_chart_counts_an_attempt_on_the_persons_day() -> None:
    made = attempt(1)
    berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    with timezone.override(berlin):
        days = chart_days()
        # 23:30 UTC on the day before the last is the last day's 00:30 in Berlin.
        late = datetime.combine(days[-2], datetime.min.time(), tzinfo=UTC).replace(
            hour=23, minute=30
        )
        Mutation.objects.filter(pk=made.pk).update(created_at=late)
        assert attempts_per_day(Mutation.objects.all(), days=days) == {
            days[-1]: {Outcome.PENDING: 1}
        }
