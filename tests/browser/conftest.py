from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.helpers import sign_in

CHROMIUM = Path("/usr/bin/chromium")

# Playwright's sync API keeps an event loop on this thread; the ORM calls the tests make
# between browser steps are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# `expect` waits as long as the pages' own waits (context.set_default_timeout below): under a
# loaded machine a Send queued behind a live preview took longer than expect's 5 s default.
# Each wait still ends as soon as its condition holds.
expect.set_options(timeout=15_000)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: `make test` installs it (make browser-deps).")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, live_server: object) -> Iterator[Page]:
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    yield page
    context.close()
    csp_errors = [e for e in errors if "Content Security Policy" in e or "Refused" in e]
    assert not csp_errors, f"the page broke its Content-Security-Policy: {csp_errors}"


@pytest.fixture
def signed_in_page(page: Page, transactional_db: None) -> Page:
    sign_in(page)
    return page
