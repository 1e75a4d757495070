"""Sync and collection pages: first visit fills the index; search, filters, columns, refresh."""

from __future__ import annotations

import json
import re

from django.test import Client

from sequin_admin.records.models import IndexedCollection, IndexedRecord
from sequin_admin.sandbox.demo_data import HUBSPOT_SYNC_ID, SALESFORCE_SYNC_ID
from sequin_admin.sandbox.faults import Fault
from sequin_admin.sandbox.server import SandboxServer

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
