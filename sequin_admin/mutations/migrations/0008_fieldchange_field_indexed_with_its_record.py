"""A change's field is found through its record (fieldchange_record_field) only: the index on
`field` alone served no query, cost two index writes per change on PostgreSQL (it and its
`_like` twin) and, on tables never analyzed, lured the planner into reading every change of a
field for each attempt of a `?field=` page."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("mutations", "0007_history_indexes"),
    ]

    operations = [
        migrations.AlterField(
            model_name="fieldchange",
            name="field",
            field=models.CharField(max_length=255),
        ),
    ]
