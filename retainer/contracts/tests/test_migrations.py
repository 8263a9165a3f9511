"""Migration 0003 carries existing data into the new ledger columns and leaves the
append-only triggers standing (SQLite and PostgreSQL); lifting the ledger's triggers
leaves the other apps' append-only triggers standing (PostgreSQL)."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from retainer.cases import actions as case_actions
from retainer.contracts import actions
from retainer.contracts.choices import EntryKind, Preset
from retainer.contracts.models import Contract, LedgerEntry
from retainer.contracts.terms import preset_terms

from .conftest import TODAY

_triggers = importlib.import_module(
    "retainer.contracts.migrations.0002_ledger_append_only_triggers"
)

BEFORE = [("contracts", "0002_ledger_append_only_triggers")]
AFTER = [("contracts", "0003_ledger_price_and_links")]


@pytest.fixture
def _emptied_append_only_tables(transactional_db: None) -> Iterator[None]:
    """Empty the append-only tables after the test, triggers lifted: the flush that ends a
    transactional test deletes rows, and on SQLite the triggers refuse that. The schema
    goes back to the latest migration first (a test may leave it at an older one)."""
    yield
    _migrate_to_latest()
    tables = ("contracts_ledgerentry", "contracts_contractevent")
    with connection.cursor() as cursor:
        for table in tables:
            if connection.vendor == "postgresql":
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only")
                cursor.execute(f"DELETE FROM {table}")  # noqa: S608 - constant names
                cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER {table}_append_only")
            else:
                cursor.execute(f"DROP TRIGGER {table}_no_delete")
                cursor.execute(f"DELETE FROM {table}")  # noqa: S608 - constant names
                cursor.execute(
                    f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} rows are append-only'); END;"
                )


def _migrate_to_latest() -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


def _migrate(targets: list[tuple[str, str]]) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("_emptied_append_only_tables")
def test_0003_fills_prices_and_links_of_existing_entries(cast, shop) -> None:
    hours = actions.do_create_contract(
        organization=cast.acme, preset=Preset.BANK, start_date=TODAY,
        covered_products=[shop.product],
        terms={"unit": "hours", "quantity": 60, "exhaustion_policy": "bill",
               "overage_rate": "120", "low_balance_threshold": 2},
        actor=cast.admin,
    )  # fmt: skip
    top_up = actions.do_top_up(hours, quantity=60, key="t", price=Decimal(99), actor=None).entry
    case = case_actions.check_open_case(
        cast.contact.user, contact=cast.contact, product=shop.product, subject="Slow",
        description="Posting is slow.", channel="web",
    )  # fmt: skip
    time_entry = case_actions.do_log_time(case, agent=cast.agent, minutes=30, actor=cast.agent)
    consumed = LedgerEntry.objects.get(contract=hours, kind=EntryKind.CONSUME)

    _migrate(BEFORE)  # the columns go, and their values with them
    _migrate(AFTER)

    top_up, consumed = (LedgerEntry.objects.get(pk=e.pk) for e in (top_up, consumed))
    assert (top_up.price, top_up.currency) == (Decimal(99), "EUR")
    assert (consumed.case_id, consumed.time_entry_id) == (case.pk, time_entry.pk)
    terms = Contract.objects.values_list("terms", flat=True).get(pk=hours.pk)
    assert terms["low_balance_threshold"] == 2
    with pytest.raises(DatabaseError), transaction.atomic():
        LedgerEntry.objects.filter(pk=top_up.pk).update(reason="rewritten")
    with pytest.raises(DatabaseError), transaction.atomic():
        LedgerEntry.objects.filter(pk=top_up.pk).delete()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("_emptied_append_only_tables")
def test_0004_names_existing_contracts_and_0005_moves_old_hour_thresholds(cast, shop) -> None:
    plan = actions.do_create_plan(
        code="gold", name="Gold", terms=preset_terms(Preset.BANK), actor=None
    )
    on_plan = actions.do_create_contract(
        organization=cast.globex, preset=Preset.BANK, plan=plan, start_date=TODAY,
        terms={"currency": "USD"}, covered_products=[shop.product], actor=None,
    )  # fmt: skip
    hours = actions.do_create_contract(
        organization=cast.acme, preset=Preset.BANK, start_date=TODAY,
        covered_products=[shop.product], actor=None,
        terms={"unit": "hours", "quantity": 40 * 60, "low_balance_threshold": 2},
    )  # fmt: skip
    # Sold while the threshold was read in minutes: the 40-hour bank warned at 0:02 left.
    Contract.objects.filter(pk=hours.pk).update(low_balance_at=2)

    _migrate(AFTER)  # before names
    _migrate_to_latest()

    assert Contract.objects.get(pk=on_plan.pk).name == "Globex — Gold 2026"
    migrated = Contract.objects.get(pk=hours.pk)
    assert migrated.name == "Acme — Hour bank 2026"
    assert migrated.low_balance_at == 120  # 2:00 left, as the terms say


def _append_only_triggers() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgrelid::regclass::text, tgfoid::regprocedure::text FROM pg_trigger "
            "WHERE tgname LIKE '%append_only'"
        )
        return dict(cursor.fetchall())


@pytest.mark.skipif(connection.vendor != "postgresql", reason="one function, PostgreSQL's")
@pytest.mark.django_db
def test_lifting_the_ledger_triggers_keeps_the_function_the_rules_log_still_uses() -> None:
    """The browser tests lift the ledger's triggers with 0002's reverse to empty the
    tables: the rules' firing log runs the same function and keeps its triggers."""
    shared = {"automation_rulefiring", "automation_ruleeffect"}
    assert shared <= set(_append_only_triggers())

    with connection.schema_editor() as editor:
        _triggers.drop_triggers(None, editor)
    left = _append_only_triggers()
    assert set(left) == shared
    assert set(left.values()) == {"contracts_append_only()"}

    with connection.schema_editor() as editor:
        _triggers.create_triggers(None, editor)
    assert set(_append_only_triggers()) == shared | set(_triggers.TABLES)
