"""Every change of the SLA targets or calendars renews the ``sla`` generation token, so
the per-process copy of the targets (``cases.actions.clocks``) reloads at once."""

from django.db import migrations

from retainer.lib.snapshots import generation_triggers


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0004_console_sort_indexes"),
        ("lib", "0002_generations"),
    ]

    operations = [generation_triggers("sla", ["cases_slatarget", "cases_businesscalendar"])]
