"""Field values as SQL and their expression indexes."""

from __future__ import annotations

import pytest
from django.db import connection

from sequin_admin.records import field_indexes
from sequin_admin.records.field_indexes import (
    FieldCondition,
    FieldValue,
    field_index_ensure,
    field_index_name,
    is_field_path,
)
from sequin_admin.records.models import IndexedRecord


def index_state(name: str) -> bool | None:
    """Whether the index exists and is usable; None when it does not exist."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(%s)", [name]
            )
            found = cursor.fetchone()
            return None if found is None else bool(found[0])
        cursor.execute("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = %s", [name])
        return True if cursor.fetchone() else None


def drop(name: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f'DROP INDEX IF EXISTS "{name}"')


@pytest.mark.django_db(transaction=True)
def test_an_index_is_built_once_outside_a_transaction() -> None:
    """On PostgreSQL that is CREATE INDEX CONCURRENTLY, which no transaction may hold."""
    name = field_index_name("ProbeField")
    drop(name)
    try:
        assert not connection.in_atomic_block
        assert field_index_ensure(path="ProbeField") is True
        assert index_state(name) is True
        assert field_index_ensure(path="ProbeField") is False
    finally:
        drop(name)


@pytest.mark.parametrize("path", ["Name", "MailingAddress.city", "Custom__c", "properties.hs_x"])
def test_field_paths_providers_use(path: str) -> None:
    assert is_field_path(path)


@pytest.mark.parametrize("path", ["", "a..b", "a'b", "a b", "a.b.c.d.e", "$.a", "a-b"])
def test_anything_else_is_no_field_path(path: str) -> None:
    assert not is_field_path(path)
    with pytest.raises(ValueError):
        FieldValue(path)


@pytest.mark.django_db
def test_contains_takes_wildcards_literally() -> None:
    for n, note in enumerate(["50% off", "5000 off", "a_b", "axb"]):
        IndexedRecord.objects.create(
            sync_id="s", collection_id="c", upstream_id=str(n), data={"Note": note}
        )

    def found(text: str) -> list[str]:
        rows = IndexedRecord.objects.filter(FieldCondition("Note", "contains", text=text))
        return sorted(r.data["Note"] for r in rows)

    assert found("0%") == ["50% off"]
    assert found("a_b") == ["a_b"]
    assert found("OFF") == ["50% off", "5000 off"]


@pytest.mark.django_db
def test_a_database_that_refuses_the_index_still_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    """As with a database user without the right to CREATE: the listing runs unindexed."""
    IndexedRecord.objects.create(sync_id="s", collection_id="c", upstream_id="1", data={"N": 1})
    monkeypatch.setattr(field_indexes, "_path_sql", lambda path, vendor: "no_such_function(1)")
    assert field_indexes.field_index_ensure(path="Refused") is False
    assert IndexedRecord.objects.filter(sync_id="s").count() == 1  # the connection still works
