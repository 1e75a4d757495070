"""Migration 0011: the journal's records keep one plain index of `upstream_id` (renamed, not
made again) and changes no index of their own record; both ways."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from sequin_admin.mutations.models import FieldChange, MutationRecord

BEFORE = ("mutations", "0010_mutation_group_fields")
LATEST = ("mutations", "0011_journal_fewer_indexes")


def migrate(target: tuple[str, str]) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([target])


def indexes_of(table: str, column: str) -> dict[str, list[str]]:
    """The table's non-unique indexes whose first column is `column`: name -> columns."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return {
        name: found["columns"]
        for name, found in constraints.items()
        if found["index"] and not found["unique"] and found["columns"][0] == column
    }


@pytest.mark.django_db(transaction=True)  # SQLite's schema editor runs outside a transaction
def test_the_journal_loses_its_redundant_indexes_and_gets_them_back() -> None:
    records, changes = MutationRecord._meta.db_table, FieldChange._meta.db_table
    latest_upstream_id = indexes_of(records, "upstream_id")
    latest_record = indexes_of(changes, "record_id")
    assert latest_upstream_id == {"mutation_record_upstream_id": ["upstream_id"]}
    assert latest_record == {"fieldchange_record_field": ["record_id", "field"]}

    migrate(BEFORE)
    before_upstream_id = indexes_of(records, "upstream_id")
    like_twins = [name for name in before_upstream_id if name.endswith("_like")]
    assert len(like_twins) == (1 if connection.vendor == "postgresql" else 0)
    assert len(before_upstream_id) == 1 + len(like_twins)
    assert "mutation_record_upstream_id" not in before_upstream_id
    assert len(indexes_of(changes, "record_id")) == 2

    migrate(LATEST)
    assert indexes_of(records, "upstream_id") == latest_upstream_id
    assert indexes_of(changes, "record_id") == latest_record
