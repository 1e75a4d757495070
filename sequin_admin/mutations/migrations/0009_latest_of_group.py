"""Each attempt knows whether it is its group's latest, so the history's one line per group
reads only those rows; the journal so far is marked as journal_start would have marked it.
The index on `group_id` alone goes: `mutation_group` (group_id, id) serves every query it did."""

from django.conf import settings
from django.db import migrations, models

MARK_OLDER_ATTEMPTS = """
UPDATE mutations_mutation SET latest_of_group = false
WHERE group_id IS NOT NULL AND EXISTS (
    SELECT 1 FROM mutations_mutation AS newer
    WHERE newer.group_id = mutations_mutation.group_id AND newer.id > mutations_mutation.id
)
"""


class Migration(migrations.Migration):
    dependencies = [
        ("mutations", "0008_fieldchange_field_indexed_with_its_record"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="mutation",
            name="latest_of_group",
            field=models.BooleanField(default=True),
        ),
        migrations.RunSQL(MARK_OLDER_ATTEMPTS, reverse_sql=migrations.RunSQL.noop),
        migrations.AlterField(
            model_name="mutation",
            name="group_id",
            field=models.UUIDField(blank=True, null=True),
        ),
        migrations.AddIndex(
            model_name="mutation",
            index=models.Index(
                condition=models.Q(("latest_of_group", True)), fields=["-id"], name="mutation_line"
            ),
        ),
        migrations.AddIndex(
            model_name="mutation",
            index=models.Index(
                condition=models.Q(("latest_of_group", True)),
                fields=["username", "-id"],
                name="mutation_user_line",
            ),
        ),
    ]
