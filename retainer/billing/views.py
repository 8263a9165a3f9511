"""Server-rendered billing pages: the customer portal's invoice list."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from retainer.accounts.access import request_user
from retainer.accounts.views import contact_required
from retainer.billing.access import invoices_visible_to


@require_safe
@contact_required
def portal_invoice_list(request: HttpRequest) -> HttpResponse:
    """The customer's own issued invoices, newest first, with a PDF link each."""
    contact = request.contact  # type: ignore[attr-defined]
    invoices = invoices_visible_to(request_user(request)).order_by("-issued_at", "-id")[:200]
    return render(
        request,
        "billing/invoice_portal_list.html",
        {"contact": contact, "organization": contact.organization, "invoices": invoices},
    )
