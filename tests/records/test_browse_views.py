"""Sync and collection pages: first visit fills the index; search, filters, columns, refresh."""

from __future__ import annotations

import json
import logging

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from sequin_admin.records.models import ColumnChoice, IndexedCollection, IndexedRecord
from sequin_admin.records.syncs import sync_name
from sequin_admin.sandbox.demo_data import HUBSPOT_SYNC_ID, SALESFORCE_SYNC_ID
from sequin_admin.sandbox.faults import Fault
from sequin_admin.sandbox.server import SandboxServer

COMPANIES = f"/syncs/{HUBSPOT_SYNC_ID}/hubspot:company/"


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
    header = html.split("<thead>", 1)[1].split("</thead>", 1)[0]
    assert "<th>name</th>" in header
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
    header = html.split("<thead>", 1)[1].split("</thead>", 1)[0]
    assert "<th>domain</th>" in header and "<th>city</th>" in header
    assert "<th>name</th>" not in header


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
    header = signed_in.get(COMPANIES).content.decode().split("<thead>", 1)[1].split("</thead>")[0]
    assert "<th>country</th><th>annualrevenue</th>" in header
    other = Client()
    other.force_login(User.objects.create_user("bea"))
    header = other.get(COMPANIES).content.decode().split("<thead>", 1)[1].split("</thead>")[0]
    assert "<th>name</th>" in header and "<th>annualrevenue</th>" not in header
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
