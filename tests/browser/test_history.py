"""Reviewing, retrying and reverting changes in a real Chromium."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from sequin_admin.mutations.models import Mutation, Outcome
from sequin_admin.records.titles import record_title
from sequin_admin.sandbox.faults import Fault
from sequin_admin.sandbox.server import SandboxServer
from tests.helpers import CONTACTS, field, open_contact, upstream

pytestmark = pytest.mark.browser


def send_title(page: Page, title: str) -> None:
    field(page, "Title").fill(title)
    page.get_by_role("button", name="Send to Sequin").click()


def test_review_an_entrys_diff(signed_in_page: Page, sandbox: SandboxServer) -> None:
    page = signed_in_page
    contact = open_contact(page, sandbox)
    send_title(page, "Reviewed title")
    expect(page.get_by_text("Saved upstream.")).to_be_visible()
    page.get_by_role("link", name="History").click()
    title = record_title(
        collection_id=CONTACTS, data=contact["data"], upstream_id=contact["upstream_id"]
    )
    expect(page.locator("#history-table")).to_contain_text(title)  # the record by its title
    page.get_by_label("Outcome", exact=True).select_option("failed")
    expect(page.locator("#no-history")).to_be_visible()  # htmx re-rendered the results
    expect(page).to_have_url(re.compile(r"outcome=failed"))
    page.get_by_label("Outcome", exact=True).select_option("succeeded")
    page.locator("#history-table").get_by_role("link", name=re.compile(r"^#\d+$")).first.click()
    row = page.locator('.field-diff tr[data-field="Title"]')
    expect(row.locator(".diff-before")).to_have_text(contact["data"]["Title"])
    expect(row.locator(".diff-after")).to_have_text("Reviewed title")
    expect(row.locator("td").nth(3)).to_have_text("Reviewed title")
    expect(page.locator("#request-json")).to_contain_text('"Title": "Reviewed title"')


def test_retry_a_failed_edit(signed_in_page: Page, sandbox: SandboxServer) -> None:
    page = signed_in_page
    contact = open_contact(page, sandbox)
    sandbox.faults.set(Fault(kind="rate_limit_429", count=1, retry_after=30))
    send_title(page, "Retried title")
    expect(page.get_by_text("try again in 30 s")).to_be_visible()
    page.locator("#answer").get_by_role("link", name=re.compile(r"Mutation #")).click()
    page.get_by_role("button", name="Retry…").click()
    confirmation = page.locator("#replay-confirm")
    expect(confirmation.locator("#replay-json")).to_contain_text('"Title": "Retried title"')
    expect(confirmation.locator('tr[data-field="Title"] .diff-after')).to_have_text("Retried title")
    assert Mutation.objects.count() == 1  # nothing is sent before the confirmation
    confirmation.get_by_role("button", name="Send retry").click()
    expect(page.get_by_text("Saved upstream.")).to_be_visible()
    expect(page.locator("#mutation-facts")).to_contain_text("retry of")
    assert upstream(sandbox, contact)["Title"] == "Retried title"
    assert [m.outcome for m in Mutation.objects.order_by("id")] == [
        Outcome.FAILED,
        Outcome.SUCCEEDED,
    ]


def test_revert_a_successful_edit(signed_in_page: Page, sandbox: SandboxServer) -> None:
    page = signed_in_page
    contact = open_contact(page, sandbox)
    send_title(page, "Soon reverted")
    expect(page.get_by_text("Saved upstream.")).to_be_visible()
    page.locator("#answer").get_by_role("link", name=re.compile(r"Mutation #")).click()
    page.get_by_role("button", name="Revert…").click()
    row = page.locator('#replay-confirm tr[data-field="Title"]')
    expect(row.locator(".diff-before")).to_have_text("Soon reverted")
    expect(row.locator(".diff-after")).to_have_text(contact["data"]["Title"])
    page.get_by_role("button", name="Send revert").click()
    expect(page.get_by_text("Saved upstream.")).to_be_visible()
    expect(page.locator("#mutation-facts")).to_contain_text("reverts")
    page.locator("#mutation-facts").get_by_role("link", name=re.compile(r"^#\d+$")).click()
    expect(page.locator("#mutation-facts")).to_contain_text("reverted by")
    expect(page.get_by_role("button", name="Revert…")).to_have_count(0)
    assert upstream(sandbox, contact)["Title"] == contact["data"]["Title"]
    assert CONTACTS in page.locator("h1").inner_text()
