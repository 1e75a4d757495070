"""The edit loop in a real Chromium against the sandbox over HTTP."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
from django.conf import LazySettings
from playwright.sync_api import Browser, Dialog, Locator, Page, Route, expect

from sequin_admin.mutations.models import Mutation, Outcome
from sequin_admin.records.titles import record_title
from sequin_admin.sandbox.demo_data import SALESFORCE_SYNC_ID
from sequin_admin.sandbox.faults import Fault
from sequin_admin.sandbox.server import SandboxServer
from tests.helpers import CONTACTS, field, open_contact, sign_in, upstream
from tests.sandbox.servers import (  # noqa: F401  (a fixture)
    PROFILES,
    fresh,
    serve_real_sandbox,
    talk_to,
)

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


@pytest.fixture(params=PROFILES)
def sandbox_of_profile(
    request: pytest.FixtureRequest, settings: LazySettings
) -> Iterator[SandboxServer]:
    """The sandbox of each profile in turn, for tests whose answer shape matters."""
    with fresh(talk_to(request, request.param, settings)) as server:
        yield server


def typed(page: Page, key: str, value: str) -> None:
    """Type into a field and let the live preview catch up (no request left under way when
    the test ends and its database is emptied)."""
    field(page, key).fill(value)
    expect(page.locator("#preview-json")).to_contain_text(value)


def settled(page: Page) -> None:
    """No htmx request under way."""
    expect(page.locator(".htmx-request")).to_have_count(0)


def send_from_the_bottom(page: Page) -> None:
    """Scroll to the Send button, as someone who edited the last fields, and click it."""
    send = page.get_by_role("button", name="Send to Sequin")
    send.scroll_into_view_if_needed()
    expect(page.locator("h1")).not_to_be_in_viewport()  # the form is longer than the window
    send.click()


def test_the_answer_comes_into_view_and_takes_focus(
    signed_in_page: Page, sandbox: SandboxServer
) -> None:
    page = signed_in_page
    open_contact(page, sandbox)
    typed(page, "Title", "Seen from below")
    send_from_the_bottom(page)
    alert = page.locator(".outcome-alert")
    expect(alert).to_contain_text("Saved upstream.")
    expect(alert).to_be_focused()
    expect(alert).to_be_in_viewport()
    settled(page)


def test_a_refusal_comes_into_view_and_takes_focus_too(
    signed_in_page: Page, sandbox: SandboxServer
) -> None:
    page = signed_in_page
    open_contact(page, sandbox)
    typed(page, "Email", "not-an-email")
    send_from_the_bottom(page)
    alert = page.locator(".outcome-alert")
    expect(alert).to_contain_text("The upstream refused the change.")
    expect(alert).to_be_focused()
    expect(alert).to_be_in_viewport()
    settled(page)


def test_typing_with_the_live_preview_keeps_focus_in_the_field(
    signed_in_page: Page, sandbox: SandboxServer
) -> None:
    page = signed_in_page
    open_contact(page, sandbox)
    title = field(page, "Title")
    title.fill("Still typing")
    expect(page.locator("#preview-json")).to_contain_text("Still typing")
    expect(title).to_be_focused()
    settled(page)


def test_check_again_that_finds_the_change_applied_turns_to_success_and_reloads(
    signed_in_page: Page, sandbox_of_profile: SandboxServer
) -> None:
    page, sandbox = signed_in_page, sandbox_of_profile
    contact = open_contact(page, sandbox)
    sandbox.faults.set(Fault(kind="timeout_504", apply=True))
    typed(page, "Title", "Landed unseen")
    send_from_the_bottom(page)
    expect(page.get_by_text("Outcome unknown.")).to_be_visible()
    page.get_by_role("button", name="Check again").click()
    alert = page.locator(".outcome-alert")
    expect(alert.locator(".alert-success")).to_contain_text("Saved upstream.")
    expect(alert).to_be_focused()
    expect(page.get_by_role("button", name="Check again")).to_have_count(0)
    now = sandbox.store.get_record(SALESFORCE_SYNC_ID, CONTACTS, contact["upstream_id"])
    expect(page.locator("#updated-idx")).to_have_text(str(now["updated_idx"]))
    expect(field(page, "Title")).to_have_value("Landed unseen")
    # The reloaded form sends the next edit without a conflict against the person's own change.
    typed(page, "Phone", "+1 555 0166")
    page.get_by_role("button", name="Send to Sequin").click()
    expect(page.locator(".outcome-alert .alert-success")).to_contain_text("Sequin returned")
    assert upstream(sandbox, contact)["Phone"] == "+1 555 0166"
    settled(page)


def breadcrumb(page: Page) -> Locator:
    return page.locator(".breadcrumb").get_by_role("link", name=CONTACTS)


def leave_without_a_warning(page: Page) -> list[str]:
    """Leave by the collection's breadcrumb; returns the dialogs that came on the way (each
    accepted, so leaving goes on)."""
    dialogs: list[str] = []

    def accept(dialog: Dialog) -> None:
        dialogs.append(dialog.type)
        dialog.accept()

    page.on("dialog", accept)
    breadcrumb(page).click()
    expect(page.locator("#results table")).to_be_visible()
    page.remove_listener("dialog", accept)
    return dialogs


def test_leaving_a_form_with_unsent_edits_asks_first(
    signed_in_page: Page, sandbox: SandboxServer
) -> None:
    page = signed_in_page
    contact = open_contact(page, sandbox)
    title = field(page, "Title")
    title.click()  # a person's gesture: Chromium asks before leaving only after one
    typed(page, "Title", "Not sent yet")
    record_url = page.url
    asked: list[str] = []

    def stay(dialog: Dialog) -> None:
        asked.append(dialog.type)
        dialog.dismiss()

    page.once("dialog", stay)
    breadcrumb(page).click()  # returns once the dialog is answered
    assert asked == ["beforeunload"]
    expect(title).to_have_value("Not sent yet")
    assert page.url == record_url
    assert upstream(sandbox, contact)["Title"] != "Not sent yet"
    settled(page)


def test_no_warning_when_nothing_changed_or_after_a_send(
    signed_in_page: Page, sandbox: SandboxServer
) -> None:
    page = signed_in_page
    open_contact(page, sandbox)
    title = field(page, "Title")
    title.click()
    assert leave_without_a_warning(page) == []
    page.go_back()
    title.click()
    typed(page, "Title", "Sent, then left")
    page.get_by_role("button", name="Send to Sequin").click()
    expect(page.get_by_text("Saved upstream.")).to_be_visible()
    assert leave_without_a_warning(page) == []


def test_a_send_clicked_while_a_slow_preview_is_under_way_goes_after_it(
    signed_in_page: Page, sandbox: SandboxServer
) -> None:
    """Leaving the field for Send fires a preview at once (`change`); the form's request waits
    for it (hx-sync) and is sent when it ends, never dropped."""
    page = signed_in_page
    contact = open_contact(page, sandbox)

    def slowly(route: Route) -> None:
        time.sleep(1.5)  # blocks only this browser's requests, which is the point
        route.continue_()

    page.route("**/preview/", slowly)
    field(page, "Phone").fill("+44 20 7946 0001")
    page.get_by_role("button", name="Send to Sequin").click()
    expect(page.get_by_text("Saved upstream.")).to_be_visible()
    assert upstream(sandbox, contact)["Phone"] == "+44 20 7946 0001"
    assert Mutation.objects.count() == 1
