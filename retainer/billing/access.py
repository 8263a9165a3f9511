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
from retainer.billing.choices import CUSTOMER_VISIBLE_STATUSES, ServiceQuoteStatus
from retainer.billing.models import Engagement, Invoice, ServiceQuote


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


# --- Professional services -----------------------------------------------------------------
# Staff holding ``billing.view_servicequote`` / ``billing.view_engagement`` see every quote
# and engagement; a customer contact sees their own organization's quotes once sent (never
# drafts) and its engagements. Who may accept or decline is ``services._deciding_contact``.


def service_quotes_visible_to(user: User) -> QuerySet[ServiceQuote]:
    if is_vendor_staff(user):
        if user.has_perm("billing.view_servicequote"):
            return ServiceQuote.objects.all()
        return ServiceQuote.objects.none()
    contact = customer_contact(user)
    if contact is None:
        return ServiceQuote.objects.none()
    return ServiceQuote.objects.filter(organization_id=contact.organization_id).exclude(
        status=ServiceQuoteStatus.DRAFT
    )


def access_service_quote(user: User, quote_id: int) -> ServiceQuote:
    """The quote if ``user`` may see it, with its organization and case; else 404."""
    try:
        return (
            service_quotes_visible_to(user)
            .select_related("organization", "case", "offering")
            .get(pk=quote_id)
        )
    except (ServiceQuote.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def engagements_visible_to(user: User) -> QuerySet[Engagement]:
    if is_vendor_staff(user):
        if user.has_perm("billing.view_engagement"):
            return Engagement.objects.all()
        return Engagement.objects.none()
    contact = customer_contact(user)
    if contact is None:
        return Engagement.objects.none()
    return Engagement.objects.filter(organization_id=contact.organization_id)


def access_engagement(user: User, engagement_id: int) -> Engagement:
    """The engagement if ``user`` may see it, with its quote and organization; else 404."""
    try:
        return (
            engagements_visible_to(user)
            .select_related("quote", "quote__case", "organization")
            .get(pk=engagement_id)
        )
    except (Engagement.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
