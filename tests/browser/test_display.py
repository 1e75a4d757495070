"""Reading records in a real Chromium: Back after a live search, whole rows that open their
record, the column chooser over the table, the navbar on a small screen, the history's chart."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from sequin_admin.records.models import IndexedCollection, IndexedRecord
from sequin_admin.sandbox.demo_data import SALESFORCE_SYNC_ID
from sequin_admin.sandbox.server import SandboxServer
from tests.helpers import CONTACTS, field, open_contact, sign_in

pytestmark = pytest.mark.browser

COLLECTION = f"/syncs/{SALESFORCE_SYNC_ID}/{CONTACTS}/"


def open_collection(page: Page, query: str = "") -> None:
    """The collection page after its listing is done: no refresh then swaps the results under
    a click or a focus (the first visit lists it, and reloads the results when done)."""
    if not IndexedCollection.objects.filter(last_refreshed_at__isnull=False).exists():
        page.goto(COLLECTION)
        expect(page.locator("#refresh-summary")).to_be_visible()
    page.goto(COLLECTION + query)
    expect(page.locator("#refresh-summary")).to_be_visible()


def whole_page_is_shown(page: Page) -> None:
    """The styled page, not a bare fragment: navbar, breadcrumbs, Bootstrap's styles."""
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    expect(page.get_by_role("link", name="Sequin Admin")).to_be_visible()
    navbar_colour = page.locator("nav.navbar").evaluate("e => getComputedStyle(e).backgroundColor")
    assert navbar_colour == "rgb(33, 37, 41)"  # Bootstrap's bg-dark: the stylesheet applies


def test_back_after_a_live_search_shows_the_whole_page(
    signed_in_page: Page, sandbox: SandboxServer
) -> None:
    page = signed_in_page
    contact = sandbox.store.any_record(CONTACTS)
    open_collection(page)
    page.get_by_label("Search values").fill(contact["data"]["LastName"])
    expect(page).to_have_url(re.compile(r"\?q="))
    page.locator("#results a.row-link").first.click()
    expect(page.locator("#record-title")).to_be_visible()
    page.go_back()
    expect(page).to_have_url(re.compile(r"\?q="))
    whole_page_is_shown(page)
    expect(page.get_by_label("Search values")).to_have_value(contact["data"]["LastName"])
    expect(page.locator("#results tbody tr").first).to_contain_text(contact["data"]["LastName"])


def history_after_one_change(page: Page, sandbox: SandboxServer, *, phone: str) -> None:
    """The history, opened from the navbar after a contact's phone was sent and saved."""
    open_contact(page, sandbox)
    field(page, "Phone").fill(phone)
    page.get_by_role("button", name="Send to Sequin").click()
    expect(page.get_by_text("Saved upstream.")).to_be_visible(timeout=15_000)  # a busy machine
    page.get_by_role("link", name="History").click()


def test_back_after_filtering_the_history_shows_the_whole_page(
    signed_in_page: Page, sandbox: SandboxServer
) -> None:
    page = signed_in_page
    history_after_one_change(page, sandbox, phone="+44 20 7946 0001")
    page.get_by_label("Outcome", exact=True).select_option("succeeded")
    expect(page).to_have_url(re.compile(r"outcome=succeeded"))
    page.locator("#history-table").get_by_role("link", name=re.compile(r"^#\d+$")).first.click()
    expect(page.locator(".field-diff")).to_be_visible()
    page.go_back()
    expect(page).to_have_url(re.compile(r"outcome=succeeded"))
    whole_page_is_shown(page)
    expect(page.get_by_label("Outcome", exact=True)).to_have_value("succeeded")
    expect(page.locator("#history-table")).to_be_visible()


def test_the_history_draws_its_chart_after_its_lines_and_again_for_a_filter(
    signed_in_page: Page, sandbox: SandboxServer
) -> None:
    page = signed_in_page
    history_after_one_change(page, sandbox, phone="+44 20 7946 0002")
    chart = page.locator("#history-chart")
    expect(chart.locator("svg title").first).to_contain_text("Attempts per day")
    expect(chart.locator("rect.bar-succeeded")).to_have_count(1)
    page.get_by_label("Outcome", exact=True).select_option("failed")
    expect(page).to_have_url(re.compile(r"outcome=failed"))
    expect(page.locator("#no-history")).to_be_visible()
    expect(chart.locator("svg title").first).to_contain_text("Attempts per day")
    expect(chart.locator("rect.bar-succeeded")).to_have_count(0)


def test_a_click_anywhere_on_a_row_opens_its_record(
    signed_in_page: Page, sandbox: SandboxServer
) -> None:
    page = signed_in_page
    open_collection(page, "?col=Email&col=Phone")
    row = page.locator("#results tbody tr").nth(2)
    href = row.locator("a.row-link").get_attribute("href")
    assert href
    with page.context.expect_page() as opened:
        row.locator("td").nth(2).click(button="middle")  # a new tab, as on the link
    expect(opened.value).to_have_url(re.compile(re.escape(href) + "$"))
    opened.value.close()
    row.locator("td").nth(2).click()  # the Phone cell, not the link
    expect(page).to_have_url(re.compile(re.escape(href) + "$"))
    expect(page.locator("#record-title")).to_be_visible()


def test_the_title_stays_a_real_link_for_the_keyboard(
    signed_in_page: Page, sandbox: SandboxServer
) -> None:
    page = signed_in_page
    open_collection(page)
    link = page.locator("#results a.row-link").first
    href = link.get_attribute("href")
    link.focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(re.escape(str(href)) + "$"))


def test_the_column_chooser_opens_over_the_table_and_is_remembered(
    signed_in_page: Page, sandbox: SandboxServer
) -> None:
    page = signed_in_page
    open_collection(page)
    table = page.locator("#results table")
    before = table.bounding_box()
    page.get_by_text("Columns", exact=True).click()
    chooser = page.locator("#column-chooser")
    expect(chooser).to_be_visible()
    assert table.bounding_box() == before  # nothing pushed down
    chooser.get_by_label("LeadSource", exact=True).check()
    expect(page.locator("#results thead")).to_contain_text("LeadSource")
    open_collection(page)  # no `col` in the address: the person's pick
    expect(page.locator("#results thead")).to_contain_text("LeadSource")


def test_the_navbar_collapses_on_a_small_screen(
    signed_in_page: Page, sandbox: SandboxServer
) -> None:
    page = signed_in_page
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto("/")
    history = page.get_by_role("link", name="History")
    expect(history).to_be_hidden()
    page.get_by_role("button", name="Menu").click()
    expect(history).to_be_visible()
    history.click()
    expect(page).to_have_url(re.compile(r"/mutations/$"))


def test_wide_tables_scroll_in_their_own_box_on_a_small_screen(
    signed_in_page: Page, sandbox: SandboxServer
) -> None:
    page = signed_in_page
    page.set_viewport_size({"width": 375, "height": 740})
    open_collection(page)
    keys = list(IndexedRecord.objects.values_list("data", flat=True).first() or {})
    assert keys
    open_collection(page, "?" + "&".join(f"col={k}" for k in keys))
    box = page.get_by_role("region", name=f"Records of {CONTACTS}")
    assert box.evaluate("e => e.scrollWidth > e.clientWidth")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    box.focus()
    page.keyboard.press("ArrowRight")
    expect(box).to_be_focused()
    # Chromium scrolls for a key smoothly, over some frames: wait for it to move.
    page.wait_for_function("e => e.scrollLeft > 0", arg=box.element_handle(), timeout=15_000)


def test_a_picklist_offers_other_which_reveals_a_text_input(
    signed_in_page: Page, sandbox: SandboxServer
) -> None:
    page = signed_in_page
    open_contact(page, sandbox)
    other = page.get_by_label("Other value of LeadSource")
    expect(other).to_be_hidden()  # app.js hides it until "other…" is chosen
    field(page, "LeadSource").select_option(label="other…")
    expect(other).to_be_visible()
    # The preview answers the choice first (its answer replaces the element a typed-in
    # value's own delayed preview would hang on).
    expect(page.locator("#preview-json")).to_contain_text('"LeadSource": null')
    other.fill("Podcast")
    expect(page.locator("#preview-json")).to_contain_text('"LeadSource": "Podcast"')


def test_times_follow_the_browsers_timezone(
    browser: Browser, live_server: Any, sandbox: SandboxServer, transactional_db: None
) -> None:
    context = browser.new_context(base_url=live_server.url, timezone_id="Asia/Tokyo")
    page = context.new_page()
    try:
        sign_in(page)
        page.goto(f"/syncs/{SALESFORCE_SYNC_ID}/")  # app.js stores the zone on the first page
        open_collection(page)
        stamp = page.locator("#results tbody tr time").first
        expect(stamp).to_contain_text("JST")
    finally:
        context.close()
