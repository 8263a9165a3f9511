"""The low-balance point of hour contracts sold before thresholds were read in hours.

``Contract.low_balance_at`` (ledger minutes) is computed from the terms when a term is
sold or renewed. Contracts sold while ``low_balance_threshold`` was read in minutes kept
that point: a 40-hour bank sold with a threshold of 2 warns at 0:02 left. Migration
``0003`` restated their terms in hours (rounded up) but left ``low_balance_at`` alone.
This moves the point of every hour contract with an absolute threshold to what its
terms say now (threshold × 60 minutes), and never lowers it, so no contract warns later
than before. Percentage thresholds are unchanged. Going backwards changes nothing.
"""

from django.db import migrations

BATCH = 1000


def low_balance_at_from_terms(apps, schema_editor) -> None:
    Contract = apps.get_model("contracts", "Contract")
    rows = []
    hour_contracts = Contract.objects.filter(unit="hours").only("pk", "terms", "low_balance_at")
    for contract in hour_contracts.iterator(chunk_size=BATCH):
        terms = contract.terms or {}
        threshold = terms.get("low_balance_threshold") or 0
        if terms.get("low_balance_kind", "absolute") != "absolute" or threshold <= 0:
            continue
        point = max(threshold * 60, contract.low_balance_at or 0)
        if point != contract.low_balance_at:
            contract.low_balance_at = point
            rows.append(contract)
    Contract.objects.bulk_update(rows, ["low_balance_at"], batch_size=BATCH)


class Migration(migrations.Migration):
    dependencies = [
        ("contracts", "0004_contract_name"),
    ]

    operations = [
        migrations.RunPython(low_balance_at_from_terms, migrations.RunPython.noop),
    ]
