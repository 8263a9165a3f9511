"""Contracts get a human name, e.g. "Globex — Gold 2027".

Contracts sold before this migration are named the way a new contract is named when no
name is given (``actions.sales.contract_name``): "<organization> — <plan name, or what
the preset sells> <start year>". The labels are copied here so that the migration keeps
naming rows the same way whatever later code does.
"""

from django.db import migrations, models

BATCH = 1000
NAME_MAX_LENGTH = 200
PRESET_LABELS = {
    "warranty": "Warranty",
    "maintenance": "Maintenance",
    "subscription": "Subscription",
    "fixed_fee": "Fixed fee with cap",
    "bank": "Bank",
    "payg": "Pay-as-you-go",
}
BANK_LABELS = {"hours": "Hour bank", "incidents": "Incident bank"}


def _label(contract) -> str:
    if contract.plan_id is not None:
        return contract.plan.name
    if contract.preset == "bank":
        return BANK_LABELS.get(contract.unit, "Bank")
    return PRESET_LABELS.get(contract.preset, contract.preset)


def name_contracts(apps, schema_editor) -> None:
    Contract = apps.get_model("contracts", "Contract")
    rows = []
    unnamed = Contract.objects.filter(name="").select_related("organization", "plan")
    for contract in unnamed.iterator(chunk_size=BATCH):
        name = f"{contract.organization.name} — {_label(contract)} {contract.start_date.year}"
        contract.name = name[:NAME_MAX_LENGTH]
        rows.append(contract)
    Contract.objects.bulk_update(rows, ["name"], batch_size=BATCH)


class Migration(migrations.Migration):
    dependencies = [
        ("contracts", "0003_ledger_price_and_links"),
    ]

    operations = [
        migrations.AddField(
            model_name="contract",
            name="name",
            field=models.CharField(
                default="",
                help_text="What people call it, e.g. “Globex — Gold 2027” (generated when not given).",
                max_length=200,
            ),
            preserve_default=False,
        ),
        migrations.RunPython(name_contracts, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="contractevent",
            name="type",
            field=models.CharField(
                choices=[
                    ("plan_created", "Plan Created"),
                    ("plan_versioned", "Plan Versioned"),
                    ("contract_created", "Contract Created"),
                    ("contract_renewed", "Contract Renewed"),
                    ("contract_cancelled", "Contract Cancelled"),
                    ("contract_expired", "Contract Expired"),
                    ("contract_topped_up", "Contract Topped Up"),
                    ("contract_renamed", "Contract Renamed"),
                    ("named_contacts_changed", "Named Contacts Changed"),
                    ("ledger_adjusted", "Ledger Adjusted"),
                    ("low_balance", "Low Balance"),
                    ("negative_balance", "Negative Balance"),
                    ("decision_recorded", "Decision Recorded"),
                    ("decision_overridden", "Decision Overridden"),
                    ("training_recorded", "Training Recorded"),
                ],
                max_length=40,
            ),
        ),
    ]
