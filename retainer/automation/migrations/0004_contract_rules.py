"""Rules on contracts: the *Contract expiring* trigger, and firings on a contract.

``RuleFiring.case`` becomes nullable and ``RuleFiring.contract`` is added; a check
constraint keeps exactly one of them. Firings are append-only (0003's triggers). On
SQLite, making a column nullable and adding a check rebuild the table, which drops its
triggers, so they are created again after the rebuild (and again after the rebuild of
going backwards); PostgreSQL alters the table in place and keeps them.
"""

import django.db.models.deletion
from django.db import migrations, models

TABLE = "automation_rulefiring"


def recreate_sqlite_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    for op in ("UPDATE", "DELETE"):
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_{op.lower()};")
        schema_editor.execute(
            f"CREATE TRIGGER {TABLE}_no_{op.lower()} BEFORE {op} ON {TABLE} "
            f"BEGIN SELECT RAISE(ABORT, '{TABLE} rows are append-only'); END;"
        )


class Migration(migrations.Migration):

    dependencies = [
        ('automation', '0003_rules'),
        ('cases', '0008_fewer_indexes_on_intake_tables'),
        ('contracts', '0007_contract_expiry_announced'),
    ]

    operations = [
        # Going backwards, this runs last: after the table was rebuilt without the column.
        migrations.RunPython(migrations.RunPython.noop, recreate_sqlite_triggers),
        migrations.AddField(
            model_name='rulefiring',
            name='contract',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='contracts.contract'),
        ),
        migrations.AlterField(
            model_name='rule',
            name='trigger',
            field=models.CharField(choices=[('case_opened', 'Case opened'), ('customer_replied', 'Customer replied'), ('agent_replied', 'Agent replied'), ('status_changed', 'Status changed'), ('sla_warning', 'SLA warning'), ('sla_breached', 'SLA breach'), ('csat_answered', 'Satisfaction survey answered'), ('balance_low', 'Balance low'), ('balance_exhausted', 'Balance exhausted'), ('contract_expiring', 'Contract expiring'), ('in_status_for', 'Case in a status for N business hours')], max_length=24),
        ),
        migrations.AlterField(
            model_name='rulefiring',
            name='case',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='cases.case'),
        ),
        migrations.AddConstraint(
            model_name='rulefiring',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('case__isnull', False), ('contract__isnull', True)), models.Q(('case__isnull', True), ('contract__isnull', False)), _connector='OR'), name='automation_firing_case_or_contract', violation_error_message='A firing is on a case or on a contract.'),
        ),
        migrations.RunPython(recreate_sqlite_triggers, migrations.RunPython.noop),
    ]
