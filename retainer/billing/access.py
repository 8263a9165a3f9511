"""Who may see which invoices. Invoices are fetched only through these helpers.

Vendor staff holding ``billing.view_invoice`` see every invoice; a customer user sees
their own organization's issued, paid and void invoices, never drafts. Anything else
is a 404 for a single invoice, so other customers' invoices are never revealed.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from retainer.accounts.access import customer_contact, is_vendor_staff
from retainer.accounts.models import User
from retainer.billing.choices import CUSTOMER_VISIBLE_STATUSES
from retainer.billing.models import Invoice


def invoices_visible_to(user: User) -> QuerySet[Invoice]:
    if is_vendor_staff(user):
        if user.has_perm("billing.view_invoice"):
            return Invoice.objects.all()
        return Invoice.objects.none()
    contact = customer_contact(user)
    if contact is None:
        return Invoice.objects.none()
    return Invoice.objects.filter(
        organization_id=contact.organization_id, status__in=CUSTOMER_VISIBLE_STATUSES
    )


def access_invoice(user: User, invoice_id: int, *, for_write: bool = False) -> Invoice:
    """Return the invoice if ``user`` may see it; writing needs ``billing.change_invoice``."""
    if for_write and not (is_vendor_staff(user) and user.has_perm("billing.change_invoice")):
        raise Http404
    try:
        return invoices_visible_to(user).select_related("organization").get(pk=invoice_id)
    except (Invoice.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
