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
