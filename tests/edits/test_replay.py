"""Retry and revert: new attempts, linked to the original, through the conflict check."""

from __future__ import annotations

from django.contrib.auth.models import User

from sequin_admin.edits.replay import (
    mutation_retry,
    mutation_revert,
    replay_confirm,
    replay_plan,
)
from sequin_admin.mutations.models import Mutation, Outcome, Source
from sequin_admin.records.models import IndexedRecord
from sequin_admin.sandbox.faults import Fault
from sequin_admin.sandbox.server import SandboxServer
from tests.helpers import Indexed, send


def upstream_data(sandbox: SandboxServer, record: IndexedRecord) -> dict:
    found = sandbox.store.get_record(record.sync_id, record.collection_id, record.upstream_id)
    assert found is not None
    return found["data"]


def test_retry_of_a_failed_attempt_sends_the_same_payload(
    indexed: Indexed, user: User, sandbox: SandboxServer
) -> None:
    record = indexed("salesforce:contact")
    sandbox.faults.set(Fault(kind="rate_limit_429", count=1, retry_after=30))
    failed = send(record, user, {"Title": "Second time lucky"})
    assert failed.outcome == Outcome.FAILED
    result = mutation_retry(mutation=failed, user=user)
    assert result.status == "sent" and result.mutation is not None
    retry = Mutation.objects.get(pk=result.mutation.pk)
    assert retry.retry_of_id == failed.pk
    assert retry.source == Source.RETRY
    assert retry.outcome == Outcome.SUCCEEDED
    assert retry.request_body["records"] == failed.request_body["records"]
    assert upstream_data(sandbox, record)["Title"] == "Second time lucky"


def test_retry_of_an_unknown_attempt_that_landed_sends_nothing(
    indexed: Indexed, user: User, sandbox: SandboxServer
) -> None:
    record = indexed("salesforce:contact")
    sandbox.faults.set(Fault(kind="timeout_504", apply=True))
    unknown = send(record, user, {"Title": "Landed quietly"})
    result = mutation_retry(mutation=unknown, user=user)
    assert result.status == "nothing"
    assert Mutation.objects.count() == 1


def test_retry_stops_at_a_conflict_then_follows_the_choices(
    indexed: Indexed, user: User, sandbox: SandboxServer
) -> None:
    record = indexed("salesforce:contact")
    sandbox.faults.set(Fault(kind="timeout_504", apply=False))
    unknown = send(record, user, {"Title": "Mine", "Phone": "+1 555 0199"})
    sandbox.store.write_as_upstream(
        record.sync_id, record.collection_id, record.upstream_id, {"Title": "Theirs"}
    )
    result = mutation_retry(mutation=unknown, user=user)
    assert result.status == "conflict"
    assert {c.field for c in result.conflicts} == {"Title", "Phone"}
    assert Mutation.objects.count() == 1

    keep = {f"{record.upstream_id}.Phone"}
    resolved = mutation_retry(mutation=unknown, user=user, keep_mine=keep)
    assert resolved.status == "sent" and resolved.mutation is not None
    assert resolved.mutation.request_body["records"][0]["data"] == {"Phone": "+1 555 0199"}
    data = upstream_data(sandbox, record)
    assert (data["Title"], data["Phone"]) == ("Theirs", "+1 555 0199")


def test_a_create_that_may_have_landed_is_never_retried(indexed: Indexed, user: User) -> None:
    record = indexed("salesforce:contact")
    unknown_create = Mutation.objects.create(
        kind="create",
        sync_id=record.sync_id,
        collection_id=record.collection_id,
        request_body={},
        outcome=Outcome.UNKNOWN,
    )
    assert not unknown_create.retryable
    assert mutation_retry(mutation=unknown_create, user=user).status == "refused"


def test_revert_puts_back_the_before_values(
    indexed: Indexed, user: User, sandbox: SandboxServer
) -> None:
    record = indexed("salesforce:contact", data__Phone__isnull=False)
    original = send(record, user, {"Title": "Temporary", "Phone": None})
    result = mutation_revert(mutation=original, user=user)
    assert result.status == "sent" and result.mutation is not None
    revert = result.mutation
    assert revert.revert_of_id == original.pk
    assert revert.outcome == Outcome.SUCCEEDED
    assert revert.request_body["records"][0]["data"] == {
        "Title": record.data["Title"],
        "Phone": record.data["Phone"],
    }
    data = upstream_data(sandbox, record)
    assert (data["Title"], data["Phone"]) == (record.data["Title"], record.data["Phone"])


def test_revert_leaves_fields_changed_since(
    indexed: Indexed, user: User, sandbox: SandboxServer
) -> None:
    record = indexed("salesforce:contact")
    original = send(record, user, {"Title": "Ours", "LeadSource": "Partner Referral"})
    sandbox.store.write_as_upstream(
        record.sync_id, record.collection_id, record.upstream_id, {"Title": "Someone else's"}
    )
    result = mutation_revert(mutation=original, user=user)
    assert result.status == "sent" and result.mutation is not None
    assert result.mutation.request_body["records"][0]["data"] == {
        "LeadSource": record.data["LeadSource"]
    }
    assert "Title changed since" in result.message
    assert upstream_data(sandbox, record)["Title"] == "Someone else's"


def test_a_failed_attempt_cannot_be_reverted(
    indexed: Indexed, user: User, sandbox: SandboxServer
) -> None:
    record = indexed("salesforce:contact")
    failed = send(record, user, {"Email": "broken"})
    assert mutation_revert(mutation=failed, user=user).status == "refused"


def test_a_plan_sends_nothing_and_its_confirmation_sends_it_once(
    indexed: Indexed, user: User, sandbox: SandboxServer
) -> None:
    record = indexed("salesforce:contact")
    sandbox.faults.set(Fault(kind="rate_limit_429", count=1, retry_after=30))
    failed = send(record, user, {"Title": "Planned"})

    plan = replay_plan(mutation=failed, action="retry")

    assert plan.status == "ready" and plan.token and plan.request is not None
    assert plan.request.body()["records"] == failed.request_body["records"]
    assert [(d.field, d.before, d.after) for d in plan.diff] == [
        ("Title", record.data["Title"], "Planned")
    ]
    assert Mutation.objects.count() == 1
    sent = replay_confirm(mutation=failed, action="retry", user=user, token=plan.token)
    again = replay_confirm(mutation=failed, action="retry", user=user, token=plan.token)
    assert sent.status == "sent" and again.status == "duplicate"
    assert sent.mutation is not None and again.mutation == sent.mutation
    assert Mutation.objects.count() == 2


def test_a_landed_revert_refuses_the_next_one(indexed: Indexed, user: User) -> None:
    record = indexed("salesforce:contact")
    applied = send(record, user, {"Title": "Reverted once"})
    revert = mutation_revert(mutation=applied, user=user).mutation
    assert revert is not None and revert.applied
    applied.refresh_from_db()
    assert not applied.revertible
    plan = replay_plan(mutation=applied, action="revert")
    assert (plan.status, plan.message) == ("refused", f"Already reverted by mutation #{revert.pk}.")
