"""``Contract.expiry_announced_for``: the end date the daily job published
``contract.expiring`` for, so the announcement is made once per contract and end date
(a guarded update of this column decides), and the new event type on the history.

A nullable column is added in place on both databases; the event type's new choice
changes no table (the ledger's and the history's append-only triggers stay as they are).
"""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('contracts', '0006_fewer_indexes_on_intake_tables'),
    ]

    operations = [
        migrations.AddField(
            model_name='contract',
            name='expiry_announced_for',
            field=models.DateField(blank=True, editable=False, help_text='The end date ``contract.expiring`` was published for (once per end date).', null=True),
        ),
        migrations.AlterField(
            model_name='contractevent',
            name='type',
            field=models.CharField(choices=[('plan_created', 'Plan Created'), ('plan_versioned', 'Plan Versioned'), ('contract_created', 'Contract Created'), ('contract_renewed', 'Contract Renewed'), ('contract_cancelled', 'Contract Cancelled'), ('contract_expired', 'Contract Expired'), ('contract_expiring', 'Contract Expiring'), ('contract_topped_up', 'Contract Topped Up'), ('contract_renamed', 'Contract Renamed'), ('named_contacts_changed', 'Named Contacts Changed'), ('ledger_adjusted', 'Ledger Adjusted'), ('low_balance', 'Low Balance'), ('negative_balance', 'Negative Balance'), ('decision_recorded', 'Decision Recorded'), ('decision_overridden', 'Decision Overridden'), ('training_recorded', 'Training Recorded')], max_length=40),
        ),
    ]
