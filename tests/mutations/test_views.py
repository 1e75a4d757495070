"""History pages: filters in the address, keyset pages, chart, exports, detail, actions."""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from sequin_admin.mutations.journal import journal_start
from sequin_admin.mutations.models import Mutation, Outcome, Source
from sequin_admin.mutations.selectors import PAGE_SIZE
from sequin_admin.sandbox.faults import Fault
from sequin_admin.sandbox.server import SandboxServer
from sequin_admin.sequin import MutationRequest
from tests.helpers import Indexed, send


def journal(
    n: int,
    *,
    user: User | None = None,
    collection: str = "salesforce:contact",
    field: str = "Title",
    outcome: Outcome = Outcome.SUCCEEDED,
) -> list[Mutation]:
    """Entries written through the journal, without calling Sequin."""
    made = []
    for i in range(n):
        request = MutationRequest(
            kind="update",
            sync_id="s1",
            collection_id=collection,
            records=({"upstream_id": f"u{i}", "data": {field: f"v{i}"}},),
        )
        m = journal_start(request=request, user=user, source=Source.FORM, seen={})
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
    assert "<svg" in html


def test_chart_counts_attempts_per_day_by_outcome(signed_in: Client) -> None:
    journal(3)
    journal(2, outcome=Outcome.FAILED)
    html = signed_in.get("/mutations/").content.decode()
    assert ": 3 succeeded</title>" in html
    assert ": 2 failed</title>" in html


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
    assert "Revert" in html and ">Retry<" not in html


def test_retry_and_revert_through_the_views(
    signed_in: Client, indexed: Indexed, user: User, sandbox: SandboxServer
) -> None:
    record = indexed("salesforce:contact")
    sandbox.faults.set(Fault(kind="error_500"))
    failed = send(record, user, {"Title": "Via view"})
    response = signed_in.post(f"/mutations/{failed.pk}/retry/")
    retry = Mutation.objects.get(retry_of=failed)
    assert response["Location"] == f"/mutations/{retry.pk}/"
    assert retry.outcome == Outcome.SUCCEEDED
    response = signed_in.post(f"/mutations/{retry.pk}/revert/")
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
    html = signed_in.post(f"/mutations/{unknown.pk}/retry/").content.decode()
    assert 'data-conflict="Title"' in html and "Moved on" in html
    signed_in.post(
        f"/mutations/{unknown.pk}/retry/",
        {"action": "resolve", f"resolve.{record.upstream_id}.Title": "mine"},
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
    assert ": 1 pending</title>" in html
    assert results(html).count('<td><a href="/mutations/') == 1


@pytest.mark.parametrize("after", ["²", "-1", "1e9", "abc"])
def test_a_page_key_that_is_not_an_id_shows_the_first_page(signed_in: Client, after: str) -> None:
    response = signed_in.get("/mutations/", {"after": after})
    assert response.status_code == 200
    assert "HX-Request" in response["Vary"]


def test_a_group_of_attempts_is_one_line_that_opens(signed_in: Client, user: User) -> None:
    """A bulk job's batches share a group id: the history shows the group once, with a link
    that lists its attempts."""
    alone = journal(1, user=user)[0]
    batches = journal(3, user=user)
    group = uuid.uuid4()
    Mutation.objects.filter(pk__in=[m.pk for m in batches]).update(group_id=group)

    listed = results(signed_in.get("/mutations/").content.decode())

    assert f'href="/mutations/{alone.pk}/"' in listed
    assert f'href="/mutations/{batches[-1].pk}/"' in listed
    assert f'href="/mutations/{batches[0].pk}/"' not in listed
    assert "+2 in its group" in listed and f"group={group}" in listed

    opened = results(signed_in.get(f"/mutations/?group={group}").content.decode())

    assert 'id="history-group"' in opened
    assert all(f'href="/mutations/{m.pk}/"' in opened for m in batches)
    assert f'href="/mutations/{alone.pk}/"' not in opened
