"""The edit loop through the views: every answer Sequin can give renders in place."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from sequin_admin.mutations.models import Mutation, Outcome, Reconciliation
from sequin_admin.records.index import index_get
from sequin_admin.records.models import IndexedRecord
from sequin_admin.sandbox.demo_data import CONSUMER_IDS
from sequin_admin.sandbox.faults import Fault
from sequin_admin.sandbox.server import SandboxServer
from tests.helpers import Indexed, OpenRecord, open_record, post


def upstream(sandbox: SandboxServer, record: IndexedRecord) -> dict:
    found = sandbox.store.get_record(record.sync_id, record.collection_id, record.upstream_id)
    assert found is not None
    return found


def test_record_page_shows_facts_inputs_and_read_only_fields(
    signed_in: Client, indexed: Indexed
) -> None:
    record = indexed("salesforce:contact")
    page = open_record(signed_in, record)
    assert 'name="data.Email"' in page.html
    assert 'name="data.MailingAddress"' in page.html or "MailingAddress" not in record.data
    assert 'name="data.CreatedDate"' not in page.html  # read-only: no input
    assert 'id="read-only-fields"' in page.html
    assert str(record.updated_idx) in page.html
    assert "<select" in page.html  # the boolean HasOptedOutOfEmail


def test_edit_sends_only_the_changed_field_and_shows_the_returned_record(
    signed_in: Client, indexed: Indexed, sandbox: SandboxServer
) -> None:
    record = indexed("salesforce:contact")
    page = open_record(signed_in, record)
    html = post(signed_in, page.url, page.form_data({"Title": "Head of Testing"}))
    assert "Saved upstream" in html
    assert 'value="Head of Testing"' in html
    assert 'field-changed" data-field="Title"' in html
    (mutation,) = Mutation.objects.all()
    assert mutation.outcome == Outcome.SUCCEEDED
    assert mutation.request_body["records"] == [
        {"upstream_id": record.upstream_id, "data": {"Title": "Head of Testing"}}
    ]
    assert upstream(sandbox, record)["data"]["Title"] == "Head of Testing"
    fresh = index_get(
        sync_id=record.sync_id, collection_id=record.collection_id, upstream_id=record.upstream_id
    )
    assert fresh is not None and fresh.data["Title"] == "Head of Testing"
    assert fresh.data.keys() == record.data.keys()  # a partial answer is merged, not taken whole
    if mutation.records.get().returned_updated_idx is None:  # the real profile's answer
        assert fresh.reread_pending and fresh.updated_idx == record.updated_idx
        assert "pending" in html.split('id="updated-idx">', 1)[1].split("</dd>", 1)[0]
    else:
        assert not fresh.reread_pending and fresh.updated_idx > record.updated_idx
        assert f'id="updated-idx">{fresh.updated_idx}<' in html


def test_the_next_edit_after_an_unversioned_answer_meets_no_conflict(
    signed_in: Client, indexed: Indexed, sandbox: SandboxServer
) -> None:
    record = indexed("salesforce:contact")
    page = open_record(signed_in, record)
    post(signed_in, page.url, page.form_data({"Title": "First"}))
    again = open_record(signed_in, record)
    html = post(signed_in, again.url, again.form_data({"Title": "Second"}))
    assert "Saved upstream" in html, html
    assert "changed upstream since you opened it" not in html
    assert upstream(sandbox, record)["data"]["Title"] == "Second"


def test_an_upstream_change_to_another_field_merges_without_a_conflict(
    signed_in: Client, indexed: Indexed, sandbox: SandboxServer
) -> None:
    record = indexed("salesforce:contact")
    page = open_record(signed_in, record)
    sandbox.store.write_as_upstream(
        record.sync_id, record.collection_id, record.upstream_id, {"Phone": "+1 555 0199"}
    )
    html = post(signed_in, page.url, page.form_data({"Title": "Mine alone"}))
    assert "Saved upstream" in html
    now = upstream(sandbox, record)["data"]
    assert (now["Title"], now["Phone"]) == ("Mine alone", "+1 555 0199")


def test_an_upstream_that_already_holds_my_value_is_no_conflict(
    signed_in: Client, indexed: Indexed, sandbox: SandboxServer
) -> None:
    record = indexed("salesforce:contact")
    page = open_record(signed_in, record)
    sandbox.store.write_as_upstream(
        record.sync_id, record.collection_id, record.upstream_id, {"Title": "Same as mine"}
    )
    html = post(signed_in, page.url, page.form_data({"Title": "Same as mine"}))
    assert "already holds your values" in html
    assert "changed upstream since you opened it" not in html
    assert not Mutation.objects.exists()


def test_no_change_sends_nothing(signed_in: Client, indexed: Indexed) -> None:
    record = indexed("salesforce:contact")
    page = open_record(signed_in, record)
    html = post(signed_in, page.url, page.form_data())
    assert "Nothing changed" in html
    assert not Mutation.objects.exists()


def test_posting_the_same_form_twice_sends_one_mutation(
    signed_in: Client, indexed: Indexed
) -> None:
    record = indexed("salesforce:contact")
    page = open_record(signed_in, record)
    data = page.form_data({"Title": "Once"})
    post(signed_in, page.url, data)
    second = post(signed_in, page.url, data)
    assert Mutation.objects.count() == 1
    assert "already sent" in second


def test_validation_error_shows_on_the_field_and_keeps_the_edits(
    signed_in: Client, indexed: Indexed, sandbox: SandboxServer
) -> None:
    record = indexed("salesforce:contact")
    page = open_record(signed_in, record)
    html = post(
        signed_in, page.url, page.form_data({"Email": "not-an-email", "Title": "Kept title"})
    )
    assert "The upstream refused the change" in html
    assert "invalid email address: not-an-email" in html
    assert 'value="not-an-email"' in html
    assert 'value="Kept title"' in html
    # On the field: crispy renders the message inside the Email input's block.
    email_block = html.split('id="div_id_data.Email"', 1)[1].split('id="div_id_', 1)[0]
    assert "invalid email address" in email_block
    (mutation,) = Mutation.objects.all()
    assert mutation.outcome == Outcome.FAILED
    assert upstream(sandbox, record)["data"]["Title"] == record.data["Title"]


def test_emptied_field_is_sent_as_null_and_set_to_null_works(
    signed_in: Client, indexed: Indexed
) -> None:
    record = indexed("salesforce:contact", data__Title__isnull=False, data__Phone__isnull=False)
    page = open_record(signed_in, record)
    post(signed_in, page.url, page.form_data({"Title": ""}, raw={"null.Phone": "on"}))
    (mutation,) = Mutation.objects.all()
    assert mutation.request_body["records"][0]["data"] == {"Title": None, "Phone": None}
    assert mutation.outcome == Outcome.SUCCEEDED


def test_json_field_is_validated_and_sent_as_json(signed_in: Client, indexed: Indexed) -> None:
    record = indexed("stripe:customer")
    page = open_record(signed_in, record)
    html = post(signed_in, page.url, page.form_data({"metadata": "{not json"}))
    assert "Enter a valid JSON" in html
    assert not Mutation.objects.exists()
    post(signed_in, page.url, page.form_data({"metadata": '{"tier": "gold", "seats": 3}'}))
    (mutation,) = Mutation.objects.all()
    assert mutation.request_body["records"][0]["data"] == {"metadata": {"tier": "gold", "seats": 3}}


def test_adding_a_field_the_record_lacks(
    signed_in: Client, indexed: Indexed, sandbox: SandboxServer
) -> None:
    record = indexed("hubspot:contact")
    page = open_record(signed_in, record)
    html = post(
        signed_in,
        page.url,
        page.form_data(
            raw={
                "new_field_name": "favourite_colour",
                "new_field_kind": "text",
                "new_field_value": "teal",
            }
        ),
    )
    # HubSpot refuses a property it does not know; the message sits on the new field.
    new_field_block = html.split('id="div_id_new_field_name"', 1)[1].split('id="div_id_', 1)[0]
    assert "does not exist" in new_field_block
    (mutation,) = Mutation.objects.all()
    assert mutation.request_body["records"][0]["data"] == {"favourite_colour": "teal"}
    assert mutation.outcome == Outcome.FAILED


def test_preview_shows_the_exact_json_and_a_curl_without_the_token(
    signed_in: Client, indexed: Indexed, sandbox: SandboxServer
) -> None:
    record = indexed("salesforce:contact")
    page = open_record(signed_in, record)
    html = post(
        signed_in, page.url, page.form_data({"Title": "Previewed"}, raw={"action": "preview"})
    )
    assert "&quot;Title&quot;: &quot;Previewed&quot;" in html
    assert "$SEQUIN_API_TOKEN" in html
    assert "sandbox-token" not in html
    assert not Mutation.objects.exists()


def test_await_consumers_are_sent_and_a_500_reads_saved_but_unconfirmed(
    signed_in: Client, indexed: Indexed, sandbox: SandboxServer
) -> None:
    record = indexed("salesforce:contact")
    page = open_record(signed_in, record)
    assert CONSUMER_IDS[0] in page.html
    sandbox.faults.set(Fault(kind="consumers_500", count=1))
    html = post(
        signed_in,
        page.url,
        page.form_data(
            {"Title": "Awaited"},
            raw={"await_consumer_ids": [CONSUMER_IDS[0]], "await_consumers_timeout": "1500"},
        ),
    )
    assert "Saved upstream; consumers not confirmed in time" in html
    (mutation,) = Mutation.objects.all()
    assert mutation.request_body["await_consumer_ids"] == [CONSUMER_IDS[0]]
    assert mutation.request_body["await_consumers_timeout"] == 1500
    assert mutation.outcome == Outcome.CONSUMERS_UNCONFIRMED


@pytest.mark.parametrize(
    ("fault", "message", "outcome"),
    [
        (Fault(kind="timeout_504", apply=True), "Outcome unknown", Outcome.UNKNOWN),
        (Fault(kind="drop", apply=False), "Outcome unknown", Outcome.UNKNOWN),
        (
            Fault(kind="rate_limit_429", count=0, retry_after=30),
            "try again in 30 s",
            Outcome.FAILED,
        ),
        (Fault(kind="garbage", status=502), "something unexpected", Outcome.UNKNOWN),
        (Fault(kind="error_500"), "something unexpected", Outcome.UNKNOWN),
    ],
    ids=["504", "drop", "429", "garbage", "500"],
)
def test_every_fault_renders_its_message_and_keeps_the_edits(
    signed_in: Client,
    indexed: Indexed,
    sandbox: SandboxServer,
    fault: Fault,
    message: str,
    outcome: Outcome,
) -> None:
    record = indexed("salesforce:contact")
    page = open_record(signed_in, record)
    sandbox.faults.set(fault)
    html = post(signed_in, page.url, page.form_data({"Title": "Under fault"}))
    assert message in html
    assert 'value="Under fault"' in html
    (mutation,) = Mutation.objects.all()
    assert mutation.outcome == outcome


def test_refused_token_reads_as_configuration_problem(
    signed_in: Client, indexed: Indexed, settings: object
) -> None:
    record = indexed("salesforce:contact")
    page = open_record(signed_in, record)
    settings.SEQUIN_API_TOKEN = "revoked"
    html = post(signed_in, page.url, page.form_data({"Title": "X"}))
    assert "Sequin refused the token" in html
    assert "revoked" not in html
    assert Mutation.objects.get().outcome == Outcome.FAILED


def test_record_gone_upstream_reads_as_not_found(signed_in: Client, indexed: Indexed) -> None:
    record = indexed("salesforce:contact")
    ghost = IndexedRecord.objects.create(
        sync_id=record.sync_id,
        collection_id=record.collection_id,
        upstream_id="0035g00000GONE0AAA",
        data={"LastName": "Gone", "Title": "x"},
        updated_idx=record.updated_idx,
    )
    page = open_record(signed_in, ghost)
    html = post(signed_in, page.url, page.form_data({"Title": "y"}))
    assert "no longer exists upstream" in html
    assert Mutation.objects.get().response_status == 404


def test_504_then_check_again_says_whether_it_landed(
    signed_in: Client, indexed: Indexed, sandbox: SandboxServer
) -> None:
    record = indexed("salesforce:contact")
    page = open_record(signed_in, record)
    sandbox.faults.set(Fault(kind="timeout_504", apply=True))
    post(signed_in, page.url, page.form_data({"Title": "Landed?"}))
    mutation = Mutation.objects.get()
    html = signed_in.post(
        f"/mutations/{mutation.pk}/reconcile/", headers={"HX-Request": "true"}
    ).content.decode()
    mutation.refresh_from_db()
    assert mutation.reconciliation == Reconciliation.APPLIED
    assert "Checked:" in html and "applied" in html


def test_conflict_shows_each_field_and_nothing_is_sent(
    signed_in: Client, indexed: Indexed, sandbox: SandboxServer
) -> None:
    record = indexed("salesforce:contact")
    page = open_record(signed_in, record)
    sandbox.store.write_as_upstream(
        record.sync_id, record.collection_id, record.upstream_id, {"Title": "Set in Salesforce"}
    )
    html = post(signed_in, page.url, page.form_data({"Title": "Mine", "Phone": "+1 555 0100"}))
    assert "changed upstream since you opened it" in html
    assert "Set in Salesforce" in html
    assert 'data-conflict="Title"' in html and 'data-conflict="Phone"' in html
    assert not Mutation.objects.exists()


def test_conflict_resolution_keeps_mine_or_takes_theirs_per_field(
    signed_in: Client, indexed: Indexed, sandbox: SandboxServer
) -> None:
    record = indexed("salesforce:contact")
    page = open_record(signed_in, record)
    sandbox.store.write_as_upstream(
        record.sync_id, record.collection_id, record.upstream_id, {"Title": "Theirs"}
    )
    data = page.form_data({"Title": "Mine", "Phone": "+1 555 0101"})
    post(signed_in, page.url, data)
    resolved = post(
        signed_in,
        page.url,
        {**data, "action": "resolve", "resolve.Title": "theirs", "resolve.Phone": "mine"},
    )
    assert "Saved upstream" in resolved
    (mutation,) = Mutation.objects.all()
    assert mutation.request_body["records"][0]["data"] == {"Phone": "+1 555 0101"}
    now = upstream(sandbox, record)["data"]
    assert now["Title"] == "Theirs"
    assert now["Phone"] == "+1 555 0101"


def test_the_same_edit_works_without_htmx(signed_in: Client, indexed: Indexed) -> None:
    record = indexed("salesforce:contact")
    page = open_record(signed_in, record)
    html = post(signed_in, page.url, page.form_data({"Title": "No JS"}), htmx=False)
    assert html.lstrip().startswith("<!doctype html>")
    assert "Saved upstream" in html


def test_tampered_state_is_refused(signed_in: Client, indexed: Indexed) -> None:
    record = indexed("salesforce:contact")
    page = open_record(signed_in, record)
    data = page.form_data({"Title": "x"})
    data["state"] = data["state"][:-3] + "abc"
    html = post(signed_in, page.url, data)
    assert "not issued by this server" in html
    assert not Mutation.objects.exists()


def test_after_a_refusal_the_corrected_form_sends_again(
    signed_in: Client, indexed: Indexed, sandbox: SandboxServer
) -> None:
    record = indexed("salesforce:contact")
    page = open_record(signed_in, record)
    refused = post(signed_in, page.url, page.form_data({"Email": "nope"}))
    again = OpenRecord(url=page.url, html=refused, record=record)
    assert again.state != page.state  # a new token for the next attempt
    html = post(signed_in, page.url, again.form_data({"Email": "fixed@example.com"}))
    assert "Saved upstream" in html
    assert [m.outcome for m in Mutation.objects.order_by("id")] == [
        Outcome.FAILED,
        Outcome.SUCCEEDED,
    ]
    assert upstream(sandbox, record)["data"]["Email"] == "fixed@example.com"


def test_consumers_unconfirmed_shows_the_record_as_it_is_upstream(
    signed_in: Client, indexed: Indexed, sandbox: SandboxServer
) -> None:
    record = indexed("salesforce:contact")
    page = open_record(signed_in, record)
    sandbox.faults.set(Fault(kind="consumers_500"))
    html = post(
        signed_in,
        page.url,
        page.form_data({"Title": "Applied anyway"}, raw={"await_consumer_ids": [CONSUMER_IDS[1]]}),
    )
    assert "consumers not confirmed" in html
    fresh = index_get(
        sync_id=record.sync_id, collection_id=record.collection_id, upstream_id=record.upstream_id
    )
    assert fresh is not None and fresh.data["Title"] == "Applied anyway"
    assert f'id="updated-idx">{fresh.updated_idx}<' in html


def test_the_live_preview_reads_the_record_and_no_sample_of_its_collection(
    signed_in: Client, indexed: Indexed
) -> None:
    record = indexed("salesforce:contact")
    page = open_record(signed_in, record)
    with CaptureQueriesContext(connection) as queries:
        response = signed_in.post(
            f"{page.url}preview/",
            page.form_data({"Title": "Previewed"}),
            headers={"HX-Request": "true", "HX-Target": "preview-box"},
        )
    assert response.status_code == 200
    assert b"Previewed" in response.content
    record_reads = [q["sql"] for q in queries if '"records_indexedrecord"' in q["sql"]]
    assert len(record_reads) == 1, record_reads


def test_record_page_reads_as_the_record_with_typed_inputs_and_linked_references(
    signed_in: Client, indexed: Indexed
) -> None:
    account = indexed("salesforce:account")
    account.data = {**account.data, "Name": "<Acme & Co>"}
    account.save()
    contact = indexed("salesforce:contact", data__LeadSource__isnull=False)
    contact.data = {**contact.data, "AccountId": account.upstream_id, "LastName": "<Lovelace>"}
    contact.save()
    html = open_record(signed_in, contact).html
    title = "&lt;Lovelace&gt;" if not contact.data.get("FirstName") else None
    heading = html.split('<h1 class="h4" id="record-title">', 1)[1].split("</h1>", 1)[0]
    assert (title or f"{contact.data['FirstName']} &lt;Lovelace&gt;") in heading
    assert contact.upstream_id in heading
    crumbs = html.split('aria-label="breadcrumb"', 1)[1].split("</ol>", 1)[0]
    assert ">Acme Salesforce (production)</a>" in crumbs and "&lt;Lovelace&gt;</li>" in crumbs
    account_url = f"/syncs/{account.sync_id}/salesforce:account/{account.upstream_id}/"
    assert f'<a href="{account_url}">&lt;Acme &amp; Co&gt;</a>' in html
    assert '<select name="data.LeadSource" class="picklistwidget form-select"' in html
    assert 'name="data.LeadSource.other"' in html
