"""Reads of runs, invoices, credit notes and renewal quotes."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from retainer.billing.models import CreditNote, Invoice, InvoiceLine, RenewalQuote


def invoices_with_lines(invoices: QuerySet[Invoice]) -> QuerySet[Invoice]:
    return invoices.select_related("organization").prefetch_related(
        Prefetch("lines", queryset=InvoiceLine.objects.order_by("position", "id"))
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
