"""Demo billing: three closed months billed through the real run code, a void invoice
(its items billed again by the next run), a credit note, tax profiles, the renewal
quotes of contracts ending within 60 days, and professional services: a quote sent on an
out-of-scope case, an accepted fixed-price engagement with a delivered milestone, a
time-and-materials engagement with time logged, and a declined quote."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from retainer.billing import actions, services
from retainer.billing.choices import InvoiceStatus
from retainer.billing.models import Engagement, Invoice
from retainer.billing.rules import Period, period_of
from retainer.billing.run import execute_run
from retainer.cases.models import Case
from retainer.cases.selectors import offering_for_decision
from retainer.catalog.choices import OfferingKind
from retainer.catalog.models import ServiceOffering
from retainer.contracts import actions as contract_actions
from retainer.contracts.choices import ContractStatus, EntryKind, Outcome, Preset, SourceType
from retainer.contracts.models import Contract, LedgerEntry
from retainer.contracts.terms import add_months
from retainer.lib.demo import DemoContext, batched
from retainer.lib.money import round_amount


def _monthly_usage(ctx: DemoContext, periods: list[Period]) -> int:
    """Pay-as-you-go hours used in each closed month (ledger inserts dated in the month;
    pay-as-you-go has no allowance, so every minute is overage and the balance stays)."""
    entries = []
    payg = Contract.objects.filter(preset=Preset.PAY_AS_YOU_GO, status=ContractStatus.ACTIVE)
    for contract in payg:
        rate = contract.plan_terms.overage_rate
        for period in periods:
            for n in range(ctx.rng.randint(1, 3)):
                day = period.start + dt.timedelta(days=ctx.rng.randint(0, 26))
                entries.append(
                    LedgerEntry(
                        contract=contract,
                        kind=EntryKind.CONSUME,
                        quantity=0,
                        overage_quantity=ctx.rng.choice([30, 45, 60, 90, 120, 240]),
                        overage_rate=rate,
                        currency=contract.currency,
                        balance_after=contract.balance,
                        key=f"demo:billing:{period.label}:{n}",
                        source_type=SourceType.CASE,
                        source_id=f"demo-{contract.pk}-{period.label}-{n}",
                        created_at=dt.datetime.combine(day, dt.time(10), tzinfo=dt.UTC),
                    )
                )
    for batch in batched(entries, 5000):
        LedgerEntry.objects.bulk_create(batch)
    return len(entries)


def _ending_soon(ctx: DemoContext) -> None:
    """Three fixed-fee contracts whose term ends within the next 60 days."""
    admin = ctx.objects["admin"]
    product = ctx.objects["products"]["ledgerline"][0]
    organizations = [ctx.objects["acme"], *ctx.objects.get("organizations", [])[:2]]
    for n, organization in enumerate(organizations):
        contract_actions.do_create_contract(
            organization=organization,
            preset=Preset.FIXED_FEE,
            start_date=add_months(ctx.today, -12) + dt.timedelta(days=15 + 12 * n),
            covered_products=[product],
            terms={
                "currency": organization.currency,
                "price_amount": Decimal(8000 + 2000 * n),
                "uplift_percent": Decimal(4),
                "quantity": 50 * 60,
            },
            reference=f"RENEW-{n + 1}",
            actor=admin,
        )


def build(ctx: DemoContext) -> None:
    admin = ctx.objects["admin"]
    acme, globex = ctx.objects["acme"], ctx.objects["globex"]
    actions.do_set_billing_profile(
        acme,
        tax_rate=Decimal(19),
        tax_id="DE123456789",
        billing_address="Acme GmbH\nAccounts payable\nHafenstraße 12\n20457 Hamburg\nGermany",
        actor=admin,
    )
    actions.do_set_billing_profile(globex, tax_rate=Decimal(0), tax_label="Sales tax", actor=admin)
    this_month = period_of(ctx.today)
    periods = [period_of(add_months(this_month.start, -n)) for n in (3, 2, 1)]
    _ending_soon(ctx)
    ctx.log(f"  {_monthly_usage(ctx, periods)} pay-as-you-go usage entries")
    for number, period in enumerate(periods):
        # Executed here rather than by the job worker: the next steps need its invoices.
        run = execute_run(actions.do_create_run(period=period, actor=admin, today=ctx.today))
        ctx.log(f"  billed {period.label}: {run.invoices_created} invoices")
        invoices = Invoice.objects.filter(run=run).order_by("pk")
        if number == 0 and invoices.count() >= 2:
            actions.do_void_invoice(
                invoices[1], reason="Sent to the wrong billing address.", actor=admin
            )
    issued = Invoice.objects.filter(status=InvoiceStatus.ISSUED, total__gt=0).order_by("pk")
    first = issued.first()
    if first is not None:
        line = first.lines.filter(amount__gt=0).order_by("position").first()
        assert line is not None  # noqa: S101 - a positive total has a positive line
        actions.do_issue_credit_note(
            first,
            reason="Goodwill credit for a missed SLA target.",
            lines=[(line.pk, min(Decimal(100), line.amount))],
            actor=admin,
        )
        for invoice in issued.exclude(pk=first.pk)[:3]:
            actions.do_mark_invoice_paid(invoice, reference=f"Bank {invoice.number}", actor=admin)
    quotes = actions.do_generate_renewal_quotes(within_days=60, today=ctx.today, actor=admin)
    ctx.log(f"  {len(quotes)} renewal quotes")
    _services(ctx)


# --- Professional services -----------------------------------------------------------------


def _offering(kind: str) -> ServiceOffering:
    return ServiceOffering.objects.filter(kind=kind, is_active=True).order_by("pk").first()  # type: ignore[return-value]


def _services(ctx: DemoContext) -> None:
    """Quotes through the real actions: sent on the newest out-of-scope case, accepted
    (fixed price, split in two, the first milestone delivered; and time and materials
    with time logged) and declined by Acme's customer admin."""
    admin, acme, ada = ctx.objects["admin"], ctx.objects["acme"], ctx.objects["ada"]
    case = (
        Case.objects.filter(entitlement=Outcome.OUT_OF_SCOPE, organization=acme)
        .select_related("product", "decision")
        .order_by("-pk")
        .first()
    )
    if case is not None:
        offering = offering_for_decision(product=case.product, decision=case.decision)
        services.check_create_service_quote(
            admin,
            offering=offering or _offering(OfferingKind.BACKPORT),
            case=case,
            scope=f"Port the fix for {case.reference} to the release you run.",
            send=True,
        )

    def accepted(kind: str, scope: str) -> Engagement:
        quote = services.check_create_service_quote(
            admin, offering=_offering(kind), organization=acme, scope=scope, send=True
        )
        services.do_accept_service_quote(quote, contact=ada, actor=ada.user)
        return Engagement.objects.get(quote=quote)

    installation = accepted(OfferingKind.INSTALLATION, "Install the server and two clients.")
    total = installation.quote.amount
    third = round_amount(total / 3, installation.quote.currency)
    first, *_ = services.do_split_milestones(
        installation,
        parts=[("Server installed", third), ("Clients and training", total - third)],
        actor=admin,
    )
    services.do_deliver_milestone(first, actor=admin)
    customization = accepted(OfferingKind.CUSTOMIZATION, "Connect the ledger to the ERP.")
    agent = ctx.objects["agents"][0]
    for days, minutes in ((6, 90), (3, 45), (1, 120)):
        services.do_log_engagement_time(
            customization,
            agent=agent,
            minutes=minutes,
            work_date=ctx.today - dt.timedelta(days=days),
            note="ERP connector",
            actor=agent,
        )
    declined = services.check_create_service_quote(
        admin, offering=_offering(OfferingKind.MIGRATION), organization=acme, send=True
    )
    services.do_decline_service_quote(
        declined, contact=ada, reason="We upgrade ourselves next year.", actor=ada.user
    )
    ctx.log("  4 services quotes, 2 engagements")
