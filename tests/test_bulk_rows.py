from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sequin_admin.bulk_rows import rows_insert, rows_update
from sequin_admin.edits.models import ItemOutcome, Job, JobItem

pytestmark = pytest.mark.django_db


def _job() -> Job:
    return Job.objects.create(
        sync_id="s", collection_id="c", kind="update", group_id=uuid.uuid4(), total=3
    )


def test_rows_are_inserted_in_one_statement_with_their_ids_in_order_and_defaults() -> None:
    job = _job()
    rows = [(job.pk, n, f"id-{n}", {"Title": f"t{n}"}) for n in range(3)]
    with CaptureQueriesContext(connection) as captured:
        ids = rows_insert(JobItem, ("job", "position", "upstream_id", "data"), rows)
    assert len(captured) == 1
    stored = {i.pk: i for i in JobItem.objects.filter(job=job)}
    assert [(stored[pk].position, stored[pk].upstream_id, stored[pk].data) for pk in ids] == [
        (0, "id-0", {"Title": "t0"}),
        (1, "id-1", {"Title": "t1"}),
        (2, "id-2", {"Title": "t2"}),
    ]
    # Every field not given has its model default, as bulk_create would write.
    assert {(i.outcome, i.batch_token, i.message, i.mutation_id) for i in stored.values()} == {
        (ItemOutcome.PENDING, "", "", None)
    }


def test_nothing_to_insert_asks_nothing() -> None:
    with CaptureQueriesContext(connection) as captured:
        assert rows_insert(JobItem, ("job", "position"), []) == []
    assert len(captured) == 0


def test_rows_are_updated_by_id_in_one_executemany() -> None:
    job = _job()
    first, second = rows_insert(
        JobItem, ("job", "position", "data"), [(job.pk, 0, {"a": 1}), (job.pk, 1, {"b": 2})]
    )
    with CaptureQueriesContext(connection) as captured:
        rows_update(JobItem, ("message", "data"), [(second, ("done", {"b": 3}))])
    assert len(captured) == 1
    assert dict(JobItem.objects.values_list("pk", "message")) == {first: "", second: "done"}
    assert JobItem.objects.get(pk=second).data == {"b": 3}
    assert JobItem.objects.get(pk=first).data == {"a": 1}


def test_updated_values_keep_their_types_and_none_is_sql_null() -> None:
    """JSON values of every shape, None as SQL NULL (not JSON null), datetimes, booleans and
    foreign keys come back as written, on either path (PostgreSQL's one statement)."""
    from django.utils import timezone

    from sequin_admin.mutations.models import FieldChange, Mutation, MutationRecord

    mutation = Mutation.objects.create(
        kind="update", sync_id="s", collection_id="c", request_body={}
    )
    other = Mutation.objects.create(kind="update", sync_id="s", collection_id="c", request_body={})
    records = rows_insert(
        MutationRecord, ("mutation", "upstream_id"), [(mutation.pk, f"r{n}") for n in range(4)]
    )
    returned = [{"a": [1, None, {"b": "é"}]}, "text", None, 7]
    rows_update(
        MutationRecord,
        ("mutation", "upstream_id", "returned_updated_idx", "returned_data"),
        [
            (pk, (other.pk, f"u{n}", None if n == 2 else n, value))
            for n, (pk, value) in enumerate(zip(records, returned, strict=True))
        ],
    )
    stored = MutationRecord.objects.filter(pk__in=records).order_by("pk")
    assert [
        (r.mutation_id, r.upstream_id, r.returned_updated_idx, r.returned_data) for r in stored
    ] == [
        (other.pk, "u0", 0, {"a": [1, None, {"b": "é"}]}),
        (other.pk, "u1", 1, "text"),
        (other.pk, "u2", None, None),
        (other.pk, "u3", 3, 7),
    ]
    assert list(
        MutationRecord.objects.filter(returned_data__isnull=True).values_list("pk", flat=True)
    ) == [records[2]]
    change = rows_insert(FieldChange, ("record", "field"), [(records[0], "Title")])[0]
    moment = timezone.now()
    rows_update(Mutation, ("finished_at", "reconciliation_note"), [(mutation.pk, (moment, "n"))])
    rows_update(FieldChange, ("has_returned", "returned"), [(change, (True, False))])
    assert Mutation.objects.get(pk=mutation.pk).finished_at == moment
    assert FieldChange.objects.filter(pk=change).values_list("has_returned", "returned").get() == (
        True,
        False,
    )


def test_rows_inserted_without_their_ids_are_stored_with_defaults_in_one_statement() -> None:
    job = _job()
    rows = [(job.pk, n, f"id-{n}", {"Title": f"t{n}", "n": [n, None]}) for n in range(3)]
    with CaptureQueriesContext(connection) as captured:
        ids = rows_insert(
            JobItem, ("job", "position", "upstream_id", "data"), rows, returning=False
        )
    assert (ids, len(captured)) == ([], 1)
    stored = JobItem.objects.filter(job=job).order_by("position")
    assert [(i.position, i.upstream_id, i.data) for i in stored] == [
        (n, f"id-{n}", {"Title": f"t{n}", "n": [n, None]}) for n in range(3)
    ]
    assert {(i.outcome, i.batch_token, i.message, i.mutation_id) for i in stored} == {
        (ItemOutcome.PENDING, "", "", None)
    }
