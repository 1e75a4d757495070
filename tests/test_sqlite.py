"""SQLite's writers in this process queue on a lock held from BEGIN to COMMIT or ROLLBACK."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.db import connection, connections, transaction

from sequin_admin.edits.models import Job
from sequin_admin.sqlite.base import write_lock_for

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "sqlite",
        reason="sequin_admin.sqlite is SQLite's backend only; PostgreSQL runs Django's own",
    ),
]


def lock() -> threading.Lock:
    return write_lock_for(str(connection.settings_dict["NAME"]))


def new_job() -> Job:
    return Job.objects.create(sync_id="s", collection_id="c", kind="update", group_id=uuid.uuid4())


def test_the_lock_is_held_from_begin_to_commit() -> None:
    assert not lock().locked()
    with transaction.atomic():
        assert lock().locked()
        new_job()
        with transaction.atomic():  # a savepoint: the same transaction, the same hold
            assert lock().locked()
        assert lock().locked()
    assert not lock().locked()
    assert Job.objects.count() == 1


def test_the_lock_is_released_by_a_rollback() -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        new_job()
        assert lock().locked()
        raise RuntimeError("undone")
    assert not lock().locked()
    assert not Job.objects.exists()


def test_a_second_writer_waits_for_the_first_then_sees_its_row() -> None:
    trying, done = threading.Event(), threading.Event()
    seen: list[int] = []

    def second_writer() -> None:
        try:
            trying.set()
            with transaction.atomic():
                seen.append(Job.objects.count())
                new_job()
        finally:
            connections.close_all()
            done.set()

    with transaction.atomic():
        new_job()
        thread = threading.Thread(target=second_writer)
        thread.start()
        assert trying.wait(10)
        # It cannot begin while this transaction holds the lock (its BEGIN waits on it).
        assert not done.wait(0.2) and seen == []
    thread.join(10)
    assert seen == [1]  # it began after this commit
    assert Job.objects.count() == 2 and not lock().locked()
