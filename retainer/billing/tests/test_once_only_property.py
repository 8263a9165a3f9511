"""Property: whatever is logged, edited, deleted and however runs repeat or break, every
billable minute and incident lands on exactly one issued invoice line, and every
invoice's total is the sum of its lines plus its tax."""

from __future__ import annotations

import contextlib
from collections import defaultdict
from decimal import Decimal

import pytest
from django.db import transaction
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from retainer.billing import actions, rules, run
from retainer.billing.choices import InvoiceStatus, ItemKind
from retainer.billing.models import BilledItem, Invoice, InvoiceLine
from retainer.billing.tests.conftest import open_case, sell, this_period
from retainer.cases import actions as case_actions
from retainer.cases.models import TimeEntry
from retainer.contracts.choices import DecrementPoint, EntryKind, Preset
from retainer.contracts.models import LedgerEntry
from retainer.lib.money import round_amount


class Interrupted(Exception):
    pass


operations = st.lists(
    st.one_of(
        st.tuples(st.just("log"), st.integers(1, 400), st.booleans()),
        st.tuples(st.just("edit"), st.integers(0, 20), st.integers(1, 400)),
        st.tuples(st.just("delete"), st.integers(0, 20)),
        st.tuples(st.just("incident")),
        st.tuples(st.just("run"), st.one_of(st.none(), st.integers(0, 1))),
    ),
    max_size=14,
)


def bill(period: rules.Period, interrupt_after: int | None, monkeypatch) -> None:
    """Run billing; with ``interrupt_after`` the batch after that many written batches
    fails after writing everything, inside its transaction (a kill, as far as the
    database can tell), and the run stops there."""
    written = {"n": 0}
    write_batch = run._write_batch

    def interrupted_write_batch(*args, **kwargs):
        result = write_batch(*args, **kwargs)
        if interrupt_after is not None and written["n"] >= interrupt_after:
            raise Interrupted
        written["n"] += 1
        return result

    billing_run = actions.do_create_run(period=period, actor=None)
    with monkeypatch.context() as patch, contextlib.suppress(Interrupted):
        patch.setattr(run, "_write_batch", interrupted_write_batch)
        run.execute_run(billing_run, batch_organizations=1)


def check_every_item_billed_once() -> None:
    billed = BilledItem.objects.filter(released_at__isnull=True)
    assert billed.values("source_key").distinct().count() == billed.count()
    # Each overage entry once; issued lines carry the net overage of each contract.
    entries = LedgerEntry.objects.filter(kind__in=[EntryKind.CONSUME, EntryKind.REVERSE]).exclude(
        overage_quantity=0
    )
    by_entry: dict[int | None, int] = defaultdict(int)
    for entry_id in billed.values_list("ledger_entry_id", flat=True):
        by_entry[entry_id] += 1
    assert all(by_entry[entry.pk] == 1 for entry in entries)
    expected: dict[int, int] = defaultdict(int)
    for entry in entries:
        expected[entry.contract_id] += entry.overage_quantity
    on_lines: dict[int | None, int] = defaultdict(int)
    lines = InvoiceLine.objects.filter(
        kind__in=[ItemKind.OVERAGE, ItemKind.PAYG],
        invoice__status__in=[InvoiceStatus.ISSUED, InvoiceStatus.PAID],
    )
    for line in lines:
        on_lines[line.contract_id] += (
            line.minutes if line.minutes is not None else int(line.quantity)
        )
    assert {k: v for k, v in expected.items() if v} == {k: v for k, v in on_lines.items() if v}
    # Each contract's fee exactly once, on an issued invoice.
    fees = InvoiceLine.objects.filter(kind=ItemKind.FEE)
    assert fees.values("contract").distinct().count() == fees.count()
    assert not fees.exclude(invoice__status=InvoiceStatus.ISSUED).exists()
    for invoice in Invoice.objects.all():
        lines_total = invoice.lines.aggregate(total=Sum("amount"))["total"] or Decimal(0)
        assert invoice.subtotal == lines_total
        assert invoice.tax_amount == round_amount(
            invoice.subtotal * invoice.tax_rate / 100, invoice.currency
        )
        assert invoice.total == invoice.subtotal + invoice.tax_amount
        assert invoice.status == InvoiceStatus.ISSUED and invoice.number


@pytest.mark.django_db(transaction=False)
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=operations)
def test_every_billable_minute_and_incident_is_on_exactly_one_issued_line(
    cast, product, monkeypatch, ops
):
    period = this_period()
    with transaction.atomic():
        actions.do_set_billing_profile(cast.globex, tax_rate=Decimal("7.5"), actor=None)
        sell(
            cast,
            product,
            Preset.FIXED_FEE,
            price_amount="1000",
            quantity=60,
            overage_rate="150",
        )
        sell(
            cast,
            product,
            Preset.PAY_AS_YOU_GO,
            organization=cast.globex,
            unit="incidents",
            decrement_point=DecrementPoint.CASE_CREATION,
            overage_rate="95",
            currency="USD",
        )
        case = open_case(cast, product)
        entries: list[TimeEntry] = []
        for op in ops:
            if op[0] == "log":
                entries.append(
                    case_actions.do_log_time(
                        case, agent=cast.agent, minutes=op[1], billable=op[2], actor=cast.agent
                    )
                )
            elif op[0] == "edit" and entries:
                entry = entries[op[1] % len(entries)]
                if not TimeEntry.objects.get(pk=entry.pk).is_deleted:
                    case_actions.do_update_time_entry(entry, minutes=op[2], actor=cast.agent)
            elif op[0] == "delete" and entries:
                case_actions.do_delete_time_entry(entries[op[1] % len(entries)], actor=cast.agent)
            elif op[0] == "incident":
                open_case(cast, product, contact=cast.outsider)
            elif op[0] == "run":
                bill(period, op[1], monkeypatch)
        bill(period, None, monkeypatch)
        check_every_item_billed_once()
        transaction.set_rollback(True)
