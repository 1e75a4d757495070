"""Bulk edit in a real browser: all the records a search matches (a few hundred), a field, a
preview, then the job's page to the end of its progress bar."""

from __future__ import annotations

import re

import pytest
from django.conf import LazySettings
from playwright.sync_api import Page, expect

from sequin_admin.edits.models import Job, JobState
from sequin_admin.records.listing import ListingQuery, index_matching
from sequin_admin.sandbox.demo_data import SALESFORCE_SYNC_ID
from sequin_admin.sandbox.server import SandboxServer
from tests.helpers import CONTACTS, Indexed

pytestmark = pytest.mark.browser
TITLE = "Bulk from the browser"


def test_bulk_edit_of_all_that_match_a_search_runs_to_the_end_of_its_progress_bar(
    signed_in_page: Page, sandbox: SandboxServer, indexed: Indexed, settings: LazySettings
) -> None:
    # The job runs in the request that starts it, on the live server's own connection.
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.JOB_CONCURRENCY = 1
    page = signed_in_page
    indexed(CONTACTS)
    matching = list(
        index_matching(
            sync_id=SALESFORCE_SYNC_ID, collection_id=CONTACTS, query=ListingQuery(q="referral")
        )
    )
    assert 200 <= len(matching) <= 600
    changing = [r for r in matching if r.data.get("Title") != TITLE]

    page.goto(f"/syncs/{SALESFORCE_SYNC_ID}/{CONTACTS}/?q=referral")
    page.get_by_role("button", name=re.compile("Edit all that match")).click()
    expect(page.get_by_role("heading", name="Bulk edit")).to_be_visible()
    page.get_by_label("Title", exact=True).fill(TITLE)
    expect(page.locator('input[name="set.Title"]')).to_be_checked()  # app.js ticks it
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#bulk-counts")).to_contain_text(
        f"{len(changing)} of {len(matching)} selected records will change"
    )
    page.get_by_role("button", name=re.compile("Run as a job")).click()

    expect(page.locator("#job-state")).to_have_text("done", timeout=120_000)
    bar = page.locator("#job-progress-bar")
    expect(bar).to_have_attribute("max", str(len(changing)))
    expect(bar).to_have_attribute("value", str(len(changing)))
    expect(page.locator("#job-succeeded")).to_have_text(str(len(changing)))
    expect(page.locator("#job-failed")).to_have_text("0")
    job = Job.objects.get()
    assert job.state == JobState.DONE and job.query_string.startswith("q=referral")
    for row in changing[:: max(1, len(changing) // 20)]:
        record = sandbox.store.get_record(SALESFORCE_SYNC_ID, CONTACTS, row.upstream_id)
        assert record is not None and record["data"]["Title"] == TITLE


def test_the_header_checkbox_selects_the_page_for_bulk_edit(
    signed_in_page: Page, sandbox: SandboxServer, indexed: Indexed
) -> None:
    page = signed_in_page
    indexed(CONTACTS)
    page.goto(f"/syncs/{SALESFORCE_SYNC_ID}/{CONTACTS}/")
    page.get_by_label("Select this page").check()
    expect(page.locator('input[name="id"]:checked')).to_have_count(50)
    page.get_by_role("button", name="Edit selected").click()
    expect(page.locator("#bulk-selection")).to_have_text("50 selected records.")
