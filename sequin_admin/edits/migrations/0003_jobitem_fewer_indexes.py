"""A job's items keep only the indexes their reads need: every index more is written for each
item when the job starts, when a batch takes it and when the batch's answer settles it (an
update of `outcome` is never HOT: `job_item_outcome` holds it).

- The job's own index goes: `job_item_position` (job, position) leads with the job.
- `job_item_batch` goes: a batch's items are found among its job's items in flight
  (`job_item_outcome`), at most the batches a run has in hand.
- The attempt's index keeps only the items that have one: a pending item has none.
"""

from __future__ import annotations

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("edits", "0002_csv_update_plan"),
        ("mutations", "0010_mutation_group_fields"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="jobitem", name="job_item_batch"),
        migrations.AlterField(
            model_name="jobitem",
            name="job",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="items",
                to="edits.job",
            ),
        ),
        migrations.AlterField(
            model_name="jobitem",
            name="mutation",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="mutations.mutation",
            ),
        ),
        migrations.AddIndex(
            model_name="jobitem",
            index=models.Index(
                condition=models.Q(("mutation__isnull", False)),
                fields=["mutation"],
                name="job_item_mutation",
            ),
        ),
    ]
