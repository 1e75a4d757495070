"""Roles in a real Chromium: what a new viewer, a new editor and a new no-grant account see and
can do."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from sequin_admin.access.models import Grant, Role
from sequin_admin.mutations.models import Mutation
from sequin_admin.sandbox.demo_data import SALESFORCE_SYNC_ID
from sequin_admin.sandbox.server import SandboxServer
from tests.helpers import CONTACTS, field, open_contact, sign_in, upstream

pytestmark = pytest.mark.browser


def test_a_viewer_browses_and_reads_but_cannot_send(
    page: Page, sandbox: SandboxServer, transactional_db: None
) -> None:
    sign_in(page, "vera", Role.VIEWER)
    expect(page.get_by_role("link", name=CONTACTS)).to_be_visible()
    open_contact(page, sandbox)
    expect(page.locator("#read-only-notice")).to_contain_text("needs the editor role")
    expect(page.get_by_label("Title", exact=True)).to_be_disabled()
    expect(page.get_by_role("button", name="Send to Sequin")).to_have_count(0)
    expect(page.locator("#record-delete")).to_have_count(0)
    page.get_by_role("link", name=CONTACTS).click()
    expect(page.locator("table.table-records")).to_be_visible()
    expect(page.get_by_role("link", name="New record")).to_have_count(0)
    expect(page.locator("#bulk-select")).to_have_count(0)
    page.get_by_role("link", name="History").click()
    expect(page.locator("#no-history")).to_be_visible()
    assert not Mutation.objects.exists()


def test_an_account_without_a_grant_sees_no_sync_and_is_refused_a_record(
    page: Page, sandbox: SandboxServer, transactional_db: None
) -> None:
    sign_in(page, "nobody", None)
    expect(page.get_by_text("no role on any sync yet")).to_be_visible()
    expect(page.get_by_role("link", name=CONTACTS)).to_have_count(0)
    contact = sandbox.store.any_record(CONTACTS)
    response = page.goto(f"/syncs/{SALESFORCE_SYNC_ID}/{CONTACTS}/{contact['upstream_id']}/")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", name="You are not allowed to do this")).to_be_visible()
    expect(page.locator("#access-denied")).to_contain_text("the viewer role on the collection")


def test_an_editor_changes_one_record_of_their_collection_and_nothing_more(
    page: Page, sandbox: SandboxServer, transactional_db: None
) -> None:
    eddie = sign_in(page, "eddie", None)
    Grant.objects.create(user=eddie, role=Role.EDITOR, collection_pattern=CONTACTS)
    page.reload()
    expect(page.get_by_role("link", name=CONTACTS)).to_be_visible()
    expect(page.get_by_role("link", name="salesforce:account")).to_have_count(0)
    contact = open_contact(page, sandbox)
    expect(page.locator("#read-only-notice")).to_have_count(0)
    expect(page.locator("#record-delete")).to_have_count(0)  # a delete needs a bulk editor
    field(page, "Title").fill("Edited by an editor")
    page.get_by_role("button", name="Send to Sequin").click()
    expect(page.get_by_text("Saved upstream.")).to_be_visible()
    assert upstream(sandbox, contact)["Title"] == "Edited by an editor"
    page.get_by_role("link", name=CONTACTS).click()
    expect(page.locator("table.table-records")).to_be_visible()
    expect(page.get_by_role("link", name="New record")).to_have_count(0)
    expect(page.get_by_role("link", name="Update from a CSV")).to_have_count(0)
    expect(page.locator("#bulk-select")).to_have_count(0)
    account = sandbox.store.any_record("salesforce:account")
    response = page.goto(
        f"/syncs/{SALESFORCE_SYNC_ID}/salesforce:account/{account['upstream_id']}/"
    )
    assert response is not None and response.status == 403
    assert Mutation.objects.count() == 1
