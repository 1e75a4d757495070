"""Upstream data is data: XSS payloads in record values, in field names, in upstream error
texts and in a sync's name run no script in a real Chromium and show as the text they are.

Each payload that could run sets `window.__xss` or calls `alert`; after every page and swap
the test asserts no flag, no dialog, and no element or attribute a payload could have made.
The page fixture also fails the test on any Content-Security-Policy violation, which an
injected inline script or handler would cause.
"""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Dialog, Page, expect

from sequin_admin.mutations.models import Mutation, Outcome
from sequin_admin.records.index import index_get
from sequin_admin.records.refresh import collection_refresh
from sequin_admin.sandbox.demo_data import SALESFORCE_SYNC_ID
from sequin_admin.sandbox.server import SandboxServer
from tests.helpers import CONTACTS, field, send

pytestmark = pytest.mark.browser

PAYLOADS = [
    '<script>window.__xss = "script"</script>',
    '"><script>window.__xss = "attribute"</script>',
    "'><img src=x onerror=\"window.__xss='img'\">",
    '<img src=x onerror=alert("img")>',
    '<svg onload=alert("svg")>',
    '<svg><script>window.__xss = "svg"</script></svg>',
    'javascript:alert("url")',
    "<a href=\"javascript:window.__xss='link'\">link</a>",
    '" autofocus onfocus="window.__xss=\'focus\'" x="',
    '</textarea><script>window.__xss = "textarea"</script>',
    '</pre><script>window.__xss = "pre"</script>',
    "<iframe srcdoc=\"<script>parent.__xss='iframe'</script>\"></iframe>",
    '<details open ontoggle=alert("toggle")>',
    '<div hx-get="/" hx-trigger="load" hx-on::after-request="window.__xss=\'htmx\'">hx</div>',
    "{{ 7|add:7 }} {% now 'Y' %} ${7*7} #{7*7}",
]
# Field names: what a person sees as labels, and what the form uses for input names.
KEY_PAYLOADS = [
    '<img src=x onerror=alert("key")>',
    "'><svg onload=alert('key')>",
    "{{ 7|add:7 }}",
]
# An upstream that refuses an email quotes the value back; one without an @ is refused.
EMAIL_PAYLOAD = "<img src=x onerror=alert('email')>"
SYNC_NAME = '<script>window.__xss = "sync"</script><img src=x onerror=alert("sync")>'

# Anything on the page a payload could have made: handlers, script URLs, inline scripts.
FIND_ACTIVE_CONTENT = """() => {
  const found = [];
  for (const el of document.querySelectorAll("*")) {
    for (const attr of el.attributes) {
      const name = attr.name.toLowerCase();
      const value = attr.value.trim().toLowerCase();
      const urlish = ["href", "src", "action", "formaction", "xlink:href"].includes(name);
      if (name.startsWith("on") || name.startsWith("hx-on") || name === "srcdoc"
          || (urlish && value.startsWith("javascript:"))) {
        found.push(el.outerHTML.slice(0, 160));
      }
    }
    if (el.tagName === "SCRIPT" && !el.src) found.push("inline script: " + el.textContent);
    if (["IMG", "IFRAME", "OBJECT", "EMBED"].includes(el.tagName)) found.push(el.outerHTML);
  }
  return found;
}"""


class Inert:
    """Watches one page: dialogs opened, flags set, active content present."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.dialogs: list[str] = []
        page.on("dialog", self._dismiss)

    def _dismiss(self, dialog: Dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def check(self, where: str) -> None:
        page = self.page
        page.wait_for_load_state("load")
        assert page.evaluate("window.__xss") is None, (where, page.evaluate("window.__xss"))
        assert page.evaluate("parent.__xss") is None, where
        assert not self.dialogs, (where, self.dialogs)
        assert page.evaluate(FIND_ACTIVE_CONTENT) == [], where

    def visit(self, url: str) -> None:
        self.page.goto(url)
        self.check(url)


@pytest.fixture
def poisoned(sandbox: SandboxServer, transactional_db: None) -> dict:
    """A contact whose values and field names are payloads, in a sync named with one."""
    contact = sandbox.store.any_record(CONTACTS)
    patch = {f"xss_{n}": payload for n, payload in enumerate(PAYLOADS)}
    patch.update({key: f"value under key {n}" for n, key in enumerate(KEY_PAYLOADS)})
    patch["Title"] = PAYLOADS[0]
    patch["Description"] = PAYLOADS[9]
    sandbox.store.write_as_upstream(SALESFORCE_SYNC_ID, CONTACTS, contact["upstream_id"], patch)
    sandbox.store.rename_sync(SALESFORCE_SYNC_ID, SYNC_NAME)
    collection_refresh(sync_id=SALESFORCE_SYNC_ID, collection_id=CONTACTS)
    return {**contact, "data": {**contact["data"], **patch}}


def test_payloads_in_values_keys_errors_and_names_run_nothing(
    signed_in_page: Page, poisoned: dict, sandbox: SandboxServer
) -> None:
    page = signed_in_page
    inert = Inert(page)
    upstream_id = poisoned["upstream_id"]
    record = index_get(sync_id=SALESFORCE_SYNC_ID, collection_id=CONTACTS, upstream_id=upstream_id)
    assert record is not None
    user = User.objects.get(username="ada")
    # Journal entries whose fields, values and upstream error texts carry payloads.
    applied = send(record, user, {"LeadSource": PAYLOADS[2], "Title": PAYLOADS[13]})
    refused = send(record, user, {"Email": EMAIL_PAYLOAD})
    unknown_key = send(record, user, {KEY_PAYLOADS[1] + "x": PAYLOADS[4]})
    assert applied.outcome == Outcome.SUCCEEDED
    assert refused.outcome == Outcome.FAILED and EMAIL_PAYLOAD in refused.error_message
    assert unknown_key.outcome == Outcome.FAILED and KEY_PAYLOADS[1] in unknown_key.error_message

    inert.visit("/")
    expect(page.get_by_role("link", name=SYNC_NAME)).to_be_visible()
    inert.visit(f"/syncs/{SALESFORCE_SYNC_ID}/")
    expect(page.locator("h1")).to_contain_text(SYNC_NAME)

    columns = [f"xss_{n}" for n in range(len(PAYLOADS))] + KEY_PAYLOADS
    collection = f"/syncs/{SALESFORCE_SYNC_ID}/{CONTACTS}/"
    inert.visit(f"{collection}?{urlencode({'q': upstream_id, 'col': columns}, doseq=True)}")
    row = page.locator("table.table-records tbody tr").first
    for payload in PAYLOADS:
        expect(row).to_contain_text(payload)
    for key in KEY_PAYLOADS:
        expect(page.locator("table.table-records thead")).to_contain_text(key)
    inert.visit(f"{collection}?{urlencode({'q': PAYLOADS[3]})}")
    expect(page.get_by_role("searchbox")).to_have_value(PAYLOADS[3])
    expect(page.locator("table.table-records tbody")).to_contain_text(upstream_id)
    unmatched = PAYLOADS[4] + " nowhere"
    inert.visit(f"{collection}?{urlencode({'q': unmatched})}")
    expect(page.locator("#no-results")).to_contain_text(unmatched)

    inert.visit(f"{collection}{upstream_id}/")
    for n, payload in enumerate(PAYLOADS):
        expect(field(page, f"xss_{n}")).to_have_value(payload)
    for n, key in enumerate(KEY_PAYLOADS):
        expect(field(page, key)).to_have_value(f"value under key {n}")
    expect(page.locator("#record-timeline")).to_contain_text(PAYLOADS[13])

    # Typing a payload updates the live preview (htmx), and sending it brings back the
    # upstream's refusal quoting it (htmx swap): both shown as text.
    field(page, "Email").fill(EMAIL_PAYLOAD)
    expect(page.locator("#preview-box")).to_contain_text(EMAIL_PAYLOAD)
    inert.check("live preview")
    page.get_by_role("button", name="Send to Sequin").click()
    expect(page.locator("#record-editor")).to_contain_text(
        f"invalid email address: {EMAIL_PAYLOAD}"
    )
    inert.check("upstream refusal in the editor")

    inert.visit("/mutations/")
    expect(page.locator("#history-table")).to_contain_text(KEY_PAYLOADS[1])
    for mutation in Mutation.objects.all():
        inert.visit(f"/mutations/{mutation.pk}/")
    inert.visit(f"/mutations/{refused.pk}/")
    expect(page.locator("main")).to_contain_text(EMAIL_PAYLOAD)
    inert.visit(f"/mutations/{unknown_key.pk}/")
    expect(page.locator(".field-diff")).to_contain_text(KEY_PAYLOADS[1])
    expect(page.locator(".field-diff")).to_contain_text(PAYLOADS[4])
    # The record moved on since that attempt: Retry asks per field first, then confirms.
    page.get_by_role("button", name="Retry…").click()
    expect(page.locator("#retry-conflicts")).to_contain_text(KEY_PAYLOADS[1])
    inert.check("retry conflicts")
    page.get_by_role("button", name="Review the retry with these choices").click()
    expect(page.locator("#replay-json")).to_contain_text(KEY_PAYLOADS[1])
    inert.check("retry confirmation")
    inert.visit(f"/mutations/{applied.pk}/revert/")
    expect(page.locator("#replay-diff")).to_contain_text(PAYLOADS[13])
    expect(page.locator("#replay-diff")).to_contain_text(PAYLOADS[2])
    expect(page.locator("#replay-curl")).to_contain_text("<script>window.__xss")
