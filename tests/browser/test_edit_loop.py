"""The edit loop in a real Chromium against the sandbox over HTTP."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from sequin_admin.mutations.models import Mutation, Outcome
from sequin_admin.records.titles import record_title
from sequin_admin.sandbox.demo_data import SALESFORCE_SYNC_ID
from sequin_admin.sandbox.faults import Fault
from sequin_admin.sandbox.server import SandboxServer
from tests.helpers import CONTACTS, field, open_contact, sign_in, upstream

pytestmark = pytest.mark.browser


def test_find_a_record_by_search_and_open_it(signed_in_page: Page, sandbox: SandboxServer) -> None:
    page = signed_in_page
    contact = sandbox.store.any_record(CONTACTS)
    page.get_by_role("link", name=CONTACTS).click()
    expect(page.locator("#results table")).to_be_visible()
    page.get_by_label("Search values").fill(contact["data"]["Email"])
    expect(page).to_have_url(re.compile(r"\?q="))
    expect(page.locator("#results tbody tr")).to_have_count(1)
    title = record_title(
        collection_id=CONTACTS, data=contact["data"], upstream_id=contact["upstream_id"]
    )
    page.locator("#results").get_by_role("link", name=title, exact=True).click()
    expect(field(page, "Email")).to_have_value(contact["data"]["Email"])


def test_edit_and_see_the_returned_record(signed_in_page: Page, sandbox: SandboxServer) -> None:
    page = signed_in_page
    contact = open_contact(page, sandbox)
    sandbox.faults.set(Fault(kind="latency", latency_ms=800))
    field(page, "Title").fill("Director of Browsers")
    expect(page.locator("#preview-json")).to_contain_text('"Title": "Director of Browsers"')
    send = page.get_by_role("button", name="Send to Sequin")
    send.click()
    expect(send).to_be_disabled()  # busy while Sequin answers
    expect(page.get_by_text("Saved upstream.")).to_be_visible()
    expect(field(page, "Title")).to_have_value("Director of Browsers")
    expect(page.locator('.field-changed[data-field="Title"]')).to_be_visible()
    assert upstream(sandbox, contact)["Title"] == "Director of Browsers"
    expect(page.locator("#updated-idx")).not_to_have_text(str(contact["updated_idx"]))


def test_validation_error_is_shown_with_the_edits_kept(
    signed_in_page: Page, sandbox: SandboxServer
) -> None:
    page = signed_in_page
    open_contact(page, sandbox)
    field(page, "Email").fill("not-an-email")
    field(page, "Title").fill("Kept while failing")
    page.get_by_role("button", name="Send to Sequin").click()
    expect(page.get_by_text("The upstream refused the change.")).to_be_visible()
    expect(page.locator("#div_id_data\\.Email")).to_contain_text("invalid email address")
    expect(field(page, "Email")).to_have_value("not-an-email")
    expect(field(page, "Title")).to_have_value("Kept while failing")


def test_504_then_check_again(signed_in_page: Page, sandbox: SandboxServer) -> None:
    page = signed_in_page
    open_contact(page, sandbox)
    sandbox.faults.set(Fault(kind="timeout_504", apply=True))
    field(page, "Title").fill("Maybe landed")
    page.get_by_role("button", name="Send to Sequin").click()
    expect(page.get_by_text("Outcome unknown.")).to_be_visible()
    page.get_by_role("button", name="Check again").click()
    expect(page.locator("#reconciliation")).to_contain_text("applied")
    assert Mutation.objects.get().reconciliation == "applied"


def test_conflict_flow(signed_in_page: Page, sandbox: SandboxServer) -> None:
    page = signed_in_page
    contact = open_contact(page, sandbox)
    sandbox.store.write_as_upstream(
        SALESFORCE_SYNC_ID, CONTACTS, contact["upstream_id"], {"Title": "Edited in Salesforce"}
    )
    field(page, "Title").fill("My title")
    field(page, "Phone").fill("+44 20 7946 0000")
    page.get_by_role("button", name="Send to Sequin").click()
    conflicts = page.locator("#conflict-choices")
    expect(conflicts).to_contain_text("Edited in Salesforce")
    assert not Mutation.objects.exists()
    conflicts.locator('[data-conflict="Title"]').get_by_label("upstream's").check()
    page.get_by_role("button", name="Send with these choices").click()
    expect(page.get_by_text("Saved upstream.")).to_be_visible()
    data = upstream(sandbox, contact)
    assert (data["Title"], data["Phone"]) == ("Edited in Salesforce", "+44 20 7946 0000")
    expect(field(page, "Title")).to_have_value("Edited in Salesforce")


def test_the_same_edit_with_javascript_off(
    browser: Browser, live_server: object, sandbox: SandboxServer, transactional_db: None
) -> None:
    context = browser.new_context(
        base_url=live_server.url,
        java_script_enabled=False,
    )
    page = context.new_page()
    try:
        sign_in(page)
        contact = open_contact(page, sandbox)
        field(page, "Title").fill("Sent without JavaScript")
        page.get_by_role("button", name="Send to Sequin").click()
        expect(page.get_by_text("Saved upstream.")).to_be_visible()
        assert upstream(sandbox, contact)["Title"] == "Sent without JavaScript"
        assert Mutation.objects.get().outcome == Outcome.SUCCEEDED
    finally:
        context.close()
