from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from retainer.accounts.models import Contact, Organization


def organizations_for_console() -> QuerySet[Organization]:
    return (
        Organization.objects.select_related("account_owner")
        .prefetch_related("domains")
        .annotate(active_contacts=Count("contacts", filter=Q(contacts__is_active=True)))
        .order_by("name", "id")
    )


def contacts_for_organization(
    *, organization: Organization, active_only: bool = False
) -> QuerySet[Contact]:
    contacts = Contact.objects.filter(organization=organization).select_related("user")
    if active_only:
        contacts = contacts.filter(is_active=True)
    return contacts.order_by("-is_active", "full_name")
