"""Demo contracts: every preset, and balances in every state (healthy, low, exhausted,
expired). Acme's maintenance names Ada and Bob; Carol is not named. The scaled-out
organizations get their contracts and ledgers by bulk insert, and two years of yearly
maintenance terms: customers joining, renewing at a higher or lower price, leaving and
coming back, so the revenue dashboards have movements of every kind to show."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction

from retainer.accounts.models import Organization
from retainer.catalog.models import Product
from retainer.contracts import actions
from retainer.contracts.choices import (
    ContractStatus,
    EntryKind,
    Preset,
    SourceType,
)
from retainer.contracts.events import ContractCancelled
from retainer.contracts.models import Contract, ContractEvent, LedgerEntry, SupportPlan
from retainer.contracts.terms import add_months, preset_terms
from retainer.lib.demo import DemoContext, batched
from retainer.lib.events import record


def _consume(contract: Contract, count: int, quantity: int, prefix: str) -> None:
    for n in range(count):
        actions.do_consume(
            contract,
            quantity=quantity,
            key=f"demo:{prefix}:{n}",
            source_type=SourceType.CASE,
            source_id=f"demo-{prefix}-{n}",
            actor=None,
        )


def _products(ctx: DemoContext) -> tuple[Product, Product, Product]:
    """Ledgerline, Fieldkit and Atlas, from the catalog's demo step."""
    products = {code: product for code, (product, _) in ctx.objects["products"].items()}
    return products["ledgerline"], products["fieldkit"], products["atlas"]


def build(ctx: DemoContext) -> None:
    silver, platinum = _plans(ctx)
    year_start = add_months(ctx.today, -3)
    _acme(ctx, silver=silver, platinum=platinum, year_start=year_start)
    _globex(ctx, year_start=year_start)
    count = _bulk_contracts(ctx, list(_products(ctx)))
    history = _history(ctx, list(_products(ctx)))
    ctx.log(
        f"  3 plans (+1 version), {Contract.objects.count()} contracts ({count} bulk, "
        f"{history} in two years of maintenance history)"
    )


def _plans(ctx: DemoContext) -> tuple[SupportPlan, SupportPlan]:
    """Gold hours (and its second version), a silver incident bank, platinum maintenance;
    returns silver and platinum, which Acme buys."""
    admin = ctx.objects["admin"]
    ledgerline, fieldkit, atlas = _products(ctx)
    gold = actions.do_create_plan(
        code="gold-hours",
        name="Gold: 100 hours a year",
        terms=preset_terms(Preset.FIXED_FEE, tier="gold", overage_rate=Decimal(140)),
        products=[ledgerline, atlas],
        actor=admin,
    )
    silver = actions.do_create_plan(
        code="silver-bank",
        name="Silver: bank of 10 incidents",
        terms=preset_terms(Preset.BANK, tier="silver", quantity=10, low_balance_threshold=2),
        products=[fieldkit],
        actor=admin,
    )
    platinum = actions.do_create_plan(
        code="platinum-maintenance",
        name="Platinum maintenance (named contacts)",
        terms=preset_terms(
            Preset.MAINTENANCE,
            tier="platinum",
            authorization_policy="named",
            max_named_contacts=2,
            named_engineer_price=Decimal(6000),
        ),
        products=[ledgerline],
        actor=admin,
    )
    actions.do_create_plan_version(gold, actor=admin, overage_rate=Decimal(150))
    return silver, platinum


def _acme(
    ctx: DemoContext, *, silver: SupportPlan, platinum: SupportPlan, year_start: dt.date
) -> None:
    """Maintenance naming Ada and Bob (healthy, dates only); hours running low; an
    exhausted incident bank; an expired warranty."""
    admin, acme = ctx.objects["admin"], ctx.objects["acme"]
    _ledgerline, fieldkit, atlas = _products(ctx)
    actions.do_create_contract(
        organization=acme,
        preset=Preset.MAINTENANCE,
        plan=platinum,
        start_date=year_start,
        named_contacts=[ctx.objects["ada"], ctx.objects["bob"]],
        named_engineer=True,
        actor=admin,
    )
    low = actions.do_create_contract(
        organization=acme,
        preset=Preset.FIXED_FEE,
        start_date=year_start,
        covered_products=[atlas],
        terms={"overage_rate": Decimal(140), "price_amount": Decimal(14000)},
        actor=admin,
    )
    _consume(low, 19, 300, f"acme-hours-{low.pk}")  # 95 of 100 hours
    exhausted = actions.do_create_contract(
        organization=acme,
        preset=Preset.BANK,
        plan=silver,
        start_date=year_start,
        terms={"price_amount": Decimal(4500)},
        actor=admin,
    )
    _consume(exhausted, 10, 1, f"acme-bank-{exhausted.pk}")
    warranty = actions.do_create_contract(
        organization=acme,
        preset=Preset.WARRANTY,
        start_date=ctx.today - dt.timedelta(days=200),
        covered_products=[fieldkit],
        actor=admin,
    )
    actions.do_expire_contract(warranty, actor=admin)


def _globex(ctx: DemoContext, *, year_start: dt.date) -> None:
    """Globex (USD): a healthy hour bank with a top-up, pay-as-you-go, a subscription."""
    admin, globex = ctx.objects["admin"], ctx.objects["globex"]
    ledgerline, fieldkit, atlas = _products(ctx)
    usd = {"currency": "USD"}
    hours = actions.do_create_contract(
        organization=globex,
        preset=Preset.BANK,
        start_date=year_start,
        covered_products=[atlas],
        terms={**usd, "unit": "hours", "quantity": 40 * 60, "price_amount": Decimal(6000)},
        actor=admin,
    )
    _consume(hours, 3, 90, f"globex-hours-{hours.pk}")
    actions.do_top_up(hours, quantity=600, key="demo:globex-top-up", actor=admin)
    actions.do_create_contract(
        organization=globex,
        preset=Preset.PAY_AS_YOU_GO,
        start_date=year_start,
        covered_products=[fieldkit],
        terms=usd,
        actor=admin,
    )
    actions.do_create_contract(
        organization=globex,
        preset=Preset.SUBSCRIPTION,
        start_date=year_start,
        covered_products=[ledgerline],
        terms={**usd, "authorization_policy": "trained", "required_course": "Ledgerline Admin"},
        actor=admin,
    )
    actions.do_record_training(
        contact=ctx.objects["hank"],
        course="Ledgerline Admin",
        completed_on=ctx.today - dt.timedelta(days=30),
        actor=admin,
    )


# (preset, unit, quantity, policy, price) per scaled contract; states vary by consumption.
_SCALED = [
    (Preset.FIXED_FEE, "hours", 6000, "bill", "12000"),
    (Preset.BANK, "incidents", 10, "block", "4500"),
    (Preset.BANK, "hours", 2400, "bill", "6000"),
    (Preset.MAINTENANCE, "none", 0, "block", "9000"),
    (Preset.SUBSCRIPTION, "none", 0, "block", "0"),
    (Preset.PAY_AS_YOU_GO, "hours", 0, "bill", "0"),
    (Preset.WARRANTY, "none", 0, "block", "0"),
]


def _bulk_contracts(ctx: DemoContext, products: list[Product]) -> int:
    """One contract per scaled organization, with a grant and a consumption entry each."""
    organizations = ctx.objects.get("organizations", [])
    rng = ctx.rng
    start = add_months(ctx.today, -6)
    contracts: list[Contract] = []
    usage: list[int] = []
    for index, organization in enumerate(organizations):
        preset, unit, quantity, policy, price = _SCALED[index % len(_SCALED)]
        terms = preset_terms(
            preset,
            unit=unit,
            quantity=quantity,
            exhaustion_policy=policy,
            currency=organization.currency,
            # A fifth of the allowance, stated in the bank's unit (hours for hour banks).
            low_balance_threshold=quantity // 5 // (60 if unit == "hours" else 1),
            low_balance_kind="absolute",
        )
        state = rng.choice(["healthy", "healthy", "low", "exhausted", "expired"])
        used = {"healthy": quantity // 4, "low": quantity * 9 // 10}.get(state, quantity)
        expired = state == "expired" or preset == Preset.WARRANTY
        end = terms.term_end(start)
        begins = start if not expired else add_months(start, -12)
        contracts.append(
            Contract(
                organization=organization,
                name=actions.contract_name(
                    organization.name, plan_name=None, preset=preset, unit=unit, start=begins
                ),
                preset=preset,
                unit=unit,
                terms=terms.to_json(),
                status=ContractStatus.EXPIRED if expired else ContractStatus.ACTIVE,
                start_date=begins,
                end_date=end if not expired or end is None else add_months(end, -12),
                price=Decimal(price),
                currency=organization.currency,
                balance=quantity - used if quantity else 0,
                low_balance_at=terms.low_balance_at(),
                low_balance_warned=bool(quantity) and state in ("low", "exhausted"),
            )
        )
        usage.append(used)
    for contract_batch in batched(contracts, 2000):
        Contract.objects.bulk_create(contract_batch)
    through = Contract.covered_products.through
    links = [
        through(contract_id=c.pk, product_id=products[i % len(products)].pk)
        for i, c in enumerate(contracts)
    ]
    for link_batch in batched(links, 5000):
        through.objects.bulk_create(link_batch)
    entries: list[LedgerEntry] = []
    for contract, used in zip(contracts, usage, strict=True):
        quantity = contract.plan_terms.quantity
        if not quantity:
            continue
        common = {"contract": contract, "currency": "", "actor": None}
        entries.append(
            LedgerEntry(
                kind=EntryKind.GRANT, quantity=quantity, balance_after=quantity,
                key=f"contract:{contract.pk}:grant", source_type=SourceType.CONTRACT,
                source_id=str(contract.pk), **common,
            )
        )  # fmt: skip
        if used:
            entries.append(
                LedgerEntry(
                    kind=EntryKind.CONSUME, quantity=-used, balance_after=quantity - used,
                    key=f"demo:bulk:{contract.pk}", source_type=SourceType.CASE,
                    source_id=f"demo-{contract.pk}", **common,
                )
            )  # fmt: skip
    for entry_batch in batched(entries, 5000):
        LedgerEntry.objects.bulk_create(entry_batch)
    return len(contracts)


#: Yearly maintenance prices of the history (per term, in the organization's currency).
_HISTORY_PRICES = (4800, 7200, 9600, 12000, 18000)
#: How a term ends when it is over, with its weight: renewed at the same price, renewed
#: higher (expansion) or lower (contraction), left (churn), cancelled during the term.
_FATES = (("same", 45), ("expansion", 25), ("contraction", 12), ("churn", 12), ("cancel", 6))


def _history(ctx: DemoContext, products: list[Product]) -> int:
    """Two years of yearly maintenance terms for the scaled organizations: each starts
    within the last 24 months; at each term's end it renews (``previous`` links the
    terms) at the same, a higher or a lower price, or the customer leaves (a few come
    back months later with a new contract), or cancels during the term (a backdated
    cancellation event). Returns the contracts made."""
    rng, today = ctx.rng, ctx.today
    made = 0
    for index, organization in enumerate(ctx.objects.get("organizations", [])):
        start = add_months(today.replace(day=1), -rng.randint(2, 24))
        price = Decimal(rng.choice(_HISTORY_PRICES))
        product = products[index % len(products)]
        previous: Contract | None = None
        while start <= today:
            contract, fate = _history_term(ctx, organization, product, start, price, previous)
            made += 1
            if fate == "expansion":
                price = (price * Decimal("1.25")).quantize(Decimal(1))
            elif fate == "contraction":
                price = (price * Decimal("0.8")).quantize(Decimal(1))
            next_start = contract.end_date + dt.timedelta(days=1) if contract.end_date else today
            previous = contract
            if fate in ("churn", "cancel", "open"):
                previous = None  # a customer who comes back signs a new contract
                if fate == "open" or rng.random() > 0.4:
                    break
                next_start = add_months(next_start.replace(day=1), rng.randint(2, 6))
            start = next_start
    return made


def _history_term(
    ctx: DemoContext,
    organization: Organization,
    product: Product,
    start: dt.date,
    price: Decimal,
    previous: Contract | None,
) -> tuple[Contract, str]:
    """One yearly maintenance term and how it ended (``open`` while it runs today)."""
    end = add_months(start, 12) - dt.timedelta(days=1)
    fate = "open" if end >= ctx.today else _fate(ctx)
    status = {
        "open": ContractStatus.ACTIVE,
        "churn": ContractStatus.EXPIRED,
        "cancel": ContractStatus.CANCELLED,
    }.get(fate, ContractStatus.RENEWED)
    currency = organization.currency
    terms = preset_terms(Preset.MAINTENANCE, currency=currency)
    contract = Contract.objects.create(
        organization=organization,
        name=actions.contract_name(
            organization.name, plan_name=None, preset=Preset.MAINTENANCE, unit="none", start=start
        ),
        preset=Preset.MAINTENANCE,
        unit="none",
        terms=terms.to_json(),
        status=status,
        start_date=start,
        end_date=end,
        price=price,
        currency=currency,
        previous=previous,
        term_number=previous.term_number + 1 if previous else 1,
    )
    contract.covered_products.add(product)
    if fate == "cancel":
        cancelled = start + dt.timedelta(days=ctx.rng.randint(60, 300))
        with transaction.atomic():
            record(
                ContractEvent,
                ContractCancelled(
                    old=ContractStatus.ACTIVE, reason="Moved to another vendor.", expired=0
                ),
                contract=contract,
                created_at=dt.datetime.combine(cancelled, dt.time(10), tzinfo=dt.UTC),
            )
    return contract, fate


def _fate(ctx: DemoContext) -> str:
    return ctx.rng.choices([f for f, _ in _FATES], weights=[w for _, w in _FATES])[0]
