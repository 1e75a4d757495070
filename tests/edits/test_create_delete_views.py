"""New record and Delete through the pages, against the real sandbox over HTTP."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.test import Client
from django.urls import reverse

from sequin_admin.edits.jobs import job_run
from sequin_admin.edits.models import Job
from sequin_admin.mutations.models import Mutation, Outcome
from sequin_admin.records.models import IndexedRecord
from sequin_admin.sandbox.demo_data import SALESFORCE_SYNC_ID
from sequin_admin.sandbox.faults import Fault
from sequin_admin.sandbox.server import SandboxServer
from tests.helpers import CONTACTS, Indexed, open_record

NEW_URL = reverse("record_new", args=[SALESFORCE_SYNC_ID, CONTACTS])
HTMX = {"HX-Request": "true", "HX-Target": "new-record"}


def token_in(html: str) -> str:
    match = re.search(r'name="form_token" value="([^"]+)"', html)
    assert match, "the page has no form token"
    return unescape(match.group(1))


def open_new(client: Client, indexed: Indexed) -> str:
    indexed(CONTACTS)  # the collection's fields are known once it was listed
    response = client.get(NEW_URL)
    assert response.status_code == 200
    return response.content.decode()


def test_the_form_has_a_typed_input_per_writable_field(signed_in: Client, indexed: Indexed) -> None:
    html = open_new(signed_in, indexed)
    assert 'name="data.LastName"' in html
    assert re.search(r'<select name="data.HasOptedOutOfEmail"', html)
    assert 'name="data.Id"' not in html and 'name="data.CreatedDate"' not in html


def test_a_collection_never_listed_says_so(signed_in: Client, sandbox: SandboxServer) -> None:
    assert 'id="no-fields"' in signed_in.get(NEW_URL).content.decode()


def test_create_sends_only_the_filled_fields_and_opens_the_indexed_record(
    signed_in: Client, indexed: Indexed, sandbox: SandboxServer
) -> None:
    html = open_new(signed_in, indexed)
    before = sandbox.store.count_records(CONTACTS)
    data = {"form_token": token_in(html), "data.LastName": "Atreides", "data.FirstName": "Paul"}
    response = signed_in.post(NEW_URL, data | {"data.Title": ""}, headers=HTMX)
    mutation = Mutation.objects.get()
    assert (mutation.kind, mutation.outcome) == ("create", Outcome.SUCCEEDED)
    assert mutation.request_body["records"] == [
        {"data": {"LastName": "Atreides", "FirstName": "Paul"}}
    ]
    upstream_id = mutation.records.get().upstream_id
    record_page = reverse("record_detail", args=[SALESFORCE_SYNC_ID, CONTACTS, upstream_id])
    assert response["HX-Redirect"] == record_page
    assert sandbox.store.count_records(CONTACTS) == before + 1
    indexed_row = IndexedRecord.objects.get(collection_id=CONTACTS, upstream_id=upstream_id)
    assert indexed_row.data["LastName"] == "Atreides"
    assert "Atreides" in signed_in.get(record_page).content.decode()


def test_a_refused_create_keeps_the_values_under_a_new_token(
    signed_in: Client, indexed: Indexed, sandbox: SandboxServer
) -> None:
    html = open_new(signed_in, indexed)
    first_token = token_in(html)
    data = {"form_token": first_token, "data.FirstName": "Paul", "data.Email": "not-an-email"}
    response = signed_in.post(NEW_URL, data, headers=HTMX)
    assert response.status_code == 200
    page = response.content.decode()
    assert Mutation.objects.get().outcome == Outcome.FAILED
    assert 'value="Paul"' in page and "Create in Sequin" in page
    assert token_in(page) != first_token


def test_a_value_longer_than_a_field_can_take_is_refused_and_nothing_is_sent(
    signed_in: Client, indexed: Indexed, sandbox: SandboxServer
) -> None:
    html = open_new(signed_in, indexed)
    before = sandbox.store.count_records(CONTACTS)
    data = {"form_token": token_in(html), "data.LastName": "Long", "data.Title": "x" * 200_000}
    response = signed_in.post(NEW_URL, data, headers=HTMX)
    assert response.status_code == 200
    assert "Title: longer than 131,072 characters cannot be sent." in response.content.decode()
    assert not Mutation.objects.exists()
    assert sandbox.store.count_records(CONTACTS) == before


def test_a_create_is_not_retried_after_a_429(
    signed_in: Client, indexed: Indexed, sandbox: SandboxServer
) -> None:
    html = open_new(signed_in, indexed)
    before = sandbox.store.count_records(CONTACTS)
    sandbox.faults.set(Fault(kind="rate_limit_429", retry_after=0))
    signed_in.post(NEW_URL, {"form_token": token_in(html), "data.LastName": "Once"})
    mutation = Mutation.objects.get()
    assert (mutation.outcome, mutation.attempts) == (Outcome.FAILED, 1)
    assert sandbox.store.count_records(CONTACTS) == before


def test_after_an_unknown_outcome_the_page_offers_a_search_never_a_resend(
    signed_in: Client, indexed: Indexed, sandbox: SandboxServer
) -> None:
    html = open_new(signed_in, indexed)
    before = sandbox.store.count_records(CONTACTS)
    sandbox.faults.set(Fault(kind="timeout_504", apply=True))
    data = {"form_token": token_in(html), "data.LastName": "Maybe", "data.Email": "m@ex.org"}
    page = signed_in.post(NEW_URL, data, headers=HTMX).content.decode()
    assert 'id="may-exist"' in page
    assert "Create in Sequin" not in page
    collection = reverse("collection_detail", args=[SALESFORCE_SYNC_ID, CONTACTS])
    assert f'href="{collection}?q=Maybe&amp;deleted=all"' in page
    assert Mutation.objects.get().outcome == Outcome.UNKNOWN
    # The same form posted again (a reload, a double click) finds the first attempt.
    signed_in.post(NEW_URL, data, headers=HTMX)
    assert Mutation.objects.count() == 1
    assert sandbox.store.count_records(CONTACTS) == before + 1


def delete_url(record: IndexedRecord) -> str:
    return reverse("record_delete", args=[record.sync_id, record.collection_id, record.upstream_id])


def test_a_wrong_confirmation_deletes_nothing(
    signed_in: Client, indexed: Indexed, sandbox: SandboxServer
) -> None:
    record = indexed(CONTACTS)
    opened = open_record(signed_in, record)
    assert 'id="record-delete-form"' in opened.html
    data = {"form_token": token_in(opened.html), "confirmation": record.upstream_id[:-1]}
    response = signed_in.post(delete_url(record), data, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "not this record&#x27;s upstream_id" in response.content.decode()
    assert not Mutation.objects.exists()
    assert not sandbox.store.get_record(SALESFORCE_SYNC_ID, CONTACTS, record.upstream_id)["deleted"]


def test_a_confirmed_delete_is_journaled_and_the_record_shows_deleted(
    signed_in: Client, indexed: Indexed, sandbox: SandboxServer
) -> None:
    record = indexed(CONTACTS)
    opened = open_record(signed_in, record)
    data = {"form_token": token_in(opened.html), "confirmation": f" {record.upstream_id} "}
    response = signed_in.post(delete_url(record), data)
    assert response.status_code == 302 and response["Location"] == opened.url
    mutation = Mutation.objects.get()
    assert (mutation.kind, mutation.outcome) == ("delete", Outcome.SUCCEEDED)
    assert mutation.request_body["upstream_ids"] == [record.upstream_id]
    assert mutation.records.get().before_data == record.data
    record.refresh_from_db()
    assert record.deleted
    assert sandbox.store.get_record(SALESFORCE_SYNC_ID, CONTACTS, record.upstream_id)["deleted"]
    page = signed_in.get(opened.url).content.decode()
    assert 'badge text-bg-secondary">deleted' in page
    assert 'id="record-delete-form"' not in page
    # The same confirmation posted again sends nothing more.
    signed_in.post(delete_url(record), data)
    assert Mutation.objects.count() == 1


BULK_DELETE_URL = reverse("bulk_delete", args=[SALESFORCE_SYNC_ID, CONTACTS])


def live_contacts(indexed: Indexed, count: int) -> list[IndexedRecord]:
    indexed(CONTACTS)
    rows = IndexedRecord.objects.filter(collection_id=CONTACTS, deleted=False)
    return list(rows.order_by("upstream_id")[:count])


def test_the_collection_page_offers_bulk_delete(signed_in: Client, indexed: Indexed) -> None:
    indexed(CONTACTS)
    page = signed_in.get(reverse("collection_detail", args=[SALESFORCE_SYNC_ID, CONTACTS]))
    html = page.content.decode()
    assert f'formaction="{BULK_DELETE_URL}" id="bulk-delete-selected"' in html


def test_a_bulk_delete_with_the_wrong_count_sends_nothing(
    signed_in: Client, indexed: Indexed, sandbox: SandboxServer
) -> None:
    rows = live_contacts(indexed, 3)
    IndexedRecord.objects.filter(pk=rows[2].pk).update(deleted=True)
    ids = [r.upstream_id for r in rows]
    page = signed_in.get(BULK_DELETE_URL, {"scope": "picked", "id": ids}).content.decode()
    assert "Delete 2 records" in page and rows[2].upstream_id not in page.split("<ul")[-1]
    response = signed_in.post(BULK_DELETE_URL, {"scope": "picked", "id": ids, "confirmation": "3"})
    assert response.status_code == 200
    assert "Type 2, the number of records" in response.content.decode()
    assert not Job.objects.exists() and not Mutation.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_confirmed_bulk_delete_runs_as_a_job(
    signed_in: Client, indexed: Indexed, sandbox: SandboxServer
) -> None:
    rows = live_contacts(indexed, 2)
    ids = [r.upstream_id for r in rows]
    response = signed_in.post(BULK_DELETE_URL, {"scope": "picked", "id": ids, "confirmation": "2"})
    job = Job.objects.get()
    assert response["Location"] == job.get_absolute_url()
    assert (job.kind, job.total) == ("delete", 2)
    job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.succeeded == 2
    assert Mutation.objects.get().request_body["upstream_ids"] == ids
    for upstream_id in ids:
        assert sandbox.store.get_record(SALESFORCE_SYNC_ID, CONTACTS, upstream_id)["deleted"]
    assert IndexedRecord.objects.filter(upstream_id__in=ids, deleted=True).count() == 2


def test_all_that_match_is_counted_from_the_search(
    signed_in: Client, indexed: Indexed, sandbox: SandboxServer
) -> None:
    (record,) = live_contacts(indexed, 1)
    qs = f"q={record.data['Email']}"
    page = signed_in.get(BULK_DELETE_URL, {"scope": "matching", "qs": qs}).content.decode()
    assert "Delete 1 record<" in page and record.upstream_id in page
