from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from sequin_admin.sandbox.server import SandboxServer

pytestmark = pytest.mark.browser


def test_sign_in_and_see_the_demo_syncs(signed_in_page: Page, sandbox: SandboxServer) -> None:
    page = signed_in_page
    expect(page.get_by_role("heading", name="Syncs")).to_be_visible()
    table = page.get_by_role("table")
    for provider in ("salesforce", "hubspot", "stripe"):
        expect(table).to_contain_text(provider)
    expect(table).to_contain_text("salesforce:contact")


def test_signed_out_visitor_is_sent_to_sign_in(page: Page, transactional_db: None) -> None:
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
