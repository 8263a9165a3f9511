"""Reads of runs, invoices, credit notes and renewal quotes."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from retainer.billing.models import (
    BilledItem,
    BillingRun,
    CreditNote,
    Invoice,
    InvoiceLine,
    RenewalQuote,
)
from retainer.cases.models import Case


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
