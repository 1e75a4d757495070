"""New record and the CSV upload in a real Chromium against the sandbox over HTTP."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from sequin_admin.edits.models import CsvUpdatePlan
from sequin_admin.mutations.models import Mutation
from sequin_admin.sandbox.demo_data import SALESFORCE_SYNC_ID
from sequin_admin.sandbox.server import SandboxServer
from tests.helpers import CONTACTS, Indexed, field

pytestmark = pytest.mark.browser
COLLECTION = f"/syncs/{SALESFORCE_SYNC_ID}/{CONTACTS}/"


def test_create_a_record_and_land_on_its_page(
    signed_in_page: Page, indexed: Indexed, sandbox: SandboxServer
) -> None:
    page = signed_in_page
    indexed(CONTACTS)
    page.goto(COLLECTION)
    page.get_by_role("link", name="New record").click()
    field(page, "LastName").fill("Atreides")
    field(page, "FirstName").fill("Paul")
    page.get_by_role("button", name="Create in Sequin").click()
    expect(page.get_by_text(re.compile(r"^Created "))).to_be_visible()
    upstream_id = Mutation.objects.get().records.get().upstream_id
    expect(page.get_by_role("heading", name=upstream_id)).to_be_visible()
    expect(field(page, "LastName")).to_have_value("Atreides")
    stored = sandbox.store.get_record(SALESFORCE_SYNC_ID, CONTACTS, upstream_id)
    assert stored["data"]["FirstName"] == "Paul"


def test_upload_a_csv_and_see_the_plan_before_confirming(
    signed_in_page: Page, indexed: Indexed, sandbox: SandboxServer
) -> None:
    page = signed_in_page
    record = indexed(CONTACTS)
    page.goto(COLLECTION)
    page.get_by_role("link", name="Update from a CSV").click()
    content = f"upstream_id;Title\r\n{record.upstream_id};Chief of CSV\r\nghost;Nobody\r\n"
    page.get_by_label("CSV file").set_input_files(
        files=[{"name": "titles.csv", "mimeType": "text/csv", "buffer": content.encode()}]
    )
    page.get_by_role("button", name="Check the file").click()
    expect(page.locator("#plan-summary")).to_contain_text("1 to update")
    expect(page.locator("#planned-updates")).to_contain_text("Chief of CSV")
    expect(page.locator("#refused-rows")).to_contain_text("no record ghost in the index")
    expect(page.get_by_role("button", name="Send 1 update to Sequin")).to_be_visible()
    assert CsvUpdatePlan.objects.get().job is None
    assert not Mutation.objects.exists()
