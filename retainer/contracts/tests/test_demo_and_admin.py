"""The demo step builds every preset and balance state; the admin pages open."""

from __future__ import annotations

import pytest
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from retainer.contracts.choices import ContractStatus, Preset
from retainer.contracts.models import Contract, LedgerEntry
from retainer.lib.demo import make_context


@pytest.mark.django_db
def test_the_demo_has_every_preset_and_every_balance_state() -> None:
    from retainer.accounts import demo as accounts_demo
    from retainer.catalog import demo as catalog_demo
    from retainer.contracts import demo

    ctx = make_context(scale=1, today=timezone.now().date(), seed=1, log=lambda _: None)
    for step in (accounts_demo, catalog_demo, demo):
        step.build(ctx)
    assert set(Contract.objects.values_list("preset", flat=True)) == set(Preset.values)
    for contract in Contract.objects.all():
        total = LedgerEntry.objects.filter(contract=contract).aggregate(s=Sum("quantity"))["s"]
        assert contract.balance == (total or 0)
    acme = Contract.objects.filter(organization=ctx.objects["acme"])
    named = acme.get(named_contacts=ctx.objects["ada"])
    assert set(named.named_contacts.all()) == {ctx.objects["ada"], ctx.objects["bob"]}
    assert acme.filter(low_balance_warned=True, balance__gt=0).exists()  # low
    assert acme.filter(unit="incidents", balance=0).exists()  # exhausted
    assert acme.filter(status=ContractStatus.EXPIRED).exists()
    assert Contract.objects.filter(balance__gt=0, low_balance_warned=False).exists()  # healthy


@pytest.mark.parametrize(
    "model", ["supportplan", "contract", "ledgerentry", "entitlementdecision", "trainingrecord",
              "contractevent"],
)  # fmt: skip
def test_admin_changelists_open(cast, shop, model) -> None:
    from retainer.contracts import actions

    contract = actions.do_create_contract(
        organization=cast.acme,
        preset="bank",
        start_date=timezone.now().date(),
        covered_products=[shop.product],
        actor=cast.admin,
    )
    client = cast.client_for(cast.admin)
    assert client.get(reverse(f"admin:contracts_{model}_changelist")).status_code == 200
    page = client.get(reverse("admin:contracts_contract_change", args=[contract.pk]))
    assert page.status_code == 200 and b"grant" in page.content


@pytest.mark.django_db
def test_the_demo_has_two_years_of_every_revenue_movement() -> None:
    from retainer.accounts import demo as accounts_demo
    from retainer.catalog import demo as catalog_demo
    from retainer.contracts import demo
    from retainer.metrics.periods import Period, add_months
    from retainer.metrics.queries import Filters, contract_rows, revenue_report

    today = timezone.now().date()
    ctx = make_context(scale=1, today=today, seed=1, log=lambda _: None)
    for step in (accounts_demo, catalog_demo, demo):
        step.build(ctx)
    start = add_months(today.replace(day=1), -23)
    period = Period("24m", "Two years", start, today)
    currencies = {row.currency for row, _months in contract_rows(Filters(period, today))}
    moved = {"new": 0, "expansion": 0, "reactivation": 0, "contraction": 0, "churn": 0}
    for currency in currencies:
        summary = revenue_report(Filters(period, today, currency=currency)).summary
        for kind in moved:
            moved[kind] += getattr(summary, kind) != 0
    assert all(moved.values()), moved
    renewed = Contract.objects.filter(previous__isnull=False, preset=Preset.MAINTENANCE)
    assert renewed.filter(start_date__lte=add_months(today, -12)).exists()
