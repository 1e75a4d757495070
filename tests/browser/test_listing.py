"""The collection page in a real browser: sort by a header, filter in the panel, remove a chip,
all in the address and with live updates."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from sequin_admin.records.models import IndexedRecord
from tests.records.leads import LEADS, SYNC, make_leads

pytestmark = pytest.mark.browser


def test_sort_filter_and_remove_a_filter(signed_in_page: Page) -> None:
    page = signed_in_page
    make_leads(120)
    page.goto(f"/syncs/{SYNC}/{LEADS}/?col=Name&col=Status")
    name_header = page.locator("th", has=page.get_by_role("link", name=re.compile("^Name")))
    expect(name_header).to_have_attribute("aria-sort", "none")

    name_header.get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"sort=Name(&|$)"))
    expect(name_header).to_have_attribute("aria-sort", "ascending")
    name_header.get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"sort=-Name"))
    expect(name_header).to_have_attribute("aria-sort", "descending")

    table_top = page.locator("table.table-records").bounding_box()
    page.get_by_text("Filters", exact=True).click()
    panel = page.locator(".filter-panel-body")
    expect(panel).to_be_visible()
    # The panel floats over the table; the table stays where it was.
    assert page.locator("table.table-records").bounding_box() == table_top

    panel.get_by_role("checkbox", name=re.compile(r"^lost \(")).check()
    expect(page).to_have_url(re.compile(r"f\.Status\.eq=lost"))
    chip = page.get_by_role("link", name="Remove filter Status = lost")
    expect(chip).to_be_visible()
    lost = IndexedRecord.objects.filter(collection_id=LEADS, deleted=False, data__Status="lost")
    expect(page.locator("#match-count")).to_have_text(f"{lost.count()} records")
    labels = [t.strip() for t in page.locator("table.table-records thead th").all_inner_texts()]
    column = labels.index("Status") + 1
    statuses = page.locator(f"table.table-records tbody tr td:nth-child({column})")
    expect(statuses.first).to_have_text("lost")
    assert set(statuses.all_inner_texts()) == {"lost"}
    expect(page).to_have_url(re.compile(r"sort=-Name"))  # the order was kept

    chip.click()
    expect(chip).to_have_count(0)
    expect(page).not_to_have_url(re.compile(r"f\.Status"))
    page.get_by_text("Filters", exact=True).click()
    expect(page.get_by_role("checkbox", name=re.compile(r"^lost \("))).not_to_be_checked()


def test_add_a_condition_from_the_panel(signed_in_page: Page) -> None:
    page = signed_in_page
    make_leads(60)
    page.goto(f"/syncs/{SYNC}/{LEADS}/?sort=Amount")
    page.get_by_text("Filters", exact=True).click()
    live_updates: list[str] = []
    page.on(
        "request",
        lambda r: live_updates.append(r.url) if r.headers.get("hx-target") == "results" else None,
    )
    page.get_by_label("Field", exact=True).select_option("Note")
    page.get_by_label("Condition", exact=True).select_option("contains")
    page.get_by_label("Value", exact=True).fill("urgent")
    page.get_by_label("Value", exact=True).blur()
    page.get_by_role("button", name="Add").click()
    expect(page).to_have_url(re.compile(r"sort=Amount&f\.Note\.contains=urgent$"))
    # Nothing was sent before Add: the row is no live control (a change event would have
    # sent its request before the click sent Add's).
    assert live_updates == []
    expect(page.get_by_role("link", name="Remove filter Note contains urgent")).to_be_visible()
    urgent = IndexedRecord.objects.filter(
        collection_id=LEADS, deleted=False, data__Note__icontains="urgent"
    )
    expect(page.locator("#match-count")).to_have_text(f"{urgent.count()} records")
    expect(page.get_by_label("Value", exact=True)).to_have_value("")
