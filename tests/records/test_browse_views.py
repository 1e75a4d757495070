"""Sync and collection pages: first visit fills the index; search, filters, columns, refresh."""

from __future__ import annotations

import csv
import io
import json
import logging
import re
from typing import Any
from urllib.parse import urlencode

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.db import connection
from django.http import QueryDict
from django.test import Client
from django.test.utils import CaptureQueriesContext

from sequin_admin.access.models import Grant, Role
from sequin_admin.records import export, listing
from sequin_admin.records.listing import ListingQuery, index_matching, index_page
from sequin_admin.records.models import ColumnChoice, IndexedCollection, IndexedRecord
from sequin_admin.records.syncs import sync_name
from sequin_admin.sandbox.demo_data import HUBSPOT_SYNC_ID, SALESFORCE_SYNC_ID, STRIPE_SYNC_ID
from sequin_admin.sandbox.faults import Fault
from sequin_admin.sandbox.server import SandboxServer
from tests.records.leads import LEADS, SYNC, make_leads

COMPANIES = f"/syncs/{HUBSPOT_SYNC_ID}/hubspot:company/"


def column_labels(html: str) -> list[str]:
    """The text of each column header of the records table."""
    header = html.split("<thead", 1)[1].split("</thead>", 1)[0]
    cells = re.findall(r"<th[^>]*>(.*?)</th>", header, flags=re.S)
    return [re.sub(r"<span[^>]*aria-hidden[^>]*>.*?</span>|<[^>]+>", "", c).strip() for c in cells]


def test_sync_page_lists_collections_with_counts(signed_in: Client, sandbox: SandboxServer) -> None:
    signed_in.get(COMPANIES)
    html = signed_in.get(f"/syncs/{HUBSPOT_SYNC_ID}/").content.decode()
    assert "hubspot:company" in html and "hubspot:contact" in html
    count = IndexedCollection.objects.get(collection_id="hubspot:company").record_count
    assert f">{count}<" in html
    assert "not listed yet" in html  # hubspot:contact was never opened


def test_unknown_sync_is_a_404_page_with_a_message(
    signed_in: Client, sandbox: SandboxServer
) -> None:
    response = signed_in.get("/syncs/00000000-0000-0000-0000-000000000000/")
    assert response.status_code == 404
    assert b"Not found upstream" in response.content


def test_first_visit_fills_the_index_and_shows_telling_columns(
    signed_in: Client, sandbox: SandboxServer
) -> None:
    html = signed_in.get(COMPANIES).content.decode()
    assert IndexedRecord.objects.filter(collection_id="hubspot:company").exists()
    header = column_labels(html)
    assert "name" in header
    assert "hs_object_id" not in header  # read-only ids are not "telling"


def test_search_as_htmx_returns_only_the_results_fragment(
    signed_in: Client, sandbox: SandboxServer
) -> None:
    signed_in.get(COMPANIES)
    target = IndexedRecord.objects.filter(collection_id="hubspot:company").order_by("pk")[3]
    response = signed_in.get(
        COMPANIES, {"q": target.upstream_id}, headers={"HX-Request": "true", "HX-Target": "results"}
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="results"')
    assert target.upstream_id in html
    assert html.count("<tr") == 2  # the header and the one match


def test_chosen_columns_come_from_the_address(signed_in: Client, sandbox: SandboxServer) -> None:
    html = signed_in.get(COMPANIES + "?col=domain&col=city").content.decode()
    header = column_labels(html)
    assert "domain" in header and "city" in header
    assert "name" not in header


def test_deleted_filter(signed_in: Client, sandbox: SandboxServer) -> None:
    signed_in.get(COMPANIES)
    gone = IndexedRecord.objects.filter(collection_id="hubspot:company").first()
    assert gone is not None
    gone.deleted = True
    gone.save()
    live = signed_in.get(COMPANIES + f"?q={gone.upstream_id}").content.decode()
    deleted = signed_in.get(COMPANIES + f"?q={gone.upstream_id}&deleted=deleted").content.decode()
    link = f'/{gone.upstream_id}/"'
    assert link not in live
    assert link in deleted


def test_refresh_with_htmx_reports_progress_then_triggers_the_results(
    signed_in: Client, sandbox: SandboxServer
) -> None:
    signed_in.get(COMPANIES)
    response = signed_in.post(COMPANIES + "refresh/", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "records-refreshed" in json.loads(response["HX-Trigger"])
    assert b"records \xc2\xb7 refreshed" in response.content


def test_refresh_without_js_redirects_back(signed_in: Client, sandbox: SandboxServer) -> None:
    response = signed_in.post(COMPANIES + "refresh/")
    assert response.status_code == 302
    assert response["Location"] == COMPANIES


def test_refresh_failure_shows_the_message(signed_in: Client, sandbox: SandboxServer) -> None:
    sandbox.faults.set(Fault(kind="garbage", match="/v1/records", count=0))
    response = signed_in.post(COMPANIES + "refresh/", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert b"Sequin answered with something unexpected" in response.content


def test_first_visit_when_sequin_fails_shows_the_page_with_a_message(
    signed_in: Client, sandbox: SandboxServer
) -> None:
    sandbox.faults.set(Fault(kind="rate_limit_429", match="/v1/records", count=0, retry_after=1))
    response = signed_in.get(f"/syncs/{SALESFORCE_SYNC_ID}/salesforce:account/")
    assert response.status_code == 502
    assert b"Rate limited" in response.content


def test_a_collection_the_sync_lacks_is_a_404_and_writes_nothing(
    signed_in: Client, sandbox: SandboxServer
) -> None:
    response = signed_in.get(f"/syncs/{HUBSPOT_SYNC_ID}/hubspot:nothing-here/")
    assert response.status_code == 404
    assert not IndexedCollection.objects.exists()


def test_pages_that_answer_a_fragment_too_vary_on_hx_request(
    signed_in: Client, sandbox: SandboxServer
) -> None:
    """Back after a live search must not show the bare fragment a browser cached."""
    response = signed_in.get(COMPANIES, {"q": "a"})
    assert "HX-Request" in response["Vary"]


def test_a_search_of_thousands_of_words_is_answered(
    signed_in: Client, sandbox: SandboxServer
) -> None:
    words = " ".join(f"w{i}" for i in range(2000))
    response = signed_in.get(COMPANIES, {"q": words})
    assert response.status_code == 200
    assert b"No records" in response.content


def test_an_error_under_htmx_goes_to_the_alert_region_with_status_200(
    signed_in: Client, sandbox: SandboxServer
) -> None:
    signed_in.get(COMPANIES)
    sandbox.faults.set(Fault(kind="rate_limit_429", match="/v1/records", count=0, retry_after=1))
    response = signed_in.post(
        f"{COMPANIES}refresh/", headers={"HX-Request": "true", "HX-Target": "refresh-status"}
    )
    assert response.status_code == 200
    assert response["HX-Retarget"] == "#sequin-alerts"
    assert b"Rate limited" in response.content
    assert b"Nothing was changed upstream" in response.content


# What a person's grants let them see of the syncs and collections.


def signed_in_with(client: Client, *grants: tuple[str, str]) -> Client:
    """Signed in as a new user with the viewer role on each (sync, collection) pattern pair."""
    person = User.objects.create_user("limited")
    for sync_pattern, collection_pattern in grants:
        Grant.objects.create(
            user=person,
            role=Role.VIEWER,
            sync_pattern=sync_pattern,
            collection_pattern=collection_pattern,
        )
    client.force_login(person)
    return client


def test_no_grant_sees_no_sync_and_no_collection(
    client: Client, sandbox: SandboxServer, db: None
) -> None:
    signed_in_with(client)
    html = client.get("/").content.decode()
    assert HUBSPOT_SYNC_ID not in html and SALESFORCE_SYNC_ID not in html
    assert "no role on any sync yet" in html
    assert client.get(f"/syncs/{HUBSPOT_SYNC_ID}/").status_code == 403
    assert client.get(COMPANIES).status_code == 403
    assert not IndexedCollection.objects.exists()  # a refused page reads nothing from Sequin


def test_a_prefix_grant_shows_only_its_syncs_and_collections(
    client: Client, sandbox: SandboxServer, db: None
) -> None:
    signed_in_with(client, ("*", "hubspot:comp*"))
    html = client.get("/").content.decode()
    assert f"/syncs/{HUBSPOT_SYNC_ID}/hubspot:company/" in html
    assert "hubspot:contact" not in html
    assert SALESFORCE_SYNC_ID not in html and STRIPE_SYNC_ID not in html
    html = client.get(f"/syncs/{HUBSPOT_SYNC_ID}/").content.decode()
    assert "hubspot:company" in html and "hubspot:contact" not in html
    assert client.get(COMPANIES).status_code == 200
    assert client.get(f"/syncs/{HUBSPOT_SYNC_ID}/hubspot:contact/").status_code == 403


def test_a_sync_grant_shows_that_sync_whole(
    client: Client, sandbox: SandboxServer, db: None
) -> None:
    signed_in_with(client, (STRIPE_SYNC_ID, "*"))
    html = client.get("/").content.decode()
    assert STRIPE_SYNC_ID in html and HUBSPOT_SYNC_ID not in html
    assert client.get(f"/syncs/{HUBSPOT_SYNC_ID}/").status_code == 403
    assert client.get(f"/syncs/{STRIPE_SYNC_ID}/").status_code == 200


def test_a_sync_page_hides_the_collections_out_of_reach(
    client: Client, sandbox: SandboxServer, db: None
) -> None:
    signed_in_with(client, ("*", "salesforce:*"))
    assert HUBSPOT_SYNC_ID not in client.get("/").content.decode()
    html = client.get(f"/syncs/{HUBSPOT_SYNC_ID}/").content.decode()
    assert "hubspot:company" not in html and "hubspot:contact" not in html


# Sort, filters, counts, pages and export on the collection page, over made-up leads.

LEADS_PAGE = f"/syncs/{SYNC}/{LEADS}/"


@pytest.fixture
def leads(db: None) -> IndexedCollection:
    make_leads(120)
    return IndexedCollection.objects.get(collection_id=LEADS)


def listed_ids(html: str) -> list[str]:
    return re.findall(r'<a class="row-link" href="[^"]*/(lead-\d+)/"', html)


def listing_of(**params: Any) -> ListingQuery:
    return ListingQuery.from_params(QueryDict(urlencode(params, doseq=True)))


def headers_by_label(html: str) -> dict[str, str]:
    """Each column header's label and its aria-sort."""
    header = html.split("<thead", 1)[1].split("</thead>", 1)[0]
    cells = re.findall(r'<th[^>]*aria-sort="(\w+)"[^>]*>(.*?)</th>', header, flags=re.S)
    return {
        re.sub(r"<span[^>]*aria-hidden[^>]*>.*?</span>|<[^>]+>", "", label).strip(): aria
        for aria, label in cells
    }


def test_a_header_sorts_by_its_column_and_again_reverses(
    signed_in: Client, leads: IndexedCollection
) -> None:
    html = signed_in.get(LEADS_PAGE, {"col": ["Name", "Status"]}).content.decode()
    assert headers_by_label(html) == {
        "Record": "none",
        "Name": "none",
        "Status": "none",
        "updated": "descending",
    }
    assert "?col=Name&amp;col=Status&amp;sort=Name" in html
    ascending = signed_in.get(LEADS_PAGE, {"col": ["Name", "Status"], "sort": "Name"})
    html = ascending.content.decode()
    assert headers_by_label(html)["Name"] == "ascending"
    assert "sort=-Name" in html  # clicking again reverses
    expected = index_page(sync_id=SYNC, collection_id=LEADS, query=listing_of(sort="Name"))
    assert listed_ids(html) == [r.upstream_id for r in expected.rows]
    descending = signed_in.get(LEADS_PAGE, {"col": ["Name"], "sort": "-Name"}).content.decode()
    assert headers_by_label(descending)["Name"] == "descending"
    assert "▼" in descending


def test_the_panel_offers_few_valued_fields_with_counts_and_chips_remove_filters(
    signed_in: Client, leads: IndexedCollection
) -> None:
    html = signed_in.get(LEADS_PAGE, {"f.Status.eq": "open", "sort": "Name"}).content.decode()
    opens = IndexedRecord.objects.filter(
        collection_id=LEADS, deleted=False, data__Status="open"
    ).count()
    assert re.search(
        rf'name="f.Status.eq" value="open"[^>]* checked>.*?open <span[^>]*>\({opens}\)', html
    )
    assert 'name="f.Address.city.eq" value="lima"' in html  # nested keys too
    assert f'id="match-count" class="fw-semibold">{opens} records' in html
    assert 'name="sort" value="Name"' in html  # a change in the panel keeps the order
    chip = re.search(r'class="[^"]*filter-chip" href="([^"]*)"[^>]*>Status = open', html)
    assert chip is not None
    assert "f.Status" not in chip.group(1) and "sort=Name" in chip.group(1)
    rows = listed_ids(html)
    assert rows and all(
        IndexedRecord.objects.get(upstream_id=r).data["Status"] == "open" for r in rows
    )


def test_filters_the_panel_does_not_show_stay_in_the_form(
    signed_in: Client, leads: IndexedCollection
) -> None:
    html = signed_in.get(LEADS_PAGE, {"f.Note.contains": "urgent"}).content.decode()
    assert '<input type="hidden" name="f.Note.contains" value="urgent">' in html
    assert "Note contains urgent" in html


def test_the_condition_row_becomes_a_filter_in_the_address(
    signed_in: Client, leads: IndexedCollection
) -> None:
    response = signed_in.get(
        LEADS_PAGE, {"q": "calm", "cf": "Amount", "cop": "gte", "cv": "500", "after": "1.2"}
    )
    assert response.status_code == 302
    assert response["Location"] == f"{LEADS_PAGE}?q=calm&f.Amount.gte=500"
    empty = signed_in.get(LEADS_PAGE, {"cf": "Name", "cop": "empty", "cv": ""})
    assert empty["Location"] == f"{LEADS_PAGE}?f.Name.empty=1"


def test_a_large_count_is_shown_as_about(
    signed_in: Client, leads: IndexedCollection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(listing, "COUNT_LIMIT", 10)
    html = signed_in.get(LEADS_PAGE, {"f.Active.eq": "false"}).content.decode()
    assert re.search(r'id="match-count"[^>]*>about \d+ records', html)


def test_first_and_last_page_links(signed_in: Client, leads: IndexedCollection) -> None:
    params = {"sort": "-Amount", "f.Status.eq": ["open", "closed"]}
    first = signed_in.get(LEADS_PAGE, params).content.decode()
    assert 'rel="last"' in first and 'rel="first"' not in first
    last_link = re.search(r'href="([^"]*)" rel="last"', first)
    assert last_link is not None and "page=last" in last_link.group(1)
    last = signed_in.get(LEADS_PAGE, {**params, "page": "last"}).content.decode()
    assert 'rel="next"' not in last and 'rel="first"' in last
    first_link = re.search(r'href="([^"]*)" rel="first"', last)
    assert first_link is not None
    assert "page=" not in first_link.group(1) and "before=" not in first_link.group(1)
    everything = index_matching(sync_id=SYNC, collection_id=LEADS, query=listing_of(**params))
    assert listed_ids(last) == [r.upstream_id for r in everything][-len(listed_ids(last)) :]


@pytest.mark.parametrize(
    "params",
    [
        {"f.Amount.gte": "lots", "sort": "x;y", "after": "zzz"},
        {"f.Nope.eq": "1", "sort": "Nope"},
        {"f.Status.regex": "o.*", "before": "%%%"},
        {"sort": "Name", "after": "WyJhIiwgImIiLCAzXQ"},  # a key of the wrong shape
        {"page": "999", "deleted": "maybe"},
    ],
)
def test_bad_params_are_a_page_with_a_message_never_a_500(
    signed_in: Client, leads: IndexedCollection, params: dict[str, str]
) -> None:
    response = signed_in.get(LEADS_PAGE, params)
    assert response.status_code == 200
    html = response.content.decode()
    assert len(listed_ids(html)) == 50
    if any(k.startswith("f.") or k == "sort" for k in params) and "after" not in params:
        assert "listing-problem" in html


def test_a_sorted_filtered_fragment_for_htmx(signed_in: Client, leads: IndexedCollection) -> None:
    response = signed_in.get(
        LEADS_PAGE,
        {"sort": "Amount", "f.Status.eq": "lost"},
        headers={"HX-Request": "true", "HX-Target": "results"},
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="results"')
    assert "filter-chip" in html and 'aria-sort="ascending"' in html
    assert "HX-Request" in response["Vary"]


def page_queries(client: Client, params: dict[str, Any]) -> int:
    client.get(LEADS_PAGE, params)  # the first use builds indexes and caches the choices
    with CaptureQueriesContext(connection) as queries:
        response = client.get(LEADS_PAGE, params)
    assert response.status_code == 200
    return len(queries)


def deep_key(params: dict[str, Any], pages: int) -> str:
    q = listing_of(**params)
    for _ in range(pages):
        page = index_page(sync_id=SYNC, collection_id=LEADS, query=q)
        assert page.next_key
        q = listing_of(**params, after=page.next_key)
    assert q.after
    return q.after


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"sort": "Name"},
        {"sort": "-Amount", "f.Status.eq": ["open", "lost"]},
        {"f.Active.eq": "true", "q": "calm"},
    ],
)
def test_list_page_queries_do_not_grow_with_the_index_or_the_page(
    signed_in: Client, db: None, params: dict[str, Any]
) -> None:
    make_leads(300)
    small = [page_queries(signed_in, params), page_queries(signed_in, params | {"page": "last"})]
    make_leads(3000, start=300)
    deep = deep_key(params, 3)
    large = [
        page_queries(signed_in, params),
        page_queries(signed_in, params | {"page": "last"}),
        page_queries(signed_in, params | {"after": deep}),
    ]
    # A sorted page that crosses from values into nulls takes one query more (two ranges of
    # the index); ten times the rows and a deep page take no more than the small index's.
    assert max(large) <= max(small) <= min(small + large) + 1, (small, large)


def exported(client: Client, kind: str, params: dict[str, Any]) -> str:
    response = client.get(f"{LEADS_PAGE}-/export/{kind}/", params)
    assert response.status_code == 200
    assert response.streaming
    return b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]


EXPORTED = {"sort": "-Name", "f.Status.eq": ["open", "working"], "q": "calm"}


def test_export_csv_is_what_the_page_lists_in_its_order(
    signed_in: Client, leads: IndexedCollection
) -> None:
    text = exported(signed_in, "csv", {**EXPORTED, "col": ["Name", "Address"], "after": "x"})
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["upstream_id", "Name", "Address", "deleted"]
    listed = list(index_matching(sync_id=SYNC, collection_id=LEADS, query=listing_of(**EXPORTED)))
    assert [r[0] for r in rows[1:]] == [r.upstream_id for r in listed]
    first = listed[0]
    assert rows[1][1] == (first.data.get("Name") or "")
    assert json.loads(rows[1][2]) == first.data["Address"]


def test_export_json_is_what_the_page_lists_with_every_key(
    signed_in: Client, leads: IndexedCollection
) -> None:
    items = json.loads(exported(signed_in, "json", EXPORTED))
    listed = list(index_matching(sync_id=SYNC, collection_id=LEADS, query=listing_of(**EXPORTED)))
    assert [i["upstream_id"] for i in items] == [r.upstream_id for r in listed]
    assert [i["data"] for i in items] == [r.data for r in listed]


def test_export_reads_a_chunk_at_a_time(
    signed_in: Client, leads: IndexedCollection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Memory flat in the number of rows: every read of records is one bounded page."""
    monkeypatch.setattr(export, "EXPORT_CHUNK", 10)
    with CaptureQueriesContext(connection) as queries:
        items = json.loads(exported(signed_in, "json", {"sort": "Amount"}))
    reads = [
        q["sql"] for q in queries.captured_queries if 'FROM "records_indexedrecord"' in q["sql"]
    ]
    assert len(items) == leads.record_count
    assert len(reads) >= len(items) // 10
    limits = [re.search(r"LIMIT (\d+)", sql) for sql in reads]
    assert all(m and int(m.group(1)) <= 11 for m in limits), reads


def test_export_guards_cells_against_formulas(signed_in: Client, leads: IndexedCollection) -> None:
    IndexedRecord.objects.filter(upstream_id="lead-00001").update(
        upstream_id="=cmd|' /C calc'!A0",
        data={"Name": '=HYPERLINK("http://evil.example","x")', "@key": "+1", "Amount": -5},
    )
    leads.field_kinds = {**leads.field_kinds, "@key": "text"}
    leads.save()
    text = exported(signed_in, "csv", {"col": ["Name", "@key", "Amount"]})
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][2] == "'@key"
    evil = next(r for r in rows if "calc" in r[0])
    assert evil == [
        "'=cmd|' /C calc'!A0",
        '\'=HYPERLINK("http://evil.example","x")',
        "'+1",
        "-5",
        "false",
    ]


def test_export_of_an_unknown_format_or_collection_is_a_404(
    signed_in: Client, leads: IndexedCollection
) -> None:
    assert signed_in.get(f"{LEADS_PAGE}export/xlsx/").status_code == 404
    assert signed_in.get(f"/syncs/{SYNC}/test:none/-/export/csv/").status_code == 404


def test_a_live_update_pushes_the_address_without_the_empty_condition_row(
    signed_in: Client, leads: IndexedCollection
) -> None:
    response = signed_in.get(
        LEADS_PAGE,
        {"q": "calm", "cf": "", "cop": "contains", "cv": ""},
        headers={"HX-Request": "true", "HX-Target": "results"},
    )
    assert response.status_code == 200
    assert response["HX-Push-Url"] == f"{LEADS_PAGE}?q=calm"


CONTACTS = f"/syncs/{SALESFORCE_SYNC_ID}/salesforce:contact/"


def test_rows_read_as_records_with_their_titles_linked_and_values_escaped(
    signed_in: Client, sandbox: SandboxServer
) -> None:
    signed_in.get(CONTACTS)
    row = IndexedRecord.objects.filter(collection_id="salesforce:contact").order_by("pk")[0]
    row.data = {
        **row.data,
        "FirstName": "<b>Ada</b>",
        "LastName": "Lovelace",
        "Title": "<script>alert(1)</script>",
    }
    row.save()
    html = signed_in.get(
        CONTACTS, {"q": row.upstream_id, "col": ["Title", "HasOptedOutOfEmail"]}
    ).content.decode()
    href = f"{CONTACTS}{row.upstream_id}/"
    link = f'<a class="row-link" href="{href}">&lt;b&gt;Ada&lt;/b&gt; Lovelace</a>'
    assert link in html
    assert "<td>&lt;script&gt;alert(1)&lt;/script&gt;</td>" in html
    assert "<script>alert" not in html and "<b>Ada" not in html
    assert 'class="visually-hidden">' in html  # HasOptedOutOfEmail as a mark
    # The breadcrumbs name the sync, not its id.
    assert '">Acme Salesforce (production)</a></li>' in html


def test_the_sync_name_costs_no_call_to_sequin_per_page(
    signed_in: Client, sandbox: SandboxServer, caplog: pytest.LogCaptureFixture
) -> None:
    signed_in.get(COMPANIES)
    sandbox.wait_idle()
    cache.clear()
    with caplog.at_level(logging.INFO, logger="sequin_admin.sandbox"):
        caplog.clear()
        for _ in range(4):
            html = signed_in.get(COMPANIES).content.decode()
            assert '">Acme HubSpot</a></li>' in html
        sandbox.wait_idle()
    asked = [r for r in caplog.records if "/v1/syncs" in r.getMessage()]
    assert len(asked) == 1  # the first view lists the syncs once; the others read the cache


def test_sync_name_falls_back_to_the_id_when_sequin_cannot_list_syncs(
    signed_in: Client, sandbox: SandboxServer
) -> None:
    cache.clear()
    sandbox.faults.set(Fault(kind="garbage", match="/v1/syncs", count=0))
    assert sync_name(sync_id=HUBSPOT_SYNC_ID) == HUBSPOT_SYNC_ID
    sandbox.faults.clear()
    assert sync_name(sync_id=HUBSPOT_SYNC_ID) == "Acme HubSpot"


def test_the_persons_timezone_from_the_browser_shows_the_times(
    signed_in: Client, sandbox: SandboxServer
) -> None:
    signed_in.get(CONTACTS)
    row = IndexedRecord.objects.filter(collection_id="salesforce:contact").order_by("pk")[0]
    row.data = {**row.data, "Description": "2024-07-01T00:00:00Z"}
    row.save()
    query = {"q": row.upstream_id, "col": "Description"}
    assert ">2024-07-01 00:00 UTC</time>" in signed_in.get(CONTACTS, query).content.decode()
    signed_in.cookies["tz"] = "America/New_York"
    assert ">2024-06-30 20:00 EDT</time>" in signed_in.get(CONTACTS, query).content.decode()
    signed_in.cookies["tz"] = "../../etc/passwd"
    assert ">2024-07-01 00:00 UTC</time>" in signed_in.get(CONTACTS, query).content.decode()


def test_columns_are_remembered_per_person_and_collection(
    signed_in: Client, sandbox: SandboxServer, user: User
) -> None:
    signed_in.get(COMPANIES + "?col=country&col=annualrevenue")
    labels = list(headers_by_label(signed_in.get(COMPANIES).content.decode()))
    assert labels == ["Record", "country", "annualrevenue", "updated"]
    other = Client()
    bea = User.objects.create_user("bea")
    Grant.objects.create(user=bea, role=Role.VIEWER)
    other.force_login(bea)
    labels = list(headers_by_label(other.get(COMPANIES).content.decode()))
    assert "name" in labels and "annualrevenue" not in labels
    assert ColumnChoice.objects.get(user=user).columns == ["country", "annualrevenue"]
    # A live search sends the columns again: nothing more is written.
    with CaptureQueriesContext(connection) as queries:
        signed_in.get(COMPANIES, {"q": "a", "col": ["country", "annualrevenue"]})
    assert not [q for q in queries.captured_queries if "records_columnchoice" in q["sql"]][1:]


def test_the_records_table_scrolls_in_its_own_focusable_labelled_box(
    signed_in: Client, sandbox: SandboxServer
) -> None:
    html = signed_in.get(COMPANIES).content.decode()
    assert (
        '<div class="table-responsive table-scroll mb-2" tabindex="0" role="region" '
        'aria-label="Records of hubspot:company">' in html
    )
