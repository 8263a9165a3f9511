"""Rules on events and their firing log.

Firings and their effects are append-only: database triggers refuse ``UPDATE`` and
``DELETE`` (the models refuse too, but only a trigger stops a raw query), on both
databases, reusing the function of contracts' 0002 on PostgreSQL. Every change of the
rules renews the ``rules`` generation token, so each process's copy of the active
triggers (``engine.wants``) reloads at once.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

from retainer.lib.snapshots import generation_triggers

APPEND_ONLY = ["automation_rulefiring", "automation_ruleeffect"]


def create_append_only(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table in APPEND_ONLY:
        if vendor == "postgresql":
            schema_editor.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION contracts_append_only();"
            )
        elif vendor == "sqlite":
            for op in ("UPDATE", "DELETE"):
                schema_editor.execute(
                    f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} rows are append-only'); END;"
                )
        else:
            raise RuntimeError(f"No append-only triggers for the {vendor} database.")


def drop_append_only(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table in APPEND_ONLY:
        if vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};")
        else:
            for op in ("update", "delete"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_{op};")


class Migration(migrations.Migration):

    dependencies = [
        ('automation', '0002_webhook_generation'),
        ('cases', '0008_fewer_indexes_on_intake_tables'),
        ('contracts', '0002_ledger_append_only_triggers'),
        ('lib', '0002_generations'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name='automationevent',
            name='type',
            field=models.CharField(choices=[('endpoint_created', 'Endpoint Created'), ('endpoint_changed', 'Endpoint Changed'), ('endpoint_disabled', 'Endpoint Disabled'), ('endpoint_enabled', 'Endpoint Enabled'), ('secret_rotated', 'Secret Rotated'), ('delivery_replayed', 'Delivery Replayed'), ('macro_saved', 'Macro Saved'), ('rule_saved', 'Rule Saved'), ('rule_switched', 'Rule Switched'), ('rule_moved', 'Rule Moved'), ('rule_fired', 'Rule Fired')], max_length=40),
        ),
        migrations.CreateModel(
            name='Rule',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=120)),
                ('active', models.BooleanField(default=True)),
                ('position', models.PositiveIntegerField(default=0)),
                ('trigger', models.CharField(choices=[('case_opened', 'Case opened'), ('customer_replied', 'Customer replied'), ('agent_replied', 'Agent replied'), ('status_changed', 'Status changed'), ('sla_warning', 'SLA warning'), ('sla_breached', 'SLA breach'), ('csat_answered', 'Satisfaction survey answered'), ('balance_low', 'Balance low'), ('balance_exhausted', 'Balance exhausted'), ('in_status_for', 'Case in a status for N business hours')], max_length=24)),
                ('trigger_status', models.CharField(blank=True, max_length=20)),
                ('trigger_hours', models.PositiveIntegerField(blank=True, null=True)),
                ('conditions', models.JSONField(blank=True, default=dict)),
                ('actions', models.JSONField(default=list)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                ('updated_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('updated_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['position', 'id'],
                'permissions': [('manage_rule', 'Can create, change and order automation rules')],
            },
        ),
        migrations.AddField(
            model_name='automationevent',
            name='rule',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='events', to='automation.rule'),
        ),
        migrations.CreateModel(
            name='RuleFiring',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('key', models.CharField(max_length=80)),
                ('message_id', models.BigIntegerField(blank=True, null=True)),
                ('event_type', models.CharField(max_length=80)),
                ('status', models.CharField(choices=[('applied', 'Applied'), ('failed', 'Failed'), ('stopped', 'Stopped by the loop guard')], max_length=10)),
                ('depth', models.PositiveSmallIntegerField(default=0)),
                ('chain', models.JSONField(blank=True, default=list)),
                ('actions', models.JSONField(blank=True, default=list)),
                ('error', models.CharField(blank=True, max_length=500)),
                ('created_at', models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                ('case', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='cases.case')),
                ('rule', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='firings', to='automation.rule')),
            ],
            options={
                'ordering': ['-id'],
            },
        ),
        migrations.CreateModel(
            name='RuleEffect',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('message_id', models.BigIntegerField(unique=True)),
                ('firing', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='effects', to='automation.rulefiring')),
            ],
            options={
                'abstract': False,
            },
        ),
        migrations.AddIndex(
            model_name='rule',
            index=models.Index(fields=['active', 'trigger', 'position'], name='automation_rule_active'),
        ),
        migrations.AddIndex(
            model_name='rulefiring',
            index=models.Index(fields=['case', '-id'], name='automation_firing_case'),
        ),
        migrations.AddConstraint(
            model_name='rulefiring',
            constraint=models.UniqueConstraint(fields=('rule', 'key'), name='automation_firing_once'),
        ),
        migrations.RunPython(create_append_only, drop_append_only),
        generation_triggers("rules", ["automation_rule"]),
    ]
