"""axe-core on every kind of page: no serious or critical violation."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from sequin_admin.mutations.models import Mutation
from sequin_admin.sandbox.demo_data import SALESFORCE_SYNC_ID
from sequin_admin.sandbox.server import SandboxServer
from tests.helpers import CONTACTS, field, open_contact

pytestmark = pytest.mark.browser

SERIOUS = ("serious", "critical")


def serious_violations(page: Page) -> list[str]:
    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:5]}"
        for v in results.response["violations"]
        if v["impact"] in SERIOUS
    ]


def test_sign_in_page_has_no_serious_violation(page: Page, transactional_db: None) -> None:
    page.goto("/accounts/login/")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    assert serious_violations(page) == []


def test_axe_finds_what_it_should(browser: Browser) -> None:
    """The check can fail: a page with an unlabelled input and faint text has violations."""
    page = browser.new_page()
    page.set_content(
        '<html lang="en"><head><title>t</title></head><body><main>'
        '<input type="text"><p style="color:#eee">faint</p></main></body></html>'
    )
    found = serious_violations(page)
    page.close()
    assert any(v.startswith("label") for v in found), found
    assert any(v.startswith("color-contrast") for v in found), found


PAGES: dict[str, Callable[[Page, SandboxServer], None]] = {
    "sync list": lambda page, sandbox: page.goto("/"),
    "sync": lambda page, sandbox: page.goto(f"/syncs/{SALESFORCE_SYNC_ID}/"),
    "collection": lambda page, sandbox: page.goto(
        f"/syncs/{SALESFORCE_SYNC_ID}/{CONTACTS}/?col=Email&col=HasOptedOutOfEmail"
        "&col=MailingAddress&col=Description&col=AccountId"
    ),
    "error page": lambda page, sandbox: page.goto("/syncs/00000000-0000-0000-0000-000000000000/"),
    "not found": lambda page, sandbox: page.goto("/no-such-page/"),
}


@pytest.mark.parametrize("kind", list(PAGES))
def test_page_has_no_serious_violation(
    kind: str, signed_in_page: Page, sandbox: SandboxServer
) -> None:
    page = signed_in_page
    PAGES[kind](page, sandbox)
    page.wait_for_load_state("networkidle")
    assert serious_violations(page) == []


def test_record_history_and_mutation_pages_have_no_serious_violation(
    signed_in_page: Page, sandbox: SandboxServer
) -> None:
    page = signed_in_page
    open_contact(page, sandbox)
    assert serious_violations(page) == [], "record"
    field(page, "Phone").fill("+44 20 7946 0002")
    page.get_by_role("button", name="Send to Sequin").click()
    expect(page.get_by_text("Saved upstream.")).to_be_visible(timeout=15_000)  # a busy machine
    expect(page.locator("#send-indicator")).to_be_hidden()
    assert serious_violations(page) == [], "record after a send"
    page.goto("/mutations/")
    assert serious_violations(page) == [], "history"
    page.goto(Mutation.objects.get().get_absolute_url())
    assert serious_violations(page) == [], "a mutation"
