"""Bulk edit from the collection page, a job's page and the jobs list, through Django's
test client against the real sandbox."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

import pytest
from django.conf import LazySettings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from sequin_admin.edits.models import ItemOutcome, Job, JobItem, JobState
from sequin_admin.records.models import IndexedRecord
from sequin_admin.sandbox.demo_data import SALESFORCE_SYNC_ID
from sequin_admin.sandbox.server import SandboxServer

CONTACTS = "salesforce:contact"
IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
QUEUED_ONLY = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
BULK_URL = reverse("bulk_edit", args=[SALESFORCE_SYNC_ID, CONTACTS])


@pytest.fixture(autouse=True)
def _jobs_run_at_once(settings: LazySettings) -> None:
    settings.TASKS = IMMEDIATE
    settings.JOB_CONCURRENCY = 1
    settings.SEQUIN_MAX_RECORDS_PER_MUTATION = 20


@pytest.fixture
def contacts(indexed: Callable[..., IndexedRecord]) -> list[IndexedRecord]:
    indexed(CONTACTS)
    return list(
        IndexedRecord.objects.filter(collection_id=CONTACTS, deleted=False).order_by("upstream_id")
    )


def text(response: object) -> str:
    return response.content.decode()  # type: ignore[attr-defined]


def test_the_collection_page_offers_selection_for_bulk_edit(
    signed_in: Client, contacts: list[IndexedRecord]
) -> None:
    page = text(signed_in.get(reverse("collection_detail", args=[SALESFORCE_SYNC_ID, CONTACTS])))
    assert 'id="bulk-select"' in page and "Edit all that match" in page
    assert page.count('form="bulk-select"') == 50  # one checkbox per row of the page
    assert "data-select-all" in page


def test_bulk_edit_previews_then_runs_leaving_out_records_that_hold_the_value(
    signed_in: Client, contacts: list[IndexedRecord], sandbox: SandboxServer
) -> None:
    chosen = contacts[:6]
    holder = chosen[0]
    ids = [r.upstream_id for r in chosen]
    form = {"id": ids, "set.Title": "on", "value.Title": holder.data["Title"] or "x"}
    if holder.data["Title"] is None:
        form["value.Title"] = "Same for all"
        IndexedRecord.objects.filter(pk=holder.pk).update(data={**holder.data, "Title": "x"})
    wanted = form["value.Title"]
    already = sum(1 for r in chosen if r.data.get("Title") == wanted) or 1

    preview = text(signed_in.post(BULK_URL, {**form, "action": "preview"}))

    changing = 6 - already
    assert f"<strong>{changing}</strong> of 6 selected records will change" in preview
    assert "already hold" in preview and "left out" in preview

    response = signed_in.post(BULK_URL, {**form, "action": "run"})

    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == job.get_absolute_url()
    assert job.state == JobState.DONE and job.total == changing
    assert job.succeeded == changing
    assert holder.upstream_id not in set(job.items.values_list("upstream_id", flat=True))
    for item in job.items.all():
        upstream = sandbox.store.get_record(SALESFORCE_SYNC_ID, CONTACTS, item.upstream_id)
        assert upstream is not None and upstream["data"]["Title"] == wanted
        assert item.data == {"Title": wanted}


def test_a_value_longer_than_a_field_can_take_is_refused_and_no_job_starts(
    signed_in: Client, contacts: list[IndexedRecord]
) -> None:
    form = {"id": [r.upstream_id for r in contacts[:2]], "set.Title": "on"}
    for action in ("preview", "run"):
        page = text(
            signed_in.post(BULK_URL, {**form, "value.Title": "x" * 200_000, "action": action})
        )
        assert "longer than 131,072 characters cannot be sent." in page.split('id="bulk-errors"')[1]
    assert not Job.objects.exists()


def test_bulk_edit_of_all_that_match_the_search_keeps_the_query_string(
    signed_in: Client, contacts: list[IndexedRecord]
) -> None:
    word = contacts[0].data["LastName"]
    qs = f"q={word}&deleted=live"
    matching = [r for r in contacts if word.lower() in r.search_text]

    response = signed_in.post(
        BULK_URL,
        {
            "scope": "matching",
            "qs": qs,
            "set.Description": "on",
            "null.Description": "on",
            "action": "run",
        },
    )

    job = Job.objects.get()
    assert response.status_code == 302
    assert job.query_string == qs
    holding_null = [r for r in matching if r.data.get("Description") is None]
    assert job.total == len(matching) - len(holding_null) > 0
    assert all(i.data == {"Description": None} for i in job.items.all())


def test_a_value_of_the_wrong_kind_reshows_the_form_with_the_error(
    signed_in: Client, contacts: list[IndexedRecord]
) -> None:
    response = signed_in.post(
        BULK_URL,
        {
            "id": [contacts[0].upstream_id],
            "set.HasOptedOutOfEmail": "on",
            "value.HasOptedOutOfEmail": "maybe",
            "action": "run",
        },
    )
    assert response.status_code == 200
    assert "Write true or false." in text(response)
    assert not Job.objects.exists()


def test_nothing_chosen_sends_nothing(signed_in: Client, contacts: list[IndexedRecord]) -> None:
    response = signed_in.post(BULK_URL, {"id": [contacts[0].upstream_id], "action": "run"})
    assert response.status_code == 200
    assert "Choose at least one field" in text(response)
    assert not Job.objects.exists()


def make_job(size: int, user: object) -> Job:
    """A finished job of `size` records, written directly: the page's cost is the question."""
    job = Job.objects.create(
        sync_id=SALESFORCE_SYNC_ID,
        collection_id=CONTACTS,
        kind="update",
        group_id=uuid.uuid4(),
        state=JobState.DONE,
        total=size,
        sent=size,
        succeeded=size - 1,
        failed=1,
    )
    JobItem.objects.bulk_create(
        JobItem(
            job=job,
            position=n,
            upstream_id=f"003{n:012d}",
            data={"Title": "t"},
            outcome=ItemOutcome.FAILED if n == 0 else ItemOutcome.SUCCEEDED,
            message="refused" if n == 0 else "",
        )
        for n in range(size)
    )
    return job


def queries_for(client: Client, url: str, **headers: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, headers=headers)
    assert response.status_code == 200
    return len(queries)


def test_the_job_page_costs_the_same_at_10_and_10000_records(signed_in: Client, db: None) -> None:
    small, big = make_job(10, None), make_job(10_000, None)
    for headers in ({}, {"HX-Request": "true", "HX-Target": "job-progress"}):
        assert queries_for(signed_in, small.get_absolute_url(), **headers) == queries_for(
            signed_in, big.get_absolute_url(), **headers
        )
    page = text(signed_in.get(big.get_absolute_url() + "?after=9000"))
    assert "003000000009001" in page and "003000000009050" in page
    assert "003000000009051" not in page and 'rel="next"' in page
    assert queries_for(signed_in, big.get_absolute_url() + "?after=9000") == queries_for(
        signed_in, small.get_absolute_url()
    )


def test_the_progress_fragment_polls_while_the_job_runs(signed_in: Client, db: None) -> None:
    job = make_job(10, None)
    Job.objects.filter(pk=job.pk).update(state=JobState.RUNNING, heartbeat_at=None)
    job.refresh_from_db()
    # A running job without a heartbeat lost its worker: the page enqueues it again.
    html = text(
        signed_in.get(
            job.get_absolute_url(), headers={"HX-Request": "true", "HX-Target": "job-progress"}
        )
    )
    assert html.lstrip().startswith('<div id="job-progress"')
    assert 'hx-trigger="every 1s"' in html
    assert re.search(r'<progress[^>]+max="10" value="10"', html)
    assert "Cancel" in html and "<table" not in html


def test_a_finished_job_shows_results_and_retries_only_the_failures(
    signed_in: Client, contacts: list[IndexedRecord], settings: LazySettings
) -> None:
    settings.TASKS = QUEUED_ONLY
    job = make_job(3, None)
    JobItem.objects.filter(job=job).update(upstream_id=contacts[0].upstream_id)
    JobItem.objects.filter(job=job, position=1).update(upstream_id=contacts[1].upstream_id)
    JobItem.objects.filter(job=job, position=2).update(upstream_id=contacts[2].upstream_id)
    page = text(signed_in.get(job.get_absolute_url()))
    assert "Retry the failures" in page and 'id="job-items"' in page

    response = signed_in.post(reverse("job_retry", args=[job.pk]))

    retry = Job.objects.exclude(pk=job.pk).get()
    assert response["Location"] == retry.get_absolute_url()
    assert list(retry.items.values_list("upstream_id", flat=True)) == [contacts[0].upstream_id]


def test_cancel_from_the_job_page(
    signed_in: Client, contacts: list[IndexedRecord], settings: LazySettings
) -> None:
    settings.TASKS = QUEUED_ONLY
    signed_in.post(
        BULK_URL,
        {
            "id": [contacts[0].upstream_id],
            "set.Title": "on",
            "value.Title": "Zzz never",
            "action": "run",
        },
    )
    job = Job.objects.get()
    assert job.state == JobState.QUEUED
    response = signed_in.post(reverse("job_cancel", args=[job.pk]))
    job.refresh_from_db()
    assert response.status_code == 302 and job.state == JobState.CANCELLED


def test_the_jobs_list(signed_in: Client, db: None) -> None:
    assert 'id="no-jobs"' in text(signed_in.get(reverse("job_list")))
    job = make_job(4, None)
    page = text(signed_in.get(reverse("job_list")))
    assert f'href="{job.get_absolute_url()}"' in page
