"""The edit loop through the views: every answer Sequin can give renders in place."""

from __future__ import annotations

import logging
import re

import pytest
from django.conf import LazySettings
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from sequin_admin.access.models import Grant, Role
from sequin_admin.mutations.models import Mutation, Outcome, Reconciliation
from sequin_admin.records.index import index_get
from sequin_admin.records.models import IndexedCollection, IndexedRecord
from sequin_admin.sandbox.demo_data import (
    BILLING_WEBHOOKS_CONSUMER_ID,
    CONSUMER_IDS,
    CRM_REPLICA_CONSUMER_ID,
    SEARCH_INDEXER_CONSUMER_ID,
    WAREHOUSE_CONSUMER_ID,
)
from sequin_admin.sandbox.faults import Fault
from sequin_admin.sandbox.server import SandboxServer
from sequin_admin.sandbox.timestamps import utc_now
from tests.helpers import Indexed, OpenRecord, open_record, post
from tests.sequin.peers import Canned, StubServer


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


def test_the_form_offers_only_the_consumers_that_can_see_the_collection(
    signed_in: Client, indexed: Indexed
) -> None:
    """HTTP and Postgres consumers alike; a consumer whose filters exclude it is not offered."""
    page = open_record(signed_in, indexed("salesforce:contact"))
    offered = set(re.findall(r'name="await_consumer_ids" value="([^"]+)"', page.html))
    assert offered == {
        CRM_REPLICA_CONSUMER_ID,
        SEARCH_INDEXER_CONSUMER_ID,
        WAREHOUSE_CONSUMER_ID,
    }
    assert BILLING_WEBHOOKS_CONSUMER_ID not in page.html


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


def check_again(
    client: Client, page: OpenRecord, answer: str, mutation: Mutation, edits: dict
) -> str:
    """Check again on the record page, as htmx posts it: with the form as it stands (the
    answer's form, still holding the `edits`)."""
    after = OpenRecord(url=page.url, html=answer, record=page.record)
    data = {**after.form_data(edits), "action": "check", "mutation": str(mutation.pk)}
    return post(client, page.url, data)


def test_check_again_that_finds_the_change_applied_reloads_the_record(
    signed_in: Client, indexed: Indexed, sandbox: SandboxServer
) -> None:
    record = indexed("salesforce:contact")
    page = open_record(signed_in, record)
    sandbox.faults.set(Fault(kind="timeout_504", apply=True))
    answer = post(signed_in, page.url, page.form_data({"Title": "Landed after all"}))
    mutation = Mutation.objects.get()
    assert "Outcome unknown" in answer
    html = check_again(signed_in, page, answer, mutation, {"Title": "Landed after all"})
    mutation.refresh_from_db()
    assert mutation.reconciliation == Reconciliation.APPLIED
    assert "alert-success" in html and "Saved upstream." in html
    assert "Outcome unknown" not in html and "Check again" not in html
    now = upstream(sandbox, record)
    # The form is the record as the upstream holds it now, at its current version.
    assert f'id="updated-idx">{now["updated_idx"]}<' in html
    assert 'value="Landed after all"' in html
    assert 'field-changed" data-field="Title"' in html
    reloaded = OpenRecord(url=page.url, html=html, record=page.record)
    assert reloaded.state != page.state
    # The next edit from the reloaded form meets no conflict with the person's own change.
    page.record.refresh_from_db()
    html = post(signed_in, page.url, reloaded.form_data({"Phone": "+1 555 0177"}))
    assert "Saved upstream" in html
    assert "changed upstream since you opened it" not in html
    assert upstream(sandbox, record)["data"]["Phone"] == "+1 555 0177"


def test_check_again_that_finds_nothing_applied_keeps_the_edits(
    signed_in: Client, indexed: Indexed, sandbox: SandboxServer
) -> None:
    record = indexed("salesforce:contact")
    page = open_record(signed_in, record)
    sandbox.faults.set(Fault(kind="timeout_504", apply=False))
    answer = post(signed_in, page.url, page.form_data({"Title": "Lost on the way"}))
    mutation = Mutation.objects.get()
    html = check_again(signed_in, page, answer, mutation, {"Title": "Lost on the way"})
    mutation.refresh_from_db()
    assert mutation.reconciliation == Reconciliation.NOT_APPLIED
    assert "Checked:</strong> not applied" in html
    assert 'value="Lost on the way"' in html  # the edits stay for another try
    assert "alert-success" not in html


def test_check_again_without_javascript_reloads_the_record(
    signed_in: Client, indexed: Indexed, sandbox: SandboxServer
) -> None:
    record = indexed("salesforce:contact")
    page = open_record(signed_in, record)
    sandbox.faults.set(Fault(kind="drop", apply=True))
    post(signed_in, page.url, page.form_data({"Title": "Dropped, landed"}))
    mutation = Mutation.objects.get()
    html = post(signed_in, page.url, {"action": "check", "mutation": mutation.pk}, htmx=False)
    assert html.lstrip().startswith("<!doctype html>")
    assert "Saved upstream." in html and 'value="Dropped, landed"' in html


def test_check_again_refuses_an_attempt_on_another_record(
    signed_in: Client, indexed: Indexed, sandbox: SandboxServer
) -> None:
    record = indexed("salesforce:contact")
    other = IndexedRecord.objects.exclude(pk=record.pk).filter(collection_id=record.collection_id)
    page = open_record(signed_in, record)
    sandbox.faults.set(Fault(kind="timeout_504", apply=True))
    post(signed_in, page.url, page.form_data({"Title": "Mine"}))
    mutation = Mutation.objects.get()
    elsewhere = open_record(signed_in, other.order_by("upstream_id").first())
    html = post(signed_in, elsewhere.url, {"action": "check", "mutation": mutation.pk})
    assert "did not touch this record: nothing was checked" in html
    mutation.refresh_from_db()
    assert mutation.reconciliation == Reconciliation.NONE


def test_sending_again_after_an_unknown_outcome_that_landed_is_no_conflict(
    signed_in: Client, indexed: Indexed, sandbox: SandboxServer
) -> None:
    record = indexed("salesforce:contact")
    page = open_record(signed_in, record)
    sandbox.faults.set(Fault(kind="timeout_504", apply=True))
    answer = post(signed_in, page.url, page.form_data({"Title": "Already there"}))
    again = OpenRecord(url=page.url, html=answer, record=record)
    # Send again, the edits as the answer left them in the form.
    html = post(signed_in, page.url, again.form_data({"Title": "Already there"}))
    assert "already holds your values" in html
    assert "changed upstream since you opened it" not in html and 'id="conflicts"' not in html
    assert Mutation.objects.count() == 1


def delete_upstream(sandbox: SandboxServer, record: IndexedRecord) -> None:
    found = upstream(sandbox, record)
    sandbox.store.save_record(found, data=found["data"], moment=utc_now(), deleted=True)


def test_a_deleted_record_page_is_read_only(signed_in: Client, indexed: Indexed) -> None:
    record = indexed("salesforce:contact")
    IndexedRecord.objects.filter(pk=record.pk).update(deleted=True)
    response = signed_in.get(
        f"/syncs/{record.sync_id}/{record.collection_id}/{record.upstream_id}/"
    )
    html = response.content.decode()
    assert 'id="deleted-note"' in html and "Deleted upstream." in html
    assert 'id="record-form"' not in html and "Send to Sequin" not in html
    assert 'name="data.Title"' not in html
    assert record.data["LastName"] in html.split('id="deleted-values"', 1)[1]


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_a_post_to_a_deleted_record_is_refused_and_sends_nothing(
    signed_in: Client, indexed: Indexed, sandbox: SandboxServer, htmx: bool
) -> None:
    record = indexed("salesforce:contact")
    page = open_record(signed_in, record)
    IndexedRecord.objects.filter(pk=record.pk).update(deleted=True)
    html = post(signed_in, page.url, page.form_data({"Title": "Too late"}), htmx=htmx)
    assert "deleted upstream: it can no longer be edited, and nothing was sent" in html
    assert 'id="record-form"' not in html
    assert not Mutation.objects.exists()
    assert upstream(sandbox, record)["data"]["Title"] == record.data["Title"]


def test_a_record_deleted_upstream_after_the_form_opened_is_refused(
    signed_in: Client, indexed: Indexed, sandbox: SandboxServer
) -> None:
    record = indexed("salesforce:contact")
    page = open_record(signed_in, record)
    delete_upstream(sandbox, record)
    html = post(signed_in, page.url, page.form_data({"Title": "Too late"}))
    assert "nothing was sent" in html and 'id="deleted-note"' in html
    assert not Mutation.objects.exists()


def test_consumers_are_named_in_the_unconfirmed_message_and_the_history(
    signed_in: Client, indexed: Indexed, sandbox: SandboxServer
) -> None:
    record = indexed("salesforce:contact")
    page = open_record(signed_in, record)
    sandbox.faults.set(Fault(kind="consumers_500"))
    html = post(
        signed_in,
        page.url,
        page.form_data(
            {"Title": "Named"}, raw={"await_consumer_ids": [CONSUMER_IDS[0], CONSUMER_IDS[1]]}
        ),
    )
    alert = html.split('class="outcome-alert"', 1)[1].split("</div>", 1)[0]
    assert "consumers not confirmed in time: crm-replica, search-indexer." in alert
    assert CONSUMER_IDS[0] not in alert
    mutation = Mutation.objects.get()
    assert mutation.await_consumer_names == {
        CONSUMER_IDS[0]: "crm-replica",
        CONSUMER_IDS[1]: "search-indexer",
    }
    detail = signed_in.get(f"/mutations/{mutation.pk}/").content.decode()
    assert "crm-replica, search-indexer" in detail


@pytest.mark.parametrize(
    "kind", ["timeout_504", "drop", "proxy_502", "unavailable_503", "empty_200", "no_content_204"]
)
def test_an_answer_that_hides_a_write_is_never_failed_and_check_again_finds_it(
    signed_in: Client, indexed: Indexed, sandbox: SandboxServer, kind: str
) -> None:
    record = indexed("salesforce:contact")
    page = open_record(signed_in, record)
    sandbox.faults.set(Fault(kind=kind, apply=True))
    answer = post(signed_in, page.url, page.form_data({"Title": "Written, answer lost"}))
    mutation = Mutation.objects.get()
    assert mutation.outcome == Outcome.UNKNOWN
    assert "may have landed" in answer or "Outcome unknown" in answer
    assert "alert-danger" not in answer
    html = check_again(signed_in, page, answer, mutation, {"Title": "Written, answer lost"})
    mutation.refresh_from_db()
    assert mutation.reconciliation == Reconciliation.APPLIED and mutation.applied
    assert "Saved upstream." in html
    detail = signed_in.get(f"/mutations/{mutation.pk}/").content.decode()
    assert ">Retry<" not in detail and "Saved upstream." in detail


def test_a_value_json_cannot_carry_is_refused_in_the_form_and_nothing_is_sent(
    signed_in: Client, indexed: Indexed
) -> None:
    record = indexed("salesforce:contact", data__has_key="MailingAddress")
    page = open_record(signed_in, record)
    html = post(signed_in, page.url, page.form_data({"MailingAddress": '{"lat": NaN}'}))
    assert "NaN is not a JSON value" in html or "Enter a valid JSON" in html
    assert "Outcome unknown" not in html
    assert not Mutation.objects.exists()


def test_the_consumer_timeout_says_the_admin_waits_that_long_plus_its_read_timeout(
    signed_in: Client, indexed: Indexed
) -> None:
    page = open_record(signed_in, indexed("salesforce:contact"))
    limit = page.html.split('id="id_await_consumers_timeout_helptext"', 1)[1].split("</div>", 1)[0]
    assert "At most 600,000 ms" in limit
    assert "the admin waits that long for its answer, plus its own read timeout" in limit


def test_a_403_reads_as_a_token_without_permission_and_keeps_the_edits(
    signed_in: Client, indexed: Indexed, settings: LazySettings
) -> None:
    record = indexed("salesforce:contact")
    page = open_record(signed_in, record)
    forbidding = StubServer(Canned(403, b'{"error": "Forbidden"}')).start()
    try:
        settings.SEQUIN_API_URL = forbidding.url
        html = post(signed_in, page.url, page.form_data({"Title": "Not allowed"}))
    finally:
        forbidding.stop()
    assert "The token lacks permission." in html
    assert "refused the token" not in html
    assert 'value="Not allowed"' in html
    mutation = Mutation.objects.get()
    assert (mutation.outcome, mutation.response_status) == (Outcome.FAILED, 403)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"MailingAddress": "[" * 100_000 + "]" * 100_000}, "nested 100000 levels deep"),
        ({"Title": "x" * 200_000}, "longer than 131,072 characters"),
    ],
)
def test_a_value_past_the_input_limits_is_refused_on_the_page_and_nothing_is_sent(
    signed_in: Client, indexed: Indexed, fields: dict, message: str
) -> None:
    page = open_record(signed_in, indexed("salesforce:contact"))
    for url in (page.url, f"{page.url}preview/"):
        response = signed_in.post(
            url,
            page.form_data(fields),
            headers={"HX-Request": "true", "HX-Target": "record-editor"},
        )
        assert response.status_code == 200
    assert message in post(signed_in, page.url, page.form_data(fields))
    assert Mutation.objects.count() == 0


def test_a_record_in_a_never_listed_collection_reads_sequin_for_a_bounded_time(
    signed_in: Client, sandbox: SandboxServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Its collection is listed a slice at a time, not whole in one request."""
    first = sandbox.store.list_records(collection_id="salesforce:contact", limit=1)[0]
    pages = -(-sandbox.store.count_records("salesforce:contact") // 500)
    sandbox.faults.set(Fault(kind="latency", latency_ms=1500, match="/v1/records", count=0))
    caplog.set_level(logging.INFO, logger="sequin_admin.sandbox")
    url = f"/syncs/{first['sync_id']}/salesforce:contact/{first['upstream_id']}/"

    response = signed_in.get(url)

    assert response.status_code == 200
    listed = [r for r in caplog.records if '"GET /v1/records' in r.getMessage()]
    assert 1 <= len(listed) < pages


def test_a_record_in_a_collection_the_sync_lacks_is_a_404_and_writes_nothing(
    signed_in: Client, sandbox: SandboxServer
) -> None:
    record = sandbox.store.any_record("salesforce:contact")
    for _ in range(2):
        response = signed_in.get(
            f"/syncs/{record['sync_id']}/salesforce:nothing/{record['upstream_id']}/"
        )
        assert response.status_code == 404
    assert not IndexedCollection.objects.exists() and not IndexedRecord.objects.exists()


def test_a_viewer_reads_the_record_page_without_its_buttons(
    client: Client, indexed: Indexed, db: None
) -> None:
    record = indexed("salesforce:contact")
    viewer = User.objects.create_user("viewer")
    Grant.objects.create(user=viewer, role=Role.VIEWER, collection_pattern="salesforce:*")
    client.force_login(viewer)
    html = open_record(client, record).html
    assert 'id="read-only-notice"' in html and "<fieldset disabled>" in html
    assert "Send to Sequin" not in html and 'id="preview-box"' not in html
    assert record.data["LastName"] in html
    Grant.objects.filter(user=viewer).update(role=Role.EDITOR)
    html = open_record(client, record).html
    assert 'id="read-only-notice"' not in html and "Send to Sequin" in html


BULK_CONTROLS = (
    'id="new-record-link"',
    'id="csv-upload-link"',
    'id="bulk-select"',
    'form="bulk-select"',
    "data-select-all",
)


@pytest.mark.parametrize("role", [Role.VIEWER, Role.EDITOR, Role.BULK_EDITOR])
def test_new_csv_bulk_and_delete_are_offered_only_to_bulk_editors(
    client: Client, indexed: Indexed, role: Role
) -> None:
    record = indexed("salesforce:contact")
    person = User.objects.create_user("person")
    Grant.objects.create(user=person, role=role, collection_pattern="salesforce:*")
    client.force_login(person)
    collection = f"/syncs/{record.sync_id}/{record.collection_id}/"
    page = client.get(collection).content.decode()
    results = client.get(collection, headers={"HX-Request": "true", "HX-Target": "results"})
    fragment = results.content.decode()
    assert 'class="row-link"' in page and 'class="row-link"' in fragment
    if role >= Role.BULK_EDITOR:
        assert all(control in page for control in BULK_CONTROLS)
        assert 'form="bulk-select"' in fragment and "data-select-all" in fragment
    else:
        assert not [c for c in BULK_CONTROLS if c in page or c in fragment], role
    record_page = open_record(client, record).html
    assert ('id="record-delete"' in record_page) is (role >= Role.BULK_EDITOR)


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
