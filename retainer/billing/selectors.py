"""Reads of runs, invoices, credit notes, renewal quotes and services (quotes,
engagements, and the figures the metrics app reads: services revenue per month and the
quote conversion rate)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, Exists, OuterRef, Prefetch, QuerySet, Sum
from django.db.models.functions import Coalesce

from retainer.billing.choices import InvoiceStatus, ItemKind, ServiceQuoteStatus
from retainer.billing.models import (
    BilledItem,
    BillingRun,
    CreditNote,
    Engagement,
    EngagementMilestone,
    Invoice,
    InvoiceLine,
    RenewalQuote,
    ServiceQuote,
)
from retainer.cases.models import Case
from retainer.contracts.choices import Outcome


def invoices_with_lines(invoices: QuerySet[Invoice]) -> QuerySet[Invoice]:
    return invoices.select_related("organization").prefetch_related(
        Prefetch(
            "lines",
            queryset=InvoiceLine.objects.select_related("contract").order_by("position", "id"),
        )
    )


def credit_notes_with_lines(notes: QuerySet[CreditNote]) -> QuerySet[CreditNote]:
    return notes.select_related("invoice", "organization").prefetch_related("lines")


def renewal_quotes() -> QuerySet[RenewalQuote]:
    """Every renewal quote, whatever its status (the list filters by status), with its
    contract and organization."""
    return RenewalQuote.objects.select_related("contract", "organization")


def export_lines(invoices: QuerySet[Invoice]) -> QuerySet[InvoiceLine]:
    """The lines of ``invoices`` with their invoice and organization, for exports."""
    return (
        InvoiceLine.objects.filter(invoice__in=invoices)
        .select_related("invoice", "invoice__organization")
        .order_by("invoice_id", "position", "id")
    )


def case_references_by_line(invoice: Invoice) -> dict[int, list[str]]:
    """The references (``RT-10234``) of the cases behind each line of ``invoice``, sorted:
    the line's own case and the cases of the ledger entries billed on it (an overage line
    nets several cases). One query, plus the lines (prefetched or not)."""
    pairs = set(
        BilledItem.objects.filter(
            invoice=invoice, line__isnull=False, ledger_entry__case__isnull=False
        ).values_list("line_id", "ledger_entry__case_id")
    )
    pairs |= {(line.pk, line.case_id) for line in invoice.lines.all() if line.case_id}
    cases: dict[int, set[int]] = {}
    for line_id, case_id in pairs:
        cases.setdefault(line_id, set()).add(case_id)
    # A reference is derived from the primary key alone (``Case.reference``): no query.
    return {
        line_id: [Case(pk=pk).reference for pk in sorted(ids)] for line_id, ids in cases.items()
    }


def runs_for_list() -> QuerySet[BillingRun]:
    """Every billing run, newest first, with the organization it is limited to."""
    return BillingRun.objects.select_related("organization", "created_by").order_by(
        "-created_at", "-id"
    )


def invoices_for_list(invoices: QuerySet[Invoice]) -> QuerySet[Invoice]:
    """``invoices`` newest first with their organization, for the console's list."""
    return invoices.select_related("organization").order_by("-id")


# --- Professional services -----------------------------------------------------------------


def service_quotes_for_list(quotes: QuerySet[ServiceQuote]) -> QuerySet[ServiceQuote]:
    """``quotes`` newest first with what a list shows (organization, case, engagement)."""
    return quotes.select_related("organization", "case", "engagement").order_by(
        "-created_at", "-id"
    )


def engagement_work(engagement: Engagement) -> tuple[list[EngagementMilestone], list[Any]]:
    """The engagement's current milestones and its time entries (with their agents), each
    with whether it is billed: ``(milestones, entries)``; two queries plus one for the
    billed keys."""
    milestones = list(
        engagement.milestones.filter(replaced_at__isnull=True)
        .select_related("delivered_by")
        .order_by("position")
    )
    entries = list(engagement.time_entries.select_related("agent").order_by("-work_date", "-id"))
    keys = [f"milestone:{m.pk}" for m in milestones] + [f"engagement-time:{e.pk}" for e in entries]
    billed = dict(
        BilledItem.objects.filter(source_key__in=keys, released_at__isnull=True).values_list(
            "source_key", "invoice_id"
        )
    )
    for milestone in milestones:
        milestone.invoice_id = billed.get(f"milestone:{milestone.pk}")  # type: ignore[attr-defined]
    for entry in entries:
        entry.invoice_id = billed.get(f"engagement-time:{entry.pk}")  # type: ignore[attr-defined]
    return milestones, entries


def out_of_scope_cases_without_quote(*, limit: int = 20) -> list[Case]:
    """The newest cases decided out of scope that have no services quote yet (the
    console's "Offer services" list), with their organization and product."""
    quoted = ServiceQuote.objects.filter(case=OuterRef("pk"))
    return list(
        Case.objects.filter(entitlement=Outcome.OUT_OF_SCOPE)
        .exclude(Exists(quoted))
        .select_related("organization", "product")
        .order_by("-id")[:limit]
    )


@dataclass(frozen=True)
class MonthRevenue:
    """Services invoiced in one month (the invoices' period) and currency."""

    month: dt.date
    currency: str
    amount: Decimal


def services_revenue_by_month(
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    organization_id: int | None = None,
) -> list[MonthRevenue]:
    """Services revenue per billed month and currency: the ``services`` lines of issued
    and paid invoices (drafts and void invoices count nothing; credit notes are not
    netted), by the invoice's period, oldest first. ``start``/``end`` bound the months
    (inclusive, any day of the month)."""
    lines = InvoiceLine.objects.filter(
        kind=ItemKind.SERVICES,
        invoice__status__in=[InvoiceStatus.ISSUED, InvoiceStatus.PAID],
    )
    if start is not None:
        lines = lines.filter(invoice__period_start__gte=start.replace(day=1))
    if end is not None:
        lines = lines.filter(invoice__period_start__lte=end)
    if organization_id is not None:
        lines = lines.filter(invoice__organization_id=organization_id)
    rows = (
        lines.values("invoice__period_start", "invoice__currency")
        .annotate(total=Sum("amount"))
        .order_by("invoice__period_start", "invoice__currency")
    )
    return [
        MonthRevenue(row["invoice__period_start"], row["invoice__currency"], row["total"])
        for row in rows
    ]


@dataclass(frozen=True)
class QuoteConversion:
    """Quotes the customers answered: ``rate`` = accepted ÷ (accepted + declined), to four
    places, ``None`` when none was answered. Expired and withdrawn quotes are counted
    apart and stay out of the rate."""

    accepted: int
    declined: int
    expired: int
    withdrawn: int
    rate: Decimal | None

    @property
    def decided(self) -> int:
        return self.accepted + self.declined


def quote_conversion(
    *,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    organization_id: int | None = None,
) -> QuoteConversion:
    """The conversion of services quotes decided (or closed) between ``since`` and
    ``until`` (decision time; creation time for expired and withdrawn quotes)."""
    quotes = ServiceQuote.objects.all()
    if organization_id is not None:
        quotes = quotes.filter(organization_id=organization_id)
    when = Coalesce("decided_at", "created_at")
    quotes = quotes.annotate(closed_at=when)
    if since is not None:
        quotes = quotes.filter(closed_at__gte=since)
    if until is not None:
        quotes = quotes.filter(closed_at__lt=until)
    counts = dict(quotes.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    accepted = counts.get(ServiceQuoteStatus.ACCEPTED, 0)
    declined = counts.get(ServiceQuoteStatus.DECLINED, 0)
    decided = accepted + declined
    rate = (
        None if not decided else (Decimal(accepted) / Decimal(decided)).quantize(Decimal("0.0001"))
    )
    return QuoteConversion(
        accepted=accepted,
        declined=declined,
        expired=counts.get(ServiceQuoteStatus.EXPIRED, 0),
        withdrawn=counts.get(ServiceQuoteStatus.WITHDRAWN, 0),
        rate=rate,
    )
