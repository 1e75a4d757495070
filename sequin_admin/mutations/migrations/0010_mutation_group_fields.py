"""Each group's latest attempt holds the fields its group changed (`group_fields`), so the
history's lines filtered by a field read only the lines; the journal so far gets what
journal_start would have written."""

from __future__ import annotations

from typing import Any

from django.db import migrations, models

# Lines filled per round: two queries each, whatever the journal's size.
LINES_A_ROUND = 500


def fill_group_fields(apps: Any, schema_editor: Any) -> None:
    # The model's own helper: a historical model has no functions of its module.
    from sequin_admin.mutations.models import group_fields_text

    mutation_model = apps.get_model("mutations", "Mutation")
    change_model = apps.get_model("mutations", "FieldChange")
    alias = schema_editor.connection.alias
    lines = mutation_model.objects.using(alias).filter(latest_of_group=True).order_by("id")
    after = 0
    while batch := list(lines.filter(id__gt=after).only("id", "group_id")[:LINES_A_ROUND]):
        after = batch[-1].id
        names: dict[int, set[str]] = {line.id: set() for line in batch}
        line_of_group = {line.group_id: line.id for line in batch if line.group_id}
        changes = change_model.objects.using(alias)
        for group_id, name in (
            changes.filter(record__mutation__group_id__in=list(line_of_group))
            .values_list("record__mutation__group_id", "field")
            .distinct()
        ):
            names[line_of_group[group_id]].add(name)
        lone = [line.id for line in batch if not line.group_id]
        for mutation_id, name in (
            changes.filter(record__mutation_id__in=lone)
            .values_list("record__mutation_id", "field")
            .distinct()
        ):
            names[mutation_id].add(name)
        for line in batch:
            line.group_fields = group_fields_text(names[line.id])
        mutation_model.objects.using(alias).bulk_update(batch, ["group_fields"])


class Migration(migrations.Migration):
    dependencies = [("mutations", "0009_latest_of_group")]

    operations = [
        migrations.AddField(
            model_name="mutation",
            name="group_fields",
            field=models.TextField(blank=True, default=""),
        ),
        migrations.RunPython(fill_group_fields, migrations.RunPython.noop),
    ]
