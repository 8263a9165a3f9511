"""The key row is written with its response, so every row has a status.

Rows without one could only come from a request that never committed its response;
none can exist, and any that did would be unusable for replay, so they are removed.
"""

from django.db import migrations, models


def drop_rows_without_response(apps, schema_editor):
    apps.get_model("lib", "IdempotencyKey").objects.filter(status_code__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("lib", "0002_generations"),
    ]

    operations = [
        migrations.RunPython(drop_rows_without_response, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="idempotencykey",
            name="status_code",
            field=models.PositiveSmallIntegerField(),
        ),
    ]
