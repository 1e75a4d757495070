"""The CSV upload page and its plan page: checked before anything is sent, confirmed once."""

from __future__ import annotations

import pytest
from django.conf import LazySettings
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from sequin_admin.access.models import Grant, Role
from sequin_admin.edits.jobs import job_run
from sequin_admin.edits.models import CsvUpdatePlan, Job, JobItem
from sequin_admin.mutations.models import Mutation
from sequin_admin.records.models import IndexedRecord
from sequin_admin.sandbox.demo_data import SALESFORCE_SYNC_ID
from sequin_admin.sandbox.server import SandboxServer
from tests.helpers import CONTACTS, Indexed

UPLOAD_URL = reverse("csv_upload", args=[SALESFORCE_SYNC_ID, CONTACTS])


def upload(client: Client, content: bytes, name: str = "fix.csv") -> object:
    return client.post(UPLOAD_URL, {"file": SimpleUploadedFile(name, content, "text/csv")})


def two_contacts(indexed: Indexed) -> list[IndexedRecord]:
    indexed(CONTACTS)
    return list(IndexedRecord.objects.filter(collection_id=CONTACTS, deleted=False)[:2])


def test_the_upload_page_documents_the_format(signed_in: Client, sandbox: SandboxServer) -> None:
    html = signed_in.get(UPLOAD_URL).content.decode()
    assert "<code>\\N</code> sets the field to <strong>null</strong>" in html
    assert 'enctype="multipart/form-data"' in html


def test_the_plan_shows_changes_and_refusals_and_sends_nothing(
    signed_in: Client, indexed: Indexed, sandbox: SandboxServer
) -> None:
    first, second = two_contacts(indexed)
    content = (
        f"\ufeffupstream_id;Title;HasOptedOutOfEmail\n{first.upstream_id};<b>Chair</b>;\n"
        f"{second.upstream_id};;perhaps\nghost;X;\n"
    ).encode()
    response = upload(signed_in, content)
    assert response.status_code == 302
    page = signed_in.get(response["Location"]).content.decode()
    assert "3 rows (semicolon-separated)" in page and "1 to update" in page
    assert "&lt;b&gt;Chair&lt;/b&gt;" in page and "<b>Chair</b>" not in page  # escaped
    refused = page[page.index('id="refused-rows"') :]
    assert "no record ghost in the index" in refused
    assert "HasOptedOutOfEmail" in refused
    assert 'id="confirm-form"' in page
    assert not Mutation.objects.exists() and not Job.objects.exists()


def test_confirming_starts_one_job_with_only_the_rows_that_can_go(
    signed_in: Client, indexed: Indexed, sandbox: SandboxServer
) -> None:
    first, _ = two_contacts(indexed)
    content = f"upstream_id,Title\n{first.upstream_id},From CSV\nghost,X\n".encode()
    plan_url = upload(signed_in, content)["Location"]
    assert signed_in.post(plan_url)["Location"] == plan_url
    job = Job.objects.get()
    assert (job.kind, job.total, job.description) == ("update", 1, "CSV fix.csv")
    assert list(JobItem.objects.values_list("upstream_id", "data")) == [
        (first.upstream_id, {"Title": "From CSV"})
    ]
    page = signed_in.get(plan_url).content.decode()
    assert 'id="plan-confirmed"' in page and 'id="confirm-form"' not in page
    # A second confirmation (another tab, a double click) starts nothing.
    refused = signed_in.post(plan_url)
    assert refused.status_code == 200 and "confirmed already" in refused.content.decode()
    assert Job.objects.count() == 1


def test_the_plan_is_read_from_the_server_not_the_browser(
    signed_in: Client, indexed: Indexed, sandbox: SandboxServer
) -> None:
    (first, _) = two_contacts(indexed)
    plan_url = upload(signed_in, f"upstream_id,Title\n{first.upstream_id},Kept\n".encode())[
        "Location"
    ]
    signed_in.post(plan_url, {"records": '[{"upstream_id": "other", "data": {"Title": "x"}}]'})
    assert list(JobItem.objects.values_list("data", flat=True)) == [{"Title": "Kept"}]


def test_another_persons_upload_is_not_found(
    signed_in: Client, indexed: Indexed, sandbox: SandboxServer, client: Client
) -> None:
    (first, _) = two_contacts(indexed)
    plan_url = upload(signed_in, f"upstream_id,Title\n{first.upstream_id},Mine\n".encode())[
        "Location"
    ]
    other = Client()
    bob = User.objects.create_user("bob")
    # A bulk editor on the collection, but not the person who uploaded the plan.
    Grant.objects.create(user=bob, role=Role.BULK_EDITOR)
    other.force_login(bob)
    assert other.get(plan_url).status_code == 404
    assert other.post(plan_url).status_code == 404
    assert not Job.objects.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("upstream_id,Title\nc1,Géant\n".encode("latin-1"), "not UTF-8 text"),
        (b"Title\nx\n", "The first row must be the header"),
        (b"upstream_id,Title\n", "no rows"),
    ],
)
def test_unusable_files_get_a_message_on_the_page(
    signed_in: Client, indexed: Indexed, sandbox: SandboxServer, content: bytes, message: str
) -> None:
    indexed(CONTACTS)
    response = upload(signed_in, content)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not CsvUpdatePlan.objects.exists()


def test_too_many_rows_and_too_many_bytes_are_refused(
    signed_in: Client, indexed: Indexed, sandbox: SandboxServer, settings: LazySettings
) -> None:
    rows = two_contacts(indexed)
    content = ("upstream_id,Title\n" + "".join(f"{r.upstream_id},T\n" for r in rows)).encode()
    settings.CSV_UPDATE_MAX_ROWS = 1
    assert "more than 1 rows" in upload(signed_in, content).content.decode()
    settings.CSV_UPDATE_MAX_ROWS = 10
    settings.CSV_UPDATE_MAX_BYTES = 20
    assert "at most 20 bytes" in upload(signed_in, content).content.decode()
    # A body far beyond the limit is refused on its declared length, before it is read.
    big = upload(signed_in, content + b"x" * 70_000)
    assert big.status_code == 200 and "at most 20 bytes" in big.content.decode()
    assert not CsvUpdatePlan.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_confirmed_job_applies_the_rows_upstream(
    signed_in: Client, indexed: Indexed, sandbox: SandboxServer
) -> None:
    first, second = two_contacts(indexed)
    content = f"upstream_id,Title\n{first.upstream_id},Job CSV\n{second.upstream_id},\\N\n"
    signed_in.post(upload(signed_in, content.encode())["Location"])
    job_run(job_id=Job.objects.get().pk)
    stored = {
        r.upstream_id: sandbox.store.get_record(SALESFORCE_SYNC_ID, CONTACTS, r.upstream_id)
        for r in (first, second)
    }
    assert stored[first.upstream_id]["data"]["Title"] == "Job CSV"
    assert stored[second.upstream_id]["data"]["Title"] is None
    assert Job.objects.get().succeeded == 2


def test_the_plan_page_costs_the_same_for_one_row_and_for_many(
    signed_in: Client, indexed: Indexed, sandbox: SandboxServer
) -> None:
    indexed(CONTACTS)
    ids = list(
        IndexedRecord.objects.filter(collection_id=CONTACTS, deleted=False).values_list(
            "upstream_id", flat=True
        )[:300]
    )
    counts = []
    for chosen in (ids[:1], ids):
        content = "upstream_id,Title\n" + "".join(f"{i},Counted\n" for i in chosen)
        plan_url = upload(signed_in, content.encode())["Location"]
        with CaptureQueriesContext(connection) as queries:
            assert signed_in.get(plan_url).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
