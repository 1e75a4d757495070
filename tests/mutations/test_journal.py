"""Exactly one journal entry per attempt, with its true outcome and per-field values."""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection

from sequin_admin.mutations.journal import journal_start
from sequin_admin.mutations.models import FieldChange, Mutation, Outcome, Source
from sequin_admin.mutations.run import mutation_run, mutation_run_in_batches
from sequin_admin.records.models import IndexedRecord
from sequin_admin.sandbox.demo_data import CONSUMER_IDS
from sequin_admin.sandbox.faults import Fault
from sequin_admin.sandbox.server import SandboxServer
from sequin_admin.sequin import MutationRequest
from tests.helpers import Indexed, send


def test_success_keeps_before_sent_and_returned(
    indexed: Indexed, user: User, sandbox: SandboxServer
) -> None:
    record = indexed("salesforce:contact")
    mutation = send(record, user, {"Title": "VP Journal"})
    assert Mutation.objects.count() == 1
    mutation.refresh_from_db()
    assert mutation.outcome == Outcome.SUCCEEDED
    assert mutation.username == "ada"
    assert mutation.response_status == 200
    assert mutation.duration_ms is not None
    assert "sandbox-token" not in str(mutation.request_body) + mutation.response_body
    (change,) = FieldChange.objects.filter(record__mutation=mutation)
    assert (change.field, change.before, change.sent, change.returned) == (
        "Title",
        record.data["Title"],
        "VP Journal",
        "VP Journal",
    )
    assert change.record.before_updated_idx == record.updated_idx
    indexed_after = IndexedRecord.objects.get(pk=record.pk)
    if sandbox.profile.answers_carry_updated_idx:
        assert change.record.returned_updated_idx > record.updated_idx
        assert indexed_after.updated_idx == change.record.returned_updated_idx
    else:  # the real profile: no version in the answer, none invented; the row awaits a re-read
        assert change.record.returned_updated_idx is None
        assert indexed_after.reread_pending and indexed_after.data["Title"] == "VP Journal"


FAULTS = [
    (Fault(kind="timeout_504", apply=True), Outcome.UNKNOWN, 504),
    (Fault(kind="timeout_504", apply=False), Outcome.UNKNOWN, 504),
    (Fault(kind="drop", apply=True), Outcome.UNKNOWN, None),
    (Fault(kind="consumers_500"), Outcome.CONSUMERS_UNCONFIRMED, 500),
    (Fault(kind="rate_limit_429", count=0, retry_after=30), Outcome.FAILED, 429),
    (Fault(kind="rate_limit_429", count=1, retry_after=0), Outcome.SUCCEEDED, 200),
    (Fault(kind="garbage", status=502), Outcome.UNKNOWN, 502),
    (Fault(kind="garbage", status=200), Outcome.UNKNOWN, 200),
    (Fault(kind="error_500"), Outcome.UNKNOWN, 500),
    (Fault(kind="proxy_502", apply=True), Outcome.UNKNOWN, 502),
    (Fault(kind="unavailable_503", apply=True), Outcome.UNKNOWN, 503),
    (Fault(kind="empty_200", apply=True), Outcome.UNKNOWN, 200),
    (Fault(kind="no_content_204", apply=True), Outcome.UNKNOWN, 204),
    (Fault(kind="latency", latency_ms=50), Outcome.SUCCEEDED, 200),
]


@pytest.mark.parametrize(("fault", "outcome", "status"), FAULTS, ids=lambda v: str(v))
def test_each_fault_leaves_one_entry_with_its_outcome(
    indexed: Indexed,
    user: User,
    sandbox: SandboxServer,
    fault: Fault,
    outcome: Outcome,
    status: int | None,
) -> None:
    record = indexed("salesforce:contact")
    sandbox.faults.set(fault)
    extra = {}
    if fault.kind == "consumers_500":
        extra = {"await_consumer_ids": (CONSUMER_IDS[0],), "await_consumers_timeout": 100}
    send(record, user, {"Title": "Faulted"}, **extra)
    (mutation,) = Mutation.objects.all()
    assert mutation.outcome == outcome
    assert mutation.response_status == status
    assert mutation.finished_at is not None
    (change,) = FieldChange.objects.filter(record__mutation=mutation)
    assert (change.before, change.sent) == (record.data["Title"], "Faulted")
    assert change.has_returned is (outcome == Outcome.SUCCEEDED)


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"Email": "bad@"}, "INVALID_EMAIL_ADDRESS"),
        ({"CreatedDate": "2020-01-01T00:00:00Z"}, "INVALID_FIELD_FOR_INSERT_UPDATE"),
        ({"Shoe": "42"}, "INVALID_FIELD"),
        ({"HasOptedOutOfEmail": "yes"}, "JSON_PARSER_ERROR"),
        ({"LastName": None}, "REQUIRED_FIELD_MISSING"),
    ],
)
def test_validation_errors_are_failures_with_the_upstream_words(
    indexed: Indexed, user: User, data: dict, fragment: str
) -> None:
    record = indexed("salesforce:contact")
    send(record, user, data)
    (mutation,) = Mutation.objects.all()
    assert mutation.outcome == Outcome.FAILED
    assert mutation.response_status == 400
    assert fragment in mutation.error_message


def test_unknown_record_and_refused_token_are_failures(
    indexed: Indexed, user: User, settings: object
) -> None:
    record = indexed("salesforce:contact")
    ghost = IndexedRecord(
        sync_id=record.sync_id,
        collection_id=record.collection_id,
        upstream_id="003GHOST",
        data={},
        updated_idx=1,
    )
    send(ghost, user, {"Title": "x"})
    settings.SEQUIN_API_TOKEN = "nope"
    send(record, user, {"Title": "x"})
    statuses = list(Mutation.objects.order_by("id").values_list("outcome", "response_status"))
    assert statuses == [(Outcome.FAILED, 404), (Outcome.FAILED, 401)]


def test_unreachable_sequin_is_a_failure_with_nothing_sent(
    indexed: Indexed, user: User, settings: object
) -> None:
    record = indexed("salesforce:contact")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.SEQUIN_API_URL = f"http://127.0.0.1:{port}"
    send(record, user, {"Title": "x"})
    mutation = Mutation.objects.get()
    assert mutation.outcome == Outcome.FAILED
    assert mutation.response_status is None
    assert mutation.error_title == "Sequin could not be reached"


def test_a_form_token_sends_once(indexed: Indexed, user: User) -> None:
    record = indexed("salesforce:contact")
    request = MutationRequest(
        kind="update",
        sync_id=record.sync_id,
        collection_id=record.collection_id,
        records=({"upstream_id": record.upstream_id, "data": {"Title": "t"}},),
    )
    first, new_first = mutation_run(
        request=request, user=user, source=Source.FORM, seen={}, form_token="tok"
    )
    again, new_again = mutation_run(
        request=request, user=user, source=Source.FORM, seen={}, form_token="tok"
    )
    assert (new_first, new_again) == (True, False)
    assert first.pk == again.pk
    assert Mutation.objects.count() == 1


def test_batches_are_split_by_the_cap_and_share_a_group(
    indexed: Indexed, user: User, settings: object, sandbox: SandboxServer
) -> None:
    settings.SEQUIN_MAX_RECORDS_PER_MUTATION = 2
    indexed("hubspot:company")
    rows = list(IndexedRecord.objects.filter(collection_id="hubspot:company")[:5])
    attempts = mutation_run_in_batches(
        kind="update",
        sync_id=rows[0].sync_id,
        collection_id="hubspot:company",
        records=[{"upstream_id": r.upstream_id, "data": {"city": "Oslo"}} for r in rows],
        user=user,
        source=Source.COMMAND,
        seen={},
    )
    assert [len(m.request_body["records"]) for m in attempts] == [2, 2, 1]
    assert len({m.group_id for m in attempts}) == 1
    assert all(m.outcome == Outcome.SUCCEEDED for m in attempts)


def test_deleting_a_user_keeps_their_entries(indexed: Indexed, user: User) -> None:
    record = indexed("salesforce:contact")
    send(record, user, {"Title": "Before leaving"})
    user.delete()
    mutation = Mutation.objects.get()
    assert mutation.user is None
    assert mutation.user_display == "ada"


def test_awaited_consumers_are_journaled_by_name_and_a_retry_keeps_them(user: User) -> None:
    request = MutationRequest(
        kind="update",
        sync_id="s1",
        collection_id="salesforce:contact",
        records=({"upstream_id": "u1", "data": {"Title": "t"}},),
        await_consumer_ids=("c-1", "c-2"),
    )
    first = journal_start(
        request=request,
        user=user,
        source=Source.FORM,
        seen={},
        consumer_names={"c-1": "Orders webhook", "c-9": "not awaited"},
    )
    assert first.await_consumer_names == {"c-1": "Orders webhook"}
    assert first.awaited_consumer_names == ["Orders webhook", "c-2"]  # no name known: the id
    retry = journal_start(request=request, user=user, source=Source.RETRY, seen={}, retry_of=first)
    assert retry.awaited_consumer_names == ["Orders webhook", "c-2"]


@pytest.mark.django_db(transaction=True)
def test_a_groups_attempts_journaled_at_once_leave_one_latest_the_newest() -> None:
    """A job's threads journal its batches at the same time; whichever order they commit in,
    only the group's newest attempt is marked its latest."""
    group = uuid.uuid4()
    request = MutationRequest(
        kind="update",
        sync_id="s1",
        collection_id="salesforce:contact",
        records=({"upstream_id": "u1", "data": {"Title": "t"}},),
    )

    def slowly(execute: Callable[..., Any], sql: str, *args: Any) -> Any:
        result = execute(sql, *args)
        if sql.startswith(f'INSERT INTO "{Mutation._meta.db_table}"'):
            time.sleep(0.02)  # another thread's attempt gets its id before this one commits
        return result

    def journal_some(_: int) -> None:
        try:
            with connection.execute_wrapper(slowly):
                for _ in range(10):
                    journal_start(
                        request=request, user=None, source=Source.JOB, seen={}, group_id=group
                    )
        finally:
            connection.close()

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(journal_some, range(4)))
    attempts = Mutation.objects.filter(group_id=group)
    assert attempts.count() == 40
    newest = attempts.latest("id").pk
    assert list(attempts.filter(latest_of_group=True).values_list("pk", flat=True)) == [newest]


def _title_request(record: IndexedRecord, title: str) -> MutationRequest:
    return MutationRequest(
        kind="update",
        sync_id=record.sync_id,
        collection_id=record.collection_id,
        records=({"upstream_id": record.upstream_id, "data": {"Title": title}},),
    )


def test_on_answer_runs_once_the_answer_is_journaled(indexed: Indexed, user: User) -> None:
    record = indexed("salesforce:contact")
    seen_inside = []

    def on_answer(answered: Mutation) -> None:
        stored = Mutation.objects.get(pk=answered.pk)
        seen_inside.append((stored.outcome, IndexedRecord.objects.get(pk=record.pk).data["Title"]))
        User.objects.filter(pk=user.pk).update(first_name="settled")

    mutation, _ = mutation_run(
        request=_title_request(record, "VP Answer"),
        user=user,
        source=Source.FORM,
        seen={},
        on_answer=on_answer,
    )
    assert seen_inside == [(Outcome.SUCCEEDED, "VP Answer")]
    assert mutation.outcome == Outcome.SUCCEEDED
    assert User.objects.get(pk=user.pk).first_name == "settled"


def test_a_failing_on_answer_keeps_the_answer_journaled_and_is_raised_after(
    indexed: Indexed, user: User
) -> None:
    record = indexed("salesforce:contact")

    def on_answer(answered: Mutation) -> None:
        User.objects.filter(pk=user.pk).update(first_name="rolled back")
        raise RuntimeError("the caller's fault")

    with pytest.raises(RuntimeError, match="the caller's fault"):
        mutation_run(
            request=_title_request(record, "VP Kept"),
            user=user,
            source=Source.FORM,
            seen={},
            on_answer=on_answer,
        )
    (mutation,) = Mutation.objects.all()
    assert mutation.outcome == Outcome.SUCCEEDED
    assert FieldChange.objects.get(record__mutation=mutation).returned == "VP Kept"
    assert IndexedRecord.objects.get(pk=record.pk).data["Title"] == "VP Kept"
    # Its own writes went with its savepoint.
    assert User.objects.get(pk=user.pk).first_name != "rolled back"


def test_on_answer_does_not_run_without_a_successful_answer(
    indexed: Indexed, user: User, sandbox: SandboxServer
) -> None:
    record = indexed("salesforce:contact")
    sandbox.faults.set(Fault(kind="timeout_504", apply=True))
    called = []
    mutation, _ = mutation_run(
        request=_title_request(record, "VP Unknown"),
        user=user,
        source=Source.FORM,
        seen={},
        on_answer=called.append,
    )
    assert (mutation.outcome, called) == (Outcome.UNKNOWN, [])
