"""History pages: filters in the address, keyset pages, chart, exports, detail, actions."""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from sequin_admin.access.models import Grant, Role
from sequin_admin.mutations.journal import journal_start
from sequin_admin.mutations.models import Mutation, Outcome, Source
from sequin_admin.mutations.selectors import PAGE_SIZE
from sequin_admin.records.models import IndexedRecord
from sequin_admin.sandbox.faults import Fault
from sequin_admin.sandbox.server import SandboxServer
from sequin_admin.sequin import MutationRequest
from tests.helpers import Indexed, replay_confirmed, send


def journal(
    n: int,
    *,
    user: User | None = None,
    sync: str = "s1",
    collection: str = "salesforce:contact",
    field: str = "Title",
    outcome: Outcome = Outcome.SUCCEEDED,
    group_id: uuid.UUID | None = None,
) -> list[Mutation]:
    """Entries written through the journal, without calling Sequin; of one group if given."""
    made = []
    for i in range(n):
        request = MutationRequest(
            kind="update",
            sync_id=sync,
            collection_id=collection,
            records=({"upstream_id": f"u{i}", "data": {field: f"v{i}"}},),
        )
        m = journal_start(
            request=request, user=user, source=Source.FORM, seen={}, group_id=group_id
        )
        Mutation.objects.filter(pk=m.pk).update(outcome=outcome)
        made.append(m)
    return made


def results(html: str) -> str:
    return html.split('id="history-results"', 1)[1]


def test_list_is_newest_first_and_pages_by_key(signed_in: Client, user: User) -> None:
    made = journal(PAGE_SIZE + 5, user=user)
    first = signed_in.get("/mutations/").content.decode()
    assert f'href="/mutations/{made[-1].pk}/"' in first
    assert f'href="/mutations/{made[0].pk}/"' not in first
    older = first.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    second = signed_in.get(f"/mutations/{older}").content.decode()
    assert f'href="/mutations/{made[0].pk}/"' in second
    assert results(second).count('<td><a href="/mutations/') == 5


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("outcome=failed", {"failed"}),
        ("collection_id=hubspot:contact", {"hubspot"}),
        ("field=email", {"hubspot"}),
        ("upstream_id=u1", {"failed-u1", "hubspot-u1", "ok-u1"}),
        ("user=ada", {"ok"}),
    ],
)
def test_filters(signed_in: Client, user: User, query: str, expected: set[str]) -> None:
    labelled: dict[int, str] = {}
    for m in journal(2, user=user):
        labelled[m.pk] = "ok" if m.records.get().upstream_id != "u1" else "ok-u1"
    for m in journal(2, outcome=Outcome.FAILED):
        labelled[m.pk] = "failed" if m.records.get().upstream_id != "u1" else "failed-u1"
    for m in journal(2, collection="hubspot:contact", field="email"):
        labelled[m.pk] = "hubspot" if m.records.get().upstream_id != "u1" else "hubspot-u1"
    html = results(signed_in.get(f"/mutations/?{query}").content.decode())
    shown = {label for pk, label in labelled.items() if f'href="/mutations/{pk}/"' in html}
    normalized = {s.removesuffix("-u1") for s in shown} if "upstream_id" not in query else shown
    assert normalized == expected


def test_date_range_filter(signed_in: Client) -> None:
    old, new = journal(2)
    Mutation.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=10))
    since = (timezone.localdate() - timedelta(days=1)).isoformat()
    html = results(signed_in.get(f"/mutations/?since={since}").content.decode())
    assert f'href="/mutations/{new.pk}/"' in html
    assert f'href="/mutations/{old.pk}/"' not in html


def test_stale_pending_reads_and_filters_as_unknown(signed_in: Client, settings: object) -> None:
    (stale,) = journal(1, outcome=Outcome.PENDING)
    Mutation.objects.filter(pk=stale.pk).update(created_at=timezone.now() - timedelta(hours=1))
    html = results(signed_in.get("/mutations/?outcome=unknown").content.decode())
    assert f'href="/mutations/{stale.pk}/"' in html
    assert "outcome unknown" in html


def test_htmx_filter_change_renders_only_the_results(signed_in: Client) -> None:
    journal(1)
    response = signed_in.get(
        "/mutations/?outcome=succeeded",
        headers={"HX-Request": "true", "HX-Target": "history-results"},
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="history-results">')
    assert 'id="history-table"' in html


def chart_address(html: str) -> str:
    """Where the page's chart placeholder asks for the chart (`hx-get`), unescaped."""
    placeholder = html.split('id="history-chart"', 1)[1].split(">", 1)[0]
    return placeholder.split('hx-get="', 1)[1].split('"', 1)[0].replace("&amp;", "&")


def test_the_page_asks_for_its_chart_with_its_filters_once_drawn(signed_in: Client) -> None:
    journal(1)
    html = signed_in.get("/mutations/?outcome=failed&after=5").content.decode()
    assert 'hx-trigger="load"' in html.split('id="history-chart"', 1)[1].split(">", 1)[0]
    assert "<svg" not in html  # the lines do not wait for the counting
    # The chart counts what the filters keep, whatever page of lines is shown.
    assert chart_address(html) == "/mutations/chart/?outcome=failed"


def test_chart_counts_attempts_per_day_by_outcome(signed_in: Client) -> None:
    journal(3)
    journal(2, outcome=Outcome.FAILED)
    html = signed_in.get(chart_address(signed_in.get("/mutations/").content.decode())).content
    assert b": 3 succeeded</title>" in html
    assert b": 2 failed</title>" in html
    failed = signed_in.get("/mutations/chart/?outcome=failed").content.decode()
    assert failed.lstrip().startswith('<figure class="mb-3" id="history-chart">')
    assert ": 2 failed</title>" in failed and "succeeded</title>" not in failed


def test_the_chart_needs_sign_in(client: Client, db: None) -> None:
    response = client.get("/mutations/chart/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_csv_export_parses_and_follows_the_filters(signed_in: Client) -> None:
    journal(3)
    journal(2, outcome=Outcome.FAILED)
    response = signed_in.get("/mutations/export/?format=csv&outcome=failed")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 2
    assert {r["outcome"] for r in rows} == {"failed"}
    assert rows[0]["field"] == "Title"
    assert json.loads(rows[0]["sent"]).startswith("v")


def test_json_export_parses(signed_in: Client, indexed: Indexed, user: User) -> None:
    record = indexed("salesforce:contact")
    send(record, user, {"Title": "Exported"})
    response = signed_in.get("/mutations/export/?format=json")
    entries = json.loads(b"".join(response.streaming_content))
    (entry,) = entries
    change = entry["records"][0]["changes"][0]
    assert (change["field"], change["before"], change["sent"], change["returned"]) == (
        "Title",
        record.data["Title"],
        "Exported",
        "Exported",
    )
    assert entry["user"] == "ada"
    assert "sandbox-token" not in json.dumps(entries)


def test_detail_shows_request_response_and_field_diff(
    signed_in: Client, indexed: Indexed, user: User
) -> None:
    record = indexed("salesforce:contact")
    mutation = send(record, user, {"Title": "Diffed"})
    html = signed_in.get(f"/mutations/{mutation.pk}/").content.decode()
    assert 'id="request-json"' in html and 'id="response-json"' in html
    row = html.split('data-field="Title"', 1)[1].split("</tr>", 1)[0]
    assert record.data["Title"] in row and row.count("Diffed") == 2
    assert f'/{record.upstream_id}/"' in html  # a link to the record
    assert "Revert…" in html and "Retry…" not in html


def test_retry_and_revert_through_the_views(
    signed_in: Client, indexed: Indexed, user: User, sandbox: SandboxServer
) -> None:
    record = indexed("salesforce:contact")
    sandbox.faults.set(Fault(kind="error_500"))
    failed = send(record, user, {"Title": "Via view"})
    response = replay_confirmed(signed_in, f"/mutations/{failed.pk}/retry/")
    retry = Mutation.objects.get(retry_of=failed)
    assert response["Location"] == f"/mutations/{retry.pk}/"
    assert retry.outcome == Outcome.SUCCEEDED
    response = replay_confirmed(signed_in, f"/mutations/{retry.pk}/revert/")
    revert = Mutation.objects.get(revert_of=retry)
    assert revert.outcome == Outcome.SUCCEEDED
    page = signed_in.get(f"/mutations/{retry.pk}/").content.decode()
    assert f'href="/mutations/{failed.pk}/"' in page and f'href="/mutations/{revert.pk}/"' in page


def test_retry_conflict_renders_choices(
    signed_in: Client, indexed: Indexed, user: User, sandbox: SandboxServer
) -> None:
    record = indexed("salesforce:contact")
    sandbox.faults.set(Fault(kind="timeout_504", apply=False))
    unknown = send(record, user, {"Title": "Retry me"})
    sandbox.store.write_as_upstream(
        record.sync_id, record.collection_id, record.upstream_id, {"Title": "Moved on"}
    )
    html = signed_in.get(f"/mutations/{unknown.pk}/retry/").content.decode()
    assert 'data-conflict="Title"' in html and "Moved on" in html
    assert Mutation.objects.count() == 1
    replay_confirmed(
        signed_in,
        f"/mutations/{unknown.pk}/retry/",
        {f"resolve.{record.upstream_id}.Title": "mine"},
    )
    assert Mutation.objects.get(retry_of=unknown).request_body["records"][0]["data"] == {
        "Title": "Retry me"
    }


def test_record_page_shows_its_timeline(signed_in: Client, indexed: Indexed, user: User) -> None:
    record = indexed("salesforce:contact")
    mutation = send(record, user, {"Title": "On the timeline"})
    url = f"/syncs/{record.sync_id}/{record.collection_id}/{record.upstream_id}/"
    timeline = signed_in.get(url).content.decode().split('id="record-timeline"', 1)[1]
    assert f'href="/mutations/{mutation.pk}/"' in timeline
    assert "On the timeline" in timeline


def test_chart_counts_an_attempt_once_however_many_records_match(signed_in: Client) -> None:
    request = MutationRequest(
        kind="update",
        sync_id="s1",
        collection_id="salesforce:contact",
        records=tuple({"upstream_id": f"u{i}", "data": {"Title": "x"}} for i in range(3)),
    )
    journal_start(request=request, user=None, source=Source.COMMAND, seen={})
    html = signed_in.get("/mutations/?field=Title").content.decode()
    assert results(html).count('<td><a href="/mutations/') == 1
    chart = signed_in.get("/mutations/chart/?field=Title").content.decode()
    assert ": 1 pending</title>" in chart


@pytest.mark.parametrize("after", ["²", "-1", "1e9", "abc"])
def test_a_page_key_that_is_not_an_id_shows_the_first_page(signed_in: Client, after: str) -> None:
    response = signed_in.get("/mutations/", {"after": after})
    assert response.status_code == 200
    assert "HX-Request" in response["Vary"]


# The history as a person with grants sees it: only attempts on collections they may see.


@pytest.fixture
def watcher(client: Client, db: None) -> User:
    """Signed in with the viewer role on sync s1's Salesforce collections only."""
    person = User.objects.create_user("watcher")
    Grant.objects.create(
        user=person, role=Role.VIEWER, sync_pattern="s1", collection_pattern="salesforce:*"
    )
    client.force_login(person)
    return person


def journal_across_collections() -> tuple[list[Mutation], list[Mutation]]:
    """Attempts the watcher may see (by ann) and attempts they may not (by bob and cy)."""
    ann, bob, cy = (User.objects.create_user(name) for name in ("ann", "bob", "cy"))
    seen = journal(2, user=ann) + journal(1, user=ann, collection="salesforce:account")
    hidden = journal(2, user=bob, collection="hubspot:contact") + journal(2, user=cy, sync="s2")
    return seen, hidden


def test_the_history_lists_charts_and_suggests_only_what_the_grants_reach(
    client: Client, watcher: User
) -> None:
    seen, hidden = journal_across_collections()
    html = client.get("/mutations/").content.decode()
    for m in seen:
        assert f'href="/mutations/{m.pk}/"' in html
    for m in hidden:
        assert f'href="/mutations/{m.pk}/"' not in html
    chart = client.get("/mutations/chart/").content.decode()
    assert ": 3 succeeded</title>" in chart  # the chart counts only what is shown
    users = html.split('<datalist id="users">', 1)[1].split("</datalist>", 1)[0]
    assert '"ann"' in users and '"bob"' not in users and '"cy"' not in users
    # A filter naming a hidden collection finds nothing rather than the hidden attempts.
    html = results(client.get("/mutations/?collection_id=hubspot:contact").content.decode())
    assert not any(f'href="/mutations/{m.pk}/"' in html for m in hidden)


def test_the_exports_hold_only_what_the_grants_reach(client: Client, watcher: User) -> None:
    seen, _ = journal_across_collections()
    response = client.get("/mutations/export/?format=csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert sorted(int(r["mutation_id"]) for r in rows) == sorted(m.pk for m in seen)
    response = client.get("/mutations/export/?format=json")
    entries = json.loads(b"".join(response.streaming_content))
    assert sorted(e["id"] for e in entries) == sorted(m.pk for m in seen)


def test_no_grant_no_history(client: Client, db: None) -> None:
    journal_across_collections()
    client.force_login(User.objects.create_user("nobody"))
    html = results(client.get("/mutations/").content.decode())
    assert 'href="/mutations/' not in html
    rows = list(
        csv.DictReader(
            io.StringIO(b"".join(client.get("/mutations/export/").streaming_content).decode())
        )
    )
    assert rows == []


def history_queries(client: Client) -> int:
    with CaptureQueriesContext(connection) as queries:
        client.get("/mutations/?outcome=succeeded")
        b"".join(client.get("/mutations/export/?format=json").streaming_content)
    # The grant's prefix pattern is in the SQL itself, not checked row by row in Python.
    assert any("salesforce:%" in q["sql"] for q in queries)
    return len(queries)


def test_the_grants_filter_in_sql_whatever_they_match(client: Client, watcher: User) -> None:
    journal(3)
    few = history_queries(client)
    # Many more matching attempts and more grants cost no more queries: one filter in SQL.
    journal(40)
    journal(10, collection="salesforce:account")
    for n in range(5):
        Grant.objects.create(user=watcher, role=Role.VIEWER, sync_pattern=f"other-{n}")
    assert history_queries(client) == few, few


def test_the_detail_offers_only_the_buttons_the_person_may_use(
    client: Client, indexed: Indexed, user: User, sandbox: SandboxServer
) -> None:
    record = indexed("salesforce:contact")
    applied = send(record, user, {"Title": "Revertible"})
    unknown = send(record, user, {"Title": "Unknown"})
    Mutation.objects.filter(pk=unknown.pk).update(outcome=Outcome.UNKNOWN)
    for role, shown in ((Role.VIEWER, False), (Role.EDITOR, True)):
        person = User.objects.create_user(role.label.replace(" ", "-"))
        Grant.objects.create(user=person, role=role)
        client.force_login(person)
        html = client.get(f"/mutations/{applied.pk}/").content.decode()
        assert (">Revert…<" in html) is shown
        html = client.get(f"/mutations/{unknown.pk}/").content.decode()
        assert (">Retry…<" in html) is shown
        assert (">Check again<" in html) is shown


def index_people(n: int) -> None:
    IndexedRecord.objects.all().delete()
    IndexedRecord.objects.bulk_create(
        IndexedRecord(
            sync_id="s1",
            collection_id="salesforce:contact",
            upstream_id=f"u{i}",
            data={"FirstName": f"<i>Ada{i}</i>", "LastName": "Lovelace"},
        )
        for i in range(n)
    )


def page_queries_and_html(client: Client) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        html = client.get("/mutations/").content.decode()
    return len(queries.captured_queries), html


def test_history_shows_record_titles_in_queries_that_do_not_grow_with_the_page(
    signed_in: Client, user: User
) -> None:
    journal(2, user=user)
    index_people(2)
    few, html = page_queries_and_html(signed_in)
    assert ">&lt;i&gt;Ada1&lt;/i&gt; Lovelace</a>" in html
    journal(40, user=user)  # u0 … u39, most of them not indexed
    index_people(30)
    many, html = page_queries_and_html(signed_in)
    assert ">&lt;i&gt;Ada29&lt;/i&gt; Lovelace</a>" in html
    assert 'title="u35">u35</a>' in html  # not indexed: the id
    assert many == few


def test_mutation_detail_names_the_record_by_its_title(signed_in: Client, user: User) -> None:
    (entry,) = journal(1, user=user)
    index_people(1)
    html = signed_in.get(f"/mutations/{entry.pk}/").content.decode()
    assert 'class="record-title" href="/syncs/s1/salesforce:contact/u0/">&lt;i&gt;Ada0' in html


def test_a_group_of_attempts_is_one_line_that_opens(signed_in: Client, user: User) -> None:
    """A bulk job's batches share a group id: the history shows the group once, with a link
    that lists its attempts."""
    alone = journal(1, user=user)[0]
    group = uuid.uuid4()
    batches = journal(3, user=user, group_id=group)

    listed = results(signed_in.get("/mutations/").content.decode())

    assert f'href="/mutations/{alone.pk}/"' in listed
    assert f'href="/mutations/{batches[-1].pk}/"' in listed
    assert f'href="/mutations/{batches[0].pk}/"' not in listed
    assert "+2 in its group" in listed and f"group={group}" in listed

    opened = results(signed_in.get(f"/mutations/?group={group}").content.decode())

    assert 'id="history-group"' in opened
    assert all(f'href="/mutations/{m.pk}/"' in opened for m in batches)
    assert f'href="/mutations/{alone.pk}/"' not in opened


def test_the_filters_show_a_bad_date_beside_its_field_and_keep_what_was_typed(
    signed_in: Client,
) -> None:
    response = signed_in.get("/mutations/", {"since": "someday", "user": "<b>ann"})
    assert response.status_code == 200
    html = response.content.decode()
    since = html.split('id="div_id_since"', 1)[1].split("</div>\n</div>", 1)[0]
    assert 'class="form-control is-invalid"' in since
    assert 'aria-describedby="id_since_error"' in since
    assert "Enter a valid date." in since
    assert 'value="&lt;b&gt;ann"' in html and "<b>ann" not in html
    assert '<label class="form-label" for="id_outcome">Outcome</label>' in html
    assert '<select name="outcome" class="form-select" id="id_outcome">' in html
