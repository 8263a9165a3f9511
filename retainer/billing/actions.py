"""Every change to invoices, credit notes, billing profiles, runs and renewal quotes.

Each action is atomic and writes its typed events (``billing/events.py``) with their
outbox rows. Issued invoices are immutable: the actions refuse to edit them (and the
model refuses too). Functions that lock rows say so; invoices are locked through
``lock_invoice`` only. Refusals are the lib's domain errors: ``InvalidInput`` when the
request is wrong, ``Conflict`` when the document's state forbids it. Who may call which
action from which door is checked in ``billing/checks.py``.

Issuing has one path: a hand-made draft (``do_issue_invoice``) and a run's invoices
(``billing/run.py``) get their totals from :func:`set_totals` and their numbers from
:func:`issue_invoices`, and both write :func:`invoice_issued`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, NamedTuple

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from retainer.accounts.models import Organization, User
from retainer.billing import events, numbering, rules
from retainer.billing.choices import (
    INVOICE_TRANSITIONS,
    InvoiceStatus,
    ItemKind,
    LineUnit,
    QuoteStatus,
    RunStatus,
)
from retainer.billing.models import (
    RUN_STALE_AFTER,
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
from retainer.lib.errors import Conflict, InvalidInput
from retainer.lib.events import record
from retainer.lib.jobs import enqueue_on_commit
from retainer.lib.money import round_amount

DEFAULT_RENEWAL_DAYS = 60
PAYMENT_TERM_DAYS = 30


# --- Profiles and tax ----------------------------------------------------------------------


class Tax(NamedTuple):
    """The tax an invoice applies: ``rate`` in percent, ``label`` as printed."""

    rate: Decimal
    label: str


def default_tax() -> Tax:
    """The tax of an organization without a billing profile: ``RETAINER_DEFAULT_TAX_RATE``
    (environment, default 0), labelled VAT."""
    return Tax(Decimal(settings.RETAINER_DEFAULT_TAX_RATE), "VAT")


def profile_taxes(organization_ids: Iterable[int]) -> dict[int, Tax]:
    """The tax of each of these organizations that has a billing profile (one query);
    the others are missing from the result and owe :func:`default_tax`."""
    rows = BillingProfile.objects.filter(organization_id__in=set(organization_ids))
    return {p.organization_id: Tax(p.tax_rate, p.tax_label) for p in rows}


def tax_for(organization_id: int) -> Tax:
    """The organization's tax: its billing profile's, or :func:`default_tax`."""
    return profile_taxes([organization_id]).get(organization_id) or default_tax()


@transaction.atomic
def do_set_billing_profile(
    organization: Organization,
    *,
    tax_rate: Decimal,
    tax_label: str = "VAT",
    tax_id: str = "",
    billing_email: str = "",
    billing_address: str = "",
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
    profile.billing_address = billing_address.strip()
    profile.updated_at = timezone.now()
    profile.full_clean()
    profile.save()
    record(
        BillingEvent,
        events.ProfileChanged(
            organization=organization.pk, old=old, new={"tax_rate": str(tax_rate)}
        ),
        actor=actor,
    )
    return profile


# --- Invoices ------------------------------------------------------------------------------


def lock_invoice(invoice_id: int) -> Invoice:
    """Re-read the invoice row under a lock (inside ``transaction.atomic()``)."""
    return Invoice.objects.select_for_update().get(pk=invoice_id)


def _require_draft(invoice: Invoice) -> None:
    if invoice.status != InvoiceStatus.DRAFT:
        raise Conflict(
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
        raise InvalidInput(
            "currency_mismatch",
            f"{organization} is invoiced in {organization.currency}, not {currency}.",
            field="currency",
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
    record(BillingEvent, events.InvoiceCreated(), actor=actor, invoice=invoice)
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
    record(BillingEvent, events.InvoiceChanged(changes=diff), actor=actor, invoice=locked)
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
        raise InvalidInput(
            "currency_mismatch",
            f"Invoice {locked} is in {locked.currency}; a line in {currency} cannot join it.",
            field="currency",
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
    record(
        BillingEvent,
        events.InvoiceLineAdded(line=line.pk, amount=str(line.amount)),
        actor=actor,
        invoice=locked,
    )
    return line


def set_totals(invoice: Invoice, subtotal: Decimal, tax: Tax) -> None:
    """Set the totals of an invoice whose lines add up to ``subtotal`` (the sum of the
    rounded line amounts): the tax is rounded once on the subtotal, total = both."""
    invoice.subtotal = round_amount(subtotal, invoice.currency)
    invoice.tax_rate = tax.rate
    invoice.tax_label = tax.label
    invoice.tax_amount = rules.tax_amount(invoice.subtotal, tax.rate, invoice.currency)
    invoice.total = invoice.subtotal + invoice.tax_amount


def issue_invoices(invoices: list[Invoice], *, now: dt.datetime) -> None:
    """Give drafts (totals set, not saved yet) the next numbers of this year's invoice
    series and mark them issued, due ``PAYMENT_TERM_DAYS`` later unless a due date was
    set. Locks the series counter until the caller's transaction ends, so a rollback
    leaves no gap; the caller saves the invoices in that transaction."""
    numbers = numbering.allocate(numbering.INVOICE_PREFIX, now.year, len(invoices))
    due = now.date() + dt.timedelta(days=PAYMENT_TERM_DAYS)
    for invoice, number in zip(invoices, numbers, strict=True):
        invoice.number = number
        invoice.status = InvoiceStatus.ISSUED
        invoice.issued_at = now
        invoice.due_date = invoice.due_date or due


def invoice_issued(invoice: Invoice) -> events.InvoiceIssued:
    return events.InvoiceIssued(number=str(invoice.number), total=str(invoice.total))


@transaction.atomic
def do_issue_invoice(invoice: Invoice, *, actor: User | None) -> Invoice:
    """Give a draft its number and freeze it (locks the invoice and the series counter).

    The number is taken inside this transaction, so an issue that fails leaves no gap.
    An invoice without lines is refused.
    """
    locked = lock_invoice(invoice.pk)
    if locked.status != InvoiceStatus.DRAFT:
        raise Conflict("invoice_not_draft", f"Invoice {locked} is already {locked.status}.")
    if not locked.lines.exists():
        raise InvalidInput("invoice_empty", "An invoice without lines cannot be issued.")
    subtotal = locked.lines.aggregate(total=Sum("amount"))["total"] or Decimal(0)
    set_totals(locked, subtotal, tax_for(locked.organization_id))
    issue_invoices([locked], now=timezone.now())
    locked.save()
    record(BillingEvent, invoice_issued(locked), actor=actor, invoice=locked)
    return locked


def _transition(invoice: Invoice, new: str) -> None:
    if new not in INVOICE_TRANSITIONS[invoice.status]:
        code = "invoice_paid" if invoice.status == InvoiceStatus.PAID else "invoice_state"
        raise Conflict(
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
    record(BillingEvent, events.InvoicePaid(reference=reference), actor=actor, invoice=locked)
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
    record(
        BillingEvent,
        events.InvoiceVoided(reason=locked.void_reason, released_items=released),
        actor=actor,
        invoice=locked,
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


def _credit_wanted(
    invoice: Invoice, lines: Iterable[tuple[int, Decimal]] | None
) -> list[tuple[InvoiceLine, Decimal]]:
    """What to credit: every line's rest (``lines`` is ``None``) or the given amounts,
    each at most what is left of its line across all credit notes."""
    invoice_lines = {line.pk: line for line in invoice.lines.all()}
    already = credited_by_line(invoice)
    if lines is None:
        return [
            (line, line.amount - already.get(pk, Decimal(0)))
            for pk, line in invoice_lines.items()
            if line.amount > already.get(pk, Decimal(0))
        ]
    wanted: list[tuple[InvoiceLine, Decimal]] = []
    for line_id, amount in lines:
        line = invoice_lines.get(line_id)
        if line is None:
            raise ValidationError({"lines": f"Line {line_id} is not on invoice {invoice}."})
        amount = round_amount(Decimal(amount), invoice.currency)
        rest = line.amount - already.get(line.pk, Decimal(0))
        if amount <= 0 or amount > rest:
            raise InvalidInput(
                "credit_exceeds_line",
                f"Line {line_id} can be credited by at most {rest} {invoice.currency}.",
                field="lines",
            )
        wanted.append((line, amount))
    return wanted


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
        raise Conflict("invoice_not_issued", "Only an issued or paid invoice can be credited.")
    wanted = _credit_wanted(locked, lines)
    if not wanted:
        raise Conflict("nothing_to_credit", "Nothing is left to credit on this invoice.")
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
    record(
        BillingEvent,
        events.CreditNoteIssued(number=number, total=str(note.total)),
        actor=actor,
        invoice=locked,
        credit_note=note,
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
    """Record a billing run for ``period``; it bills nothing until ``run.execute_run``
    runs it. Doors start runs with :func:`do_start_billing_run` (through
    ``checks.check_start_billing_run``); this is for code that runs it itself.

    A period that has not started yet is refused: nothing in it can be due.
    """
    today = today or timezone.now().date()
    if period.start > today:
        raise InvalidInput(
            "period_in_future",
            f"The period {period.label} has not started; nothing is due yet.",
            field="period",
        )
    run = BillingRun.objects.create(
        period=period.start, organization=organization, issue=issue, created_by=actor
    )
    record(
        BillingEvent,
        events.RunStarted(
            period=period.label,
            organization=None if organization is None else organization.pk,
            issue=issue,
        ),
        actor=actor,
        run=run,
    )
    return run


def _enqueue(run: BillingRun) -> None:
    from retainer.billing.tasks import run_billing_task  # tasks import the run loop

    enqueue_on_commit(run_billing_task, run.pk)


@transaction.atomic
def do_start_billing_run(
    *,
    period: rules.Period,
    organization: Organization | None = None,
    issue: bool = True,
    actor: User | None,
    today: dt.date | None = None,
) -> BillingRun:
    """The one way a run is started: record it and hand it to the job worker once this
    transaction commits (``run_billing_task``). Its progress shows on the run."""
    run = do_create_run(
        period=period, organization=organization, issue=issue, actor=actor, today=today
    )
    _enqueue(run)
    return run


@transaction.atomic
def do_continue_billing_run(run: BillingRun, *, now: dt.datetime | None = None) -> BillingRun:
    """Hand a pending, failed or interrupted run to the job worker again; it continues
    where it stopped. A succeeded run is returned as it is. A run whose worker is alive
    (heartbeat younger than ``RUN_STALE_AFTER``) is refused (locks the run row)."""
    locked = BillingRun.objects.select_for_update().get(pk=run.pk)
    if locked.is_alive(now or timezone.now()):
        raise Conflict("run_in_progress", "This run is already running.")
    if not locked.is_succeeded:
        _enqueue(locked)
    return locked


def do_resume_interrupted_billing_runs(*, now: dt.datetime | None = None) -> list[int]:
    """Hand to the job worker again every run whose job was lost: running with a heartbeat
    older than ``RUN_STALE_AFTER`` (its consumer was killed), or still pending
    ``RUN_STALE_AFTER`` after it was started (its job never ran). Failed runs wait for a
    person (the error says why). Returns the ids handed on. A run whose job was only slow
    is harmless to hand on twice: the second job finds it running or done."""
    now = now or timezone.now()
    stale = now - RUN_STALE_AFTER
    lost = BillingRun.objects.filter(
        Q(status=RunStatus.RUNNING, heartbeat_at__lt=stale)
        | Q(status=RunStatus.PENDING, created_at__lt=stale)
    )
    resumed = []
    for run in lost.order_by("pk"):
        try:
            do_continue_billing_run(run, now=now)
        except Conflict:  # its worker wrote a batch since the query: alive after all
            continue
        resumed.append(run.pk)
    return resumed


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
        record(
            BillingEvent,
            events.QuoteCreated(contract=contract.pk, price=str(quote.price)),
            actor=actor,
            quote=quote,
        )
        created.append(quote)
    return created


@transaction.atomic
def do_accept_renewal_quote(
    quote: RenewalQuote, *, actor: User | None, today: dt.date | None = None
) -> RenewalQuote:
    """Renew the contract (``contracts.do_renew_contract``); the new term's fee is due on
    the acceptance date, so the next billing run bills it. Accepting twice is a no-op.
    A renewal the contracts refuse raises their own domain error, unchanged."""
    locked = RenewalQuote.objects.select_for_update().get(pk=quote.pk)
    if locked.status == QuoteStatus.ACCEPTED:
        return locked
    if locked.status != QuoteStatus.OPEN:
        raise Conflict("quote_not_open", "This renewal quote is no longer open.")
    renewal = contract_actions.do_renew_contract(locked.contract, actor=actor)
    locked.status = QuoteStatus.ACCEPTED
    locked.renewal = renewal
    locked.accepted_on = today or timezone.now().date()
    locked.accepted_by = actor
    locked.save(update_fields=["status", "renewal", "accepted_on", "accepted_by"])
    record(
        BillingEvent,
        events.QuoteAccepted(
            contract=locked.contract_id, renewal=renewal.pk, price=str(renewal.price)
        ),
        actor=actor,
        quote=locked,
    )
    return locked
