"""The history's reads on a journal as bulk jobs make it: bounded chart, groups and filters
that read indexes rather than the whole journal (bench/history.py measures them)."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from sequin_admin.bulk_rows import rows_insert
from sequin_admin.mutations.chart import chart_of
from sequin_admin.mutations.journal import journal_start
from sequin_admin.mutations.models import Mutation, Outcome, Source
from sequin_admin.mutations.selectors import (
    attempts_per_day,
    chart_days,
    groups_collapsed,
    groups_newest,
    mutation_filter,
    mutation_page,
    usernames,
)
from sequin_admin.sequin import MutationRequest
from tests.helpers import journal_attempt, plan_of

pytestmark = pytest.mark.django_db


# Attempts a bulk job of the tests below journals.
BATCHES = 30


def journal_jobs(jobs: int, *, batches: int, field: str = "Title") -> list[uuid.UUID]:
    """`jobs` bulk jobs of `batches` attempts each, written by the journal, one group each."""
    groups = [uuid.uuid4() for _ in range(jobs)]
    for group in groups:
        for batch in range(batches):
            request = MutationRequest(
                kind="update",
                sync_id="s1",
                collection_id="salesforce:contact",
                records=({"upstream_id": f"u{batch}", "data": {field: f"v{batch}"}},),
            )
            journal_start(request=request, user=None, source=Source.JOB, seen={}, group_id=group)
    Mutation.objects.update(outcome=Outcome.SUCCEEDED)
    return groups


def test_the_chart_counts_only_the_newest_attempts_up_to_its_limit() -> None:
    journal_jobs(1, batches=12)
    days = chart_days()
    per_day = attempts_per_day(Mutation.objects.all(), days=days, limit=5)
    assert per_day == {days[-1]: {Outcome.SUCCEEDED: 5}}
    assert chart_of(per_day, days=days, limit=5).limited_to == 5
    whole = attempts_per_day(Mutation.objects.all(), days=days, limit=100)
    assert whole == {days[-1]: {Outcome.SUCCEEDED: 12}}
    assert chart_of(whole, days=days, limit=100).limited_to is None


def test_the_chart_counts_an_attempt_once_whatever_records_it_touched() -> None:
    request = MutationRequest(
        kind="update",
        sync_id="s1",
        collection_id="salesforce:contact",
        records=tuple({"upstream_id": f"u{i}", "data": {"Title": "x"}} for i in range(3)),
    )
    journal_start(request=request, user=None, source=Source.FORM, seen={})
    rows = mutation_filter({"field": "Title"}, user=None)
    assert attempts_per_day(rows, days=chart_days()) == {chart_days()[-1]: {Outcome.PENDING: 1}}


def test_the_chart_reads_its_limit_of_rows_by_the_keyset_not_the_journal() -> None:
    journal_jobs(1, batches=3)
    days = chart_days()
    with CaptureQueriesContext(connection) as queries:
        attempts_per_day(Mutation.objects.all(), days=days, limit=7)
    (query,) = queries.captured_queries
    # The count is over a subquery cut at the limit: bounded whatever the journal's size.
    assert "LIMIT 7" in query["sql"]


def test_the_history_shows_each_group_once_with_its_size_and_newest_attempt() -> None:
    groups = journal_jobs(3, batches=4)
    page = mutation_page(groups_collapsed(filters={}, user=None), after=None)
    assert [m.group_id for m in page.rows] == list(reversed(groups))
    assert [m.group_size for m in page.rows] == [4, 4, 4]  # type: ignore[attr-defined]
    newest = [Mutation.objects.filter(group_id=g).latest("id").pk for g in reversed(groups)]
    assert [m.pk for m in page.rows] == newest


@pytest.mark.parametrize("filters", [{}, {"user": "someone"}])
def test_a_page_of_lines_reads_only_each_groups_latest_attempt(filters: dict[str, str]) -> None:
    # As bulk jobs leave a journal: groups of 100 attempts, one of them its group's latest,
    # one group in ten someone's. On a dozen rows any plan is as good as another; here walking
    # the journal by id reads 100 attempts a line, and the planner knows it.
    groups, size, now = 30, 100, timezone.now()
    columns = ("created_at", "username", "kind", "sync_id", "collection_id", "request_body")
    rows_insert(
        Mutation,
        (*columns, "group_id", "latest_of_group"),
        [
            (now, "someone" if g % 10 == 0 else "", "update", "s1", "c", {}, group, n == size - 1)
            for g, group in enumerate(uuid.UUID(int=g + 1) for g in range(groups))
            for n in range(size)
        ],
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {Mutation._meta.db_table}")
    rows = groups_collapsed(filters=filters, user=None)
    sql, params = rows.order_by("-id")[:51].query.sql_with_params()
    assert "EXISTS" not in sql.upper(), "no probe for newer attempts of the group"
    # Either index holds only each group's latest attempt (`?user=` may take either: the
    # planner weighs how many lines the journal has).
    plan = plan_of(sql, params)
    assert re.search(r"\bmutation_(user_)?line\b", plan), plan


def test_a_filter_that_tells_a_groups_attempts_apart_probes_the_group_index() -> None:
    journal_jobs(3, batches=4)
    filters = {"outcome": Outcome.SUCCEEDED}
    rows = groups_collapsed(filters=filters, user=None)
    sql, params = rows.order_by("-id")[:51].query.sql_with_params()
    # Which rows are newest is never a MAX over every group of the journal.
    assert "MAX(" not in sql.upper()
    assert "mutation_group" in plan_of(sql, params)


def test_a_group_whose_latest_attempt_is_filtered_out_shows_its_newest_match() -> None:
    (group,) = journal_jobs(1, batches=3)
    attempts = list(Mutation.objects.filter(group_id=group).order_by("id"))
    Mutation.objects.filter(pk=attempts[-1].pk).update(outcome=Outcome.FAILED)
    filters = {"outcome": Outcome.SUCCEEDED}
    rows = groups_collapsed(filters=filters, user=None)
    assert [m.pk for m in mutation_page(rows, after=None).rows] == [attempts[1].pk]


def test_only_a_groups_newest_attempt_is_its_latest_and_every_lone_attempt_is() -> None:
    first, second = journal_jobs(2, batches=3)
    lone = journal_start(
        request=MutationRequest(
            kind="update",
            sync_id="s1",
            collection_id="salesforce:contact",
            records=({"upstream_id": "u", "data": {"Title": "t"}},),
        ),
        user=None,
        source=Source.FORM,
        seen={},
    )
    latest = dict(Mutation.objects.filter(latest_of_group=True).values_list("pk", "group_id"))
    newest = [Mutation.objects.filter(group_id=g).latest("id").pk for g in (first, second)]
    assert latest == {newest[0]: first, newest[1]: second, lone.pk: None}


@pytest.mark.parametrize(
    "filters",
    [{}, {"user": "bench-colleague"}, {"kind": "delete"}, {"collection_id": "salesforce:lead"}],
)
def test_lines_by_the_latest_mark_are_the_lines_the_probe_finds(
    filters: dict[str, str],
) -> None:
    colleague = User.objects.create(username="bench-colleague")
    for job in range(6):
        group = uuid.uuid4()
        for batch in range(3):
            request = MutationRequest(
                kind="delete" if job % 3 == 0 else "update",
                sync_id="s1",
                collection_id="salesforce:lead" if job % 2 else "salesforce:contact",
                records=({"upstream_id": f"u{batch}", "data": {"Title": "t"}},),
            )
            journal_start(
                request=request,
                user=colleague if job % 4 == 1 else None,
                source=Source.JOB,
                seen={},
                group_id=group,
            )
    marked = groups_collapsed(filters=filters, user=None)
    # The probe's answer for the same rows.
    probed = groups_newest(mutation_filter(filters, user=None))
    assert list(marked.values_list("pk", flat=True)) == list(probed.values_list("pk", flat=True))
    assert marked.exists()


def test_the_history_page_asks_as_many_queries_whatever_the_journal_size(
    signed_in: Client,
) -> None:
    def counts() -> list[int]:
        found = []
        for url in ("/mutations/", "/mutations/?field=Title", "/mutations/?user=nobody"):
            with CaptureQueriesContext(connection) as queries:
                assert signed_in.get(url).status_code == 200
            found.append(len(queries))
        return found

    journal_jobs(2, batches=10)
    small = counts()
    journal_jobs(10, batches=10)
    assert counts() == small


def test_the_user_suggestions_probe_the_username_index_per_account(user: User) -> None:
    User.objects.create_user("idle")
    request = MutationRequest(
        kind="update",
        sync_id="s1",
        collection_id="salesforce:contact",
        records=({"upstream_id": "u1", "data": {"Title": "x"}},),
    )
    journal_start(request=request, user=user, source=Source.FORM, seen={})
    suggested = usernames(user=None)
    assert list(suggested) == [user.username]
    sql, params = suggested.query.sql_with_params()
    assert "DISTINCT" not in sql.upper()
    assert "mutation_username" in plan_of(sql, params)


def test_a_page_filtered_by_field_reads_the_lines_of_the_groups_that_changed_it() -> None:
    # Groups of many batches, as bulk jobs make them: a line is one attempt in BATCHES.
    journal_jobs(2, batches=BATCHES, field="Title")
    (status,) = journal_jobs(1, batches=BATCHES, field="Status")
    filters = {"field": "Status"}
    rows = groups_collapsed(filters=filters, user=None)
    page = mutation_page(rows, after=None).rows
    assert [(m.group_id, m.group_size) for m in page] == [(status, BATCHES)]  # type: ignore[attr-defined]
    sql, params = rows.order_by("-id")[:51].query.sql_with_params()
    assert "EXISTS" not in sql.upper(), "no probe of every attempt's changes"
    # Statistics of this test's rows, not what earlier tests' commits left behind (their
    # ANALYZE, planner_statistics.py, outlives their rows on PostgreSQL and sways its plan).
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Mutation._meta.db_table}")
    assert re.search(r"\bmutation_line\b", plan_of(sql, params))
    # Field names are matched whole and with their case, as the changes hold them.
    for other in ("status", "Stat", "tatus", "Status\nTitle"):
        assert not groups_collapsed(filters={"field": other}, user=None).exists(), other


def test_a_group_is_a_line_of_every_field_any_of_its_attempts_changed() -> None:
    group = uuid.uuid4()
    for n, data in enumerate([{"Title": "a"}, {"Email": "b", "Title": "c"}, {"Phone": "d"}]):
        journal_attempt(data, upstream_id=f"u{n}", group_id=group)
    attempts = list(Mutation.objects.filter(group_id=group).order_by("id"))
    assert [m.latest_of_group for m in attempts] == [False, False, True]
    for name in ("Title", "Email", "Phone"):
        lines = groups_collapsed(filters={"field": name}, user=None)
        assert list(lines.values_list("pk", flat=True)) == [attempts[-1].pk], name
    # Within the group, each attempt is found by what it changed itself.
    assert mutation_filter({"group": group, "field": "Title"}, user=None).count() == 2
    # With a filter that tells the group's attempts apart, the line is the newest match.
    yesterday = timezone.localdate() - timedelta(days=1)
    newest_title = groups_collapsed(filters={"field": "Title", "since": yesterday}, user=None)
    assert [m.pk for m in newest_title] == [attempts[1].pk]
