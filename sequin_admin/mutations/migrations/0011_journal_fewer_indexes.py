"""The journal's records and changes keep only the indexes their reads need; each is written
for every record and change an attempt journals, and again when its answer is stored.

- A change's record has no index of its own: `fieldchange_record_field` leads with it.
- A record's `upstream_id` is matched by equality only (a record's timeline, the history's
  `?upstream_id=`): PostgreSQL's `_like` twin, which db_index=True adds for LIKE prefixes, goes.
  The plain index stays as it is, renamed: a journal of millions of records is not indexed
  again (SQLite, which renames no index, makes it again).
"""

from __future__ import annotations

from typing import Any

import django.db.models.deletion
from django.db import migrations, models

UPSTREAM_ID_INDEX = "mutation_record_upstream_id"


def _upstream_id_indexes(schema_editor: Any, table: str) -> list[str]:
    """Names of the table's plain indexes of `upstream_id` alone (and its `_like` twin)."""
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return sorted(
        name
        for name, found in constraints.items()
        if found["index"] and not found["unique"] and found["columns"] == ["upstream_id"]
    )


def _index(name: str) -> models.Index:
    return models.Index(fields=["upstream_id"], name=name)


def keep_one_plain_index(apps: Any, schema_editor: Any) -> None:
    model = apps.get_model("mutations", "MutationRecord")
    names = _upstream_id_indexes(schema_editor, model._meta.db_table)
    for name in names:
        if name.endswith("_like"):
            schema_editor.remove_index(model, _index(name))
    plain = [name for name in names if not name.endswith("_like")]
    if plain == [UPSTREAM_ID_INDEX]:
        return
    if not plain:  # a database that lost it: made as the model says
        schema_editor.add_index(model, _index(UPSTREAM_ID_INDEX))
        return
    schema_editor.rename_index(model, _index(plain[0]), _index(UPSTREAM_ID_INDEX))


def index_as_db_index_does(apps: Any, schema_editor: Any) -> None:
    model = apps.get_model("mutations", "MutationRecord")
    field = model._meta.get_field("upstream_id")
    # The names and the `_like` twin Django gives a field's db_index.
    plain = schema_editor._create_index_name(model._meta.db_table, [field.column])
    schema_editor.rename_index(model, _index(UPSTREAM_ID_INDEX), _index(plain))
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(schema_editor._create_like_index_sql(model, field))


class Migration(migrations.Migration):
    dependencies = [
        ("mutations", "0010_mutation_group_fields"),
    ]

    operations = [
        migrations.AlterField(
            model_name="fieldchange",
            name="record",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="changes",
                to="mutations.mutationrecord",
            ),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="mutationrecord",
                    name="upstream_id",
                    field=models.CharField(blank=True, max_length=255),
                ),
                migrations.AddIndex(model_name="mutationrecord", index=_index(UPSTREAM_ID_INDEX)),
            ],
            database_operations=[
                migrations.RunPython(keep_one_plain_index, index_as_db_index_does),
            ],
        ),
    ]
