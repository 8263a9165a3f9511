"""A top-up's price, and what an entry was drawn for, in columns of the ledger entry.

Until now a top-up's price lived only in its ``contract_topped_up`` event (``data.price``,
with ``data.entry`` the entry's id) and an entry's case or time entry only in
``source_type``/``source_id``. This adds ``LedgerEntry.price``, ``case`` and
``time_entry`` and fills them for the rows already written.

Ledger entries are append-only: migration ``0002`` installed triggers that refuse any
UPDATE. Filling the new columns is the one sanctioned rewrite, so the trigger is lifted
around it in the same transaction (disabled on PostgreSQL; dropped and created again on
SQLite, which cannot disable one) and stands again when the migration commits. Going
backwards, SQLite rebuilds the table to drop the foreign keys, which loses its triggers,
so the first operation's reverse creates them again.

It also restates absolute low-balance thresholds of hour plans and contracts in hours:
``PlanTerms.low_balance_threshold`` was read in minutes (a 40-hour bank with a threshold
of 2 warned at 0:02 left) and is now read in the bank's unit. Stored minutes become
whole hours, rounded up, so a renewal warns no later than before; the threshold of each
current term (``Contract.low_balance_at``, in minutes) is left as it is.
"""

from django.db import migrations, models

import django.db.models.deletion
import retainer.lib.money

TABLE = "contracts_ledgerentry"
SQLITE_TRIGGERS = {
    op: f"""CREATE TRIGGER {TABLE}_no_{op.lower()} BEFORE {op} ON {TABLE}
        BEGIN SELECT RAISE(ABORT, '{TABLE} rows are append-only'); END;"""
    for op in ("UPDATE", "DELETE")
}
BATCH = 1000


def _lift(schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER {TABLE}_append_only;")
    else:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_update;")


def _restore(schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        # The new foreign keys are checked at commit; PostgreSQL alters no table with
        # checks pending, so they run now.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE;")
        schema_editor.execute(f"ALTER TABLE {TABLE} ENABLE TRIGGER {TABLE}_append_only;")
        schema_editor.execute("SET CONSTRAINTS ALL DEFERRED;")
    else:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_update;")
        schema_editor.execute(SQLITE_TRIGGERS["UPDATE"])


def recreate_sqlite_triggers(apps, schema_editor) -> None:
    """After SQLite rebuilt the table (reversing the new foreign keys)."""
    if schema_editor.connection.vendor == "sqlite":
        for op, sql in SQLITE_TRIGGERS.items():
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_{op.lower()};")
            schema_editor.execute(sql)


def _chunks(values: list, size: int = BATCH):
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _filled(apps) -> dict[int, dict]:
    """``{entry id: {column: value}}`` of the new columns of the existing entries."""
    LedgerEntry = apps.get_model("contracts", "LedgerEntry")
    ContractEvent = apps.get_model("contracts", "ContractEvent")
    Case = apps.get_model("cases", "Case")
    TimeEntry = apps.get_model("cases", "TimeEntry")
    changed: dict[int, dict] = {}

    prices = {}
    for data in ContractEvent.objects.filter(type="contract_topped_up").values_list(
        "data", flat=True
    ):
        if data.get("entry") is not None and data.get("price") is not None:
            prices[int(data["entry"])] = (data["price"], data.get("currency") or "")
    top_ups = LedgerEntry.objects.filter(pk__in=list(prices), kind="top_up")
    for pk, currency in top_ups.values_list("pk", "currency"):
        price, event_currency = prices[pk]
        changed.setdefault(pk, {}).update(price=price, currency=currency or event_currency)

    sources = LedgerEntry.objects.filter(source_type__in=["case", "time_entry"]).values_list(
        "pk", "source_type", "source_id"
    )
    by_case: dict[int, list[int]] = {}
    by_time_entry: dict[int, list[int]] = {}
    for pk, source_type, source_id in sources:
        if source_id.isdigit():
            target = by_case if source_type == "case" else by_time_entry
            target.setdefault(int(source_id), []).append(pk)
    for ids in _chunks(list(by_case)):
        for case_id in Case.objects.filter(pk__in=ids).values_list("pk", flat=True):
            for pk in by_case[case_id]:
                changed.setdefault(pk, {})["case_id"] = case_id
    for ids in _chunks(list(by_time_entry)):
        for time_entry_id, case_id in TimeEntry.objects.filter(pk__in=ids).values_list(
            "pk", "case_id"
        ):
            for pk in by_time_entry[time_entry_id]:
                changed.setdefault(pk, {}).update(case_id=case_id, time_entry_id=time_entry_id)

    return changed


def fill_columns(apps, schema_editor) -> None:
    LedgerEntry = apps.get_model("contracts", "LedgerEntry")
    changed = _filled(apps)
    if not changed:
        return
    # One bulk UPDATE per set of columns, so no row is written with a value it lacks.
    groups: dict[tuple[str, ...], list] = {}
    for pk, values in changed.items():
        row = LedgerEntry(pk=pk, **values)
        groups.setdefault(tuple(sorted(values)), []).append(row)
    _lift(schema_editor)
    for fields, rows in groups.items():
        names = [field.removesuffix("_id") for field in fields]  # case_id → case
        LedgerEntry.objects.bulk_update(rows, names, batch_size=BATCH)
    _restore(schema_editor)


def _restate(apps, convert) -> None:
    """Apply ``convert`` to the absolute low-balance threshold of every hour plan and
    contract."""
    for model_name in ("SupportPlan", "Contract"):
        model = apps.get_model("contracts", model_name)
        changed = []
        for row in model.objects.filter(unit="hours").only("pk", "terms").iterator():
            threshold = row.terms.get("low_balance_threshold") or 0
            if row.terms.get("low_balance_kind", "absolute") == "absolute" and threshold > 0:
                row.terms = {**row.terms, "low_balance_threshold": convert(threshold)}
                changed.append(row)
        model.objects.bulk_update(changed, ["terms"], batch_size=BATCH)


def thresholds_in_hours(apps, schema_editor) -> None:
    _restate(apps, lambda minutes: -(-minutes // 60))  # rounded up


def thresholds_in_minutes(apps, schema_editor) -> None:
    _restate(apps, lambda hours: hours * 60)


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0005_sla_generation"),
        ("contracts", "0002_ledger_append_only_triggers"),
    ]

    operations = [
        migrations.RunPython(migrations.RunPython.noop, recreate_sqlite_triggers),
        migrations.AddField(
            model_name="ledgerentry",
            name="case",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="ledger_entries",
                to="cases.case",
            ),
        ),
        migrations.AddField(
            model_name="ledgerentry",
            name="price",
            field=retainer.lib.money.AmountField(
                blank=True,
                decimal_places=4,
                max_digits=14,
                null=True,
                validators=[retainer.lib.money.validate_non_negative],
            ),
        ),
        migrations.AddField(
            model_name="ledgerentry",
            name="time_entry",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="ledger_entries",
                to="cases.timeentry",
            ),
        ),
        migrations.RunPython(fill_columns, migrations.RunPython.noop),
        migrations.RunPython(thresholds_in_hours, thresholds_in_minutes),
    ]
