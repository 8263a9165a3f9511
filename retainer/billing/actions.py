"""Every change to invoices, credit notes, billing profiles, runs and renewal quotes.

Each action is atomic and writes a ``BillingEvent``. Issued invoices are immutable:
the actions refuse to edit them (and the model refuses too). Functions that lock rows
say so; invoices are locked through ``lock_invoice`` only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from retainer.accounts.models import Organization, User
from retainer.billing import numbering, rules
from retainer.billing.choices import (
    INVOICE_TRANSITIONS,
    BillingEventType,
    InvoiceStatus,
    ItemKind,
    LineUnit,
    QuoteStatus,
    RunStatus,
)
from retainer.billing.models import (
    BilledItem,
    BillingEvent,
    BillingProfile,
    BillingRun,
    CreditNote,
    CreditNoteLine,
    Invoice,
    InvoiceLine,
    RenewalQuote,
)
from retainer.contracts import actions as contract_actions
from retainer.contracts.choices import ContractStatus
from retainer.contracts.models import Contract
from retainer.contracts.pricing import renewal_price
from retainer.lib.money import round_amount

DEFAULT_RENEWAL_DAYS = 60
PAYMENT_TERM_DAYS = 30


class BillingError(Exception):
    """A request that conflicts with billing rules or a document's state."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def record_billing_event(type: str, *, actor: User | None, **refs: Any) -> BillingEvent:
    data = refs.pop("data", {})
    return BillingEvent.objects.create(type=type, actor=actor, data=data, **refs)


# --- Profiles and tax ----------------------------------------------------------------------


def tax_for(organization_id: int) -> tuple[Decimal, str]:
    """The organization's tax rate (percent) and label; the default rate when it has no
    billing profile (``RETAINER_DEFAULT_TAX_RATE``)."""
    profile = BillingProfile.objects.filter(organization_id=organization_id).first()
    if profile is None:
        return Decimal(settings.RETAINER_DEFAULT_TAX_RATE), "VAT"
    return profile.tax_rate, profile.tax_label


@transaction.atomic
def do_set_billing_profile(
    organization: Organization,
    *,
    tax_rate: Decimal,
    tax_label: str = "VAT",
    tax_id: str = "",
    billing_email: str = "",
    actor: User | None,
) -> BillingProfile:
    """Create or change the organization's billing profile; applies to invoices issued
    from now on (issued ones keep their rate)."""
    profile = BillingProfile.objects.filter(organization=organization).first()
    old = None if profile is None else {"tax_rate": str(profile.tax_rate)}
    profile = profile or BillingProfile(organization=organization)
    profile.tax_rate = tax_rate
    profile.tax_label = tax_label.strip() or "VAT"
    profile.tax_id = tax_id.strip()
    profile.billing_email = billing_email.strip()
    profile.updated_at = timezone.now()
    profile.full_clean()
    profile.save()
    record_billing_event(
        BillingEventType.PROFILE_CHANGED,
        actor=actor,
        data={"organization": organization.pk, "old": old, "new": {"tax_rate": str(tax_rate)}},
    )
    return profile


# --- Invoices ------------------------------------------------------------------------------


def lock_invoice(invoice_id: int) -> Invoice:
    """Re-read the invoice row under a lock (inside ``transaction.atomic()``)."""
    return Invoice.objects.select_for_update().get(pk=invoice_id)


def _require_draft(invoice: Invoice) -> None:
    if invoice.status != InvoiceStatus.DRAFT:
        raise BillingError(
            "invoice_immutable",
            f"Invoice {invoice} is {invoice.get_status_display().lower()}; "
            "it cannot be edited. Issue a credit note to correct it.",
        )


@transaction.atomic
def do_create_invoice(
    *,
    organization: Organization,
    period: rules.Period,
    currency: str | None = None,
    notes: str = "",
    actor: User | None,
) -> Invoice:
    """An empty draft invoice (manual invoicing); lines are added with ``do_add_line``."""
    currency = currency or organization.currency
    if currency != organization.currency:
        raise BillingError(
            "currency_mismatch",
            f"{organization} is invoiced in {organization.currency}, not {currency}.",
        )
    invoice = Invoice(
        organization=organization,
        currency=currency,
        period_start=period.start,
        period_end=period.end,
        notes=notes,
    )
    invoice.full_clean()
    invoice.save()
    record_billing_event(BillingEventType.INVOICE_CREATED, actor=actor, invoice=invoice)
    return invoice


@transaction.atomic
def do_update_invoice(invoice: Invoice, *, actor: User | None, **changes: Any) -> Invoice:
    """Change a draft's notes or due date; an issued invoice is refused (locks it)."""
    locked = lock_invoice(invoice.pk)
    _require_draft(locked)
    allowed = {"notes", "due_date"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError(dict.fromkeys(unknown, "This field cannot be changed."))
    diff = {k: {"old": str(getattr(locked, k)), "new": str(v)} for k, v in changes.items()}
    for name, value in changes.items():
        setattr(locked, name, value)
    locked.save()
    record_billing_event(
        BillingEventType.INVOICE_CHANGED, actor=actor, invoice=locked, data={"changes": diff}
    )
    return locked


@transaction.atomic
def do_add_line(
    invoice: Invoice,
    *,
    description: str,
    quantity: Decimal,
    unit_price: Decimal,
    currency: str,
    unit: str = LineUnit.EACH,
    actor: User | None,
) -> InvoiceLine:
    """Add a manual line to a draft (locks it). A line in another currency than the
    invoice is refused: an invoice never mixes currencies."""
    locked = lock_invoice(invoice.pk)
    _require_draft(locked)
    if currency != locked.currency:
        raise BillingError(
            "currency_mismatch",
            f"Invoice {locked} is in {locked.currency}; a line in {currency} cannot join it.",
        )
    if not description.strip():
        raise ValidationError({"description": "A line needs a description."})
    position = locked.lines.count() + 1
    line = InvoiceLine(
        invoice=locked,
        position=position,
        kind=ItemKind.MANUAL,
        description=description.strip()[:500],
        quantity=quantity,
        unit=unit,
        unit_price=unit_price,
        amount=rules.line_amount(unit_price, quantity, locked.currency),
        period_start=locked.period_start,
        period_end=locked.period_end,
    )
    line.save()
    record_billing_event(
        BillingEventType.INVOICE_LINE_ADDED,
        actor=actor,
        invoice=locked,
        data={"line": line.pk, "amount": str(line.amount)},
    )
    return line


def compute_totals(invoice: Invoice) -> None:
    """Set subtotal (sum of the rounded lines), tax (rounded once) and total."""
    subtotal = invoice.lines.aggregate(total=Sum("amount"))["total"] or Decimal(0)
    rate, label = tax_for(invoice.organization_id)
    invoice.subtotal = round_amount(subtotal, invoice.currency)
    invoice.tax_rate = rate
    invoice.tax_label = label
    invoice.tax_amount = rules.tax_amount(invoice.subtotal, rate, invoice.currency)
    invoice.total = invoice.subtotal + invoice.tax_amount


@transaction.atomic
def do_issue_invoice(invoice: Invoice, *, actor: User | None) -> Invoice:
    """Give a draft its number and freeze it (locks the invoice and the series counter).

    The number is taken inside this transaction, so an issue that fails leaves no gap.
    An invoice without lines is refused.
    """
    locked = lock_invoice(invoice.pk)
    if locked.status != InvoiceStatus.DRAFT:
        raise BillingError("invoice_not_draft", f"Invoice {locked} is already {locked.status}.")
    if not locked.lines.exists():
        raise BillingError("invoice_empty", "An invoice without lines cannot be issued.")
    compute_totals(locked)
    now = timezone.now()
    (locked.number,) = numbering.allocate(numbering.INVOICE_PREFIX, now.year)
    locked.status = InvoiceStatus.ISSUED
    locked.issued_at = now
    locked.due_date = locked.due_date or (now.date() + dt.timedelta(days=PAYMENT_TERM_DAYS))
    locked.save()
    record_billing_event(
        BillingEventType.INVOICE_ISSUED,
        actor=actor,
        invoice=locked,
        data={"number": locked.number, "total": str(locked.total)},
    )
    return locked


def _transition(invoice: Invoice, new: str) -> None:
    if new not in INVOICE_TRANSITIONS[invoice.status]:
        code = "invoice_paid" if invoice.status == InvoiceStatus.PAID else "invoice_state"
        raise BillingError(
            code,
            f"A {invoice.get_status_display().lower()} invoice cannot become "
            f"{InvoiceStatus(new).label.lower()}.",
        )


@transaction.atomic
def do_mark_invoice_paid(
    invoice: Invoice, *, reference: str = "", paid_at: dt.datetime | None = None, actor: User | None
) -> Invoice:
    locked = lock_invoice(invoice.pk)
    _transition(locked, InvoiceStatus.PAID)
    locked.status = InvoiceStatus.PAID
    locked.paid_at = paid_at or timezone.now()
    locked.payment_reference = reference.strip()[:120]
    locked.save(update_fields=["status", "paid_at", "payment_reference"])
    record_billing_event(
        BillingEventType.INVOICE_PAID, actor=actor, invoice=locked, data={"reference": reference}
    )
    return locked


@transaction.atomic
def do_void_invoice(invoice: Invoice, *, reason: str, actor: User | None) -> Invoice:
    """Void a draft or an unpaid issued invoice (locks it). The number stays used; the
    billed items are released, so the next run bills them again. Paid invoices are
    corrected with credit notes instead."""
    if not reason.strip():
        raise ValidationError({"reason": "Voiding an invoice needs a reason."})
    locked = lock_invoice(invoice.pk)
    _transition(locked, InvoiceStatus.VOID)
    now = timezone.now()
    released = BilledItem.objects.filter(invoice=locked, released_at__isnull=True).update(
        released_at=now
    )
    locked.status = InvoiceStatus.VOID
    locked.voided_at = now
    locked.void_reason = reason.strip()
    locked.save(update_fields=["status", "voided_at", "void_reason"])
    record_billing_event(
        BillingEventType.INVOICE_VOIDED,
        actor=actor,
        invoice=locked,
        data={"reason": locked.void_reason, "released_items": released},
    )
    return locked


# --- Credit notes --------------------------------------------------------------------------


def credited_by_line(invoice: Invoice) -> dict[int, Decimal]:
    rows = (
        CreditNoteLine.objects.filter(credit_note__invoice=invoice)
        .values("invoice_line_id")
        .annotate(total=Sum("amount"))
    )
    return {row["invoice_line_id"]: row["total"] for row in rows}


@transaction.atomic
def do_issue_credit_note(
    invoice: Invoice,
    *,
    reason: str,
    lines: Iterable[tuple[int, Decimal]] | None = None,
    actor: User | None,
) -> CreditNote:
    """Credit an issued (or paid) invoice, fully or per line ``(line id, amount)``.

    Locks the invoice and the credit-note series. A line is never credited beyond its
    amount (across all credit notes); the tax follows the invoice's rate, rounded once.
    """
    if not reason.strip():
        raise ValidationError({"reason": "A credit note needs a reason."})
    locked = lock_invoice(invoice.pk)
    if locked.status not in (InvoiceStatus.ISSUED, InvoiceStatus.PAID):
        raise BillingError("invoice_not_issued", "Only an issued or paid invoice can be credited.")
    invoice_lines = {line.pk: line for line in locked.lines.all()}
    already = credited_by_line(locked)
    wanted: list[tuple[InvoiceLine, Decimal]] = []
    if lines is None:
        for line in invoice_lines.values():
            rest = line.amount - already.get(line.pk, Decimal(0))
            if rest > 0:
                wanted.append((line, rest))
    else:
        for line_id, amount in lines:
            found = invoice_lines.get(line_id)
            if found is None:
                raise ValidationError({"lines": f"Line {line_id} is not on invoice {locked}."})
            line = found
            amount = round_amount(Decimal(amount), locked.currency)
            rest = line.amount - already.get(line.pk, Decimal(0))
            if amount <= 0 or amount > rest:
                raise BillingError(
                    "credit_exceeds_line",
                    f"Line {line_id} can be credited by at most {rest} {locked.currency}.",
                )
            wanted.append((line, amount))
    if not wanted:
        raise BillingError("nothing_to_credit", "Nothing is left to credit on this invoice.")
    subtotal = sum((amount for _, amount in wanted), Decimal(0))
    now = timezone.now()
    (number,) = numbering.allocate(numbering.CREDIT_NOTE_PREFIX, now.year)
    tax = rules.tax_amount(subtotal, locked.tax_rate, locked.currency)
    note = CreditNote.objects.create(
        invoice=locked,
        organization_id=locked.organization_id,
        number=number,
        currency=locked.currency,
        reason=reason.strip(),
        subtotal=subtotal,
        tax_rate=locked.tax_rate,
        tax_amount=tax,
        total=subtotal + tax,
        issued_at=now,
        created_by=actor,
    )
    CreditNoteLine.objects.bulk_create(
        CreditNoteLine(
            credit_note=note, invoice_line=line, description=line.description, amount=amount
        )
        for line, amount in wanted
    )
    record_billing_event(
        BillingEventType.CREDIT_NOTE_ISSUED,
        actor=actor,
        invoice=locked,
        credit_note=note,
        data={"number": number, "total": str(note.total)},
    )
    return note


# --- Runs ----------------------------------------------------------------------------------


@transaction.atomic
def do_create_run(
    *,
    period: rules.Period,
    organization: Organization | None = None,
    issue: bool = True,
    actor: User | None,
    today: dt.date | None = None,
) -> BillingRun:
    """Record a billing run for ``period`` (executed by ``retainer.billing.run``).

    A period that has not started yet is refused: nothing in it can be due.
    """
    today = today or timezone.now().date()
    if period.start > today:
        raise BillingError(
            "period_in_future", f"The period {period.label} has not started; nothing is due yet."
        )
    run = BillingRun.objects.create(
        period=period.start, organization=organization, issue=issue, created_by=actor
    )
    record_billing_event(
        BillingEventType.RUN_STARTED,
        actor=actor,
        run=run,
        data={"period": period.label, "organization": organization and organization.pk},
    )
    return run


# --- Renewal quotes ------------------------------------------------------------------------


@transaction.atomic
def do_generate_renewal_quotes(
    *, within_days: int = DEFAULT_RENEWAL_DAYS, today: dt.date | None = None, actor: User | None
) -> list[RenewalQuote]:
    """Quote the renewal of every active contract ending within ``within_days`` that has
    no quote yet, at ``contracts.pricing.renewal_price`` (the annual uplift applied)."""
    today = today or timezone.now().date()
    horizon = today + dt.timedelta(days=within_days)
    due = (
        Contract.objects.filter(
            status=ContractStatus.ACTIVE,
            end_date__gte=today,
            end_date__lte=horizon,
            renewal__isnull=True,
        )
        .exclude(renewal_quotes__isnull=False)
        .order_by("end_date", "pk")
    )
    created = []
    for contract in due:
        terms = contract.plan_terms
        quote = RenewalQuote.objects.create(
            contract=contract,
            organization_id=contract.organization_id,
            current_price=contract.price,
            price=renewal_price(contract.price, terms.uplift_percent),
            uplift_percent=terms.uplift_percent,
            currency=contract.currency,
            term_start=contract.end_date + dt.timedelta(days=1),  # type: ignore[operator]
            valid_until=contract.end_date,  # type: ignore[misc]
        )
        record_billing_event(
            BillingEventType.QUOTE_CREATED,
            actor=actor,
            quote=quote,
            data={"contract": contract.pk, "price": str(quote.price)},
        )
        created.append(quote)
    return created


@transaction.atomic
def do_accept_renewal_quote(
    quote: RenewalQuote, *, actor: User | None, today: dt.date | None = None
) -> RenewalQuote:
    """Renew the contract (``contracts.do_renew_contract``); the new term's fee is due on
    the acceptance date, so the next billing run bills it. Accepting twice is a no-op."""
    locked = RenewalQuote.objects.select_for_update().get(pk=quote.pk)
    if locked.status == QuoteStatus.ACCEPTED:
        return locked
    if locked.status != QuoteStatus.OPEN:
        raise BillingError("quote_not_open", "This renewal quote is no longer open.")
    try:
        renewal = contract_actions.do_renew_contract(locked.contract, actor=actor)
    except contract_actions.ContractError as exc:
        raise BillingError(exc.code, exc.detail) from None
    locked.status = QuoteStatus.ACCEPTED
    locked.renewal = renewal
    locked.accepted_on = today or timezone.now().date()
    locked.accepted_by = actor
    locked.save(update_fields=["status", "renewal", "accepted_on", "accepted_by"])
    record_billing_event(
        BillingEventType.QUOTE_ACCEPTED,
        actor=actor,
        quote=locked,
        data={"contract": locked.contract_id, "renewal": renewal.pk, "price": str(renewal.price)},
    )
    return locked


RUN_FINISHED_STATUSES = (RunStatus.SUCCEEDED, RunStatus.FAILED)
