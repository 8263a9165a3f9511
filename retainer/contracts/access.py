"""Who may see which contracts. Contracts are fetched only through these helpers.

Vendor staff see every contract; a customer user sees the contracts of their own
(active) contact's organization, read-only. Anything else is a 404, so other
customers' contracts are never revealed.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from retainer.accounts.access import customer_contact, is_vendor_staff
from retainer.accounts.models import Contact, User
from retainer.contracts.models import Contract, EntitlementDecision


def contracts_visible_to(user: User) -> QuerySet[Contract]:
    if is_vendor_staff(user):
        return Contract.objects.all()
    contact = customer_contact(user)
    if contact is None:
        return Contract.objects.none()
    return Contract.objects.filter(organization_id=contact.organization_id)


def access_contract(user: User, contract_id: int, *, for_write: bool = False) -> Contract:
    """Return the contract if ``user`` may see it; writing needs ``contracts.change_contract``."""
    if for_write and not (is_vendor_staff(user) and user.has_perm("contracts.change_contract")):
        raise Http404
    try:
        return contracts_visible_to(user).select_related("organization", "plan").get(pk=contract_id)
    except (Contract.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def own_requests_only(user: User) -> Contact | None:
    """The contact, when ``user`` sees only what they asked for themselves: a contact who is
    not the customer admin, of an organization that does not share cases among colleagues."""
    contact = None if is_vendor_staff(user) else customer_contact(user)
    if contact is None or contact.is_customer_admin:
        return None
    return None if contact.organization.share_cases_with_colleagues else contact


def decisions_visible_to(user: User) -> QuerySet[EntitlementDecision]:
    if is_vendor_staff(user):
        return EntitlementDecision.objects.all()
    contact = customer_contact(user)
    if contact is None:
        return EntitlementDecision.objects.none()
    decisions = EntitlementDecision.objects.filter(organization_id=contact.organization_id)
    # The same rule as the cases they were taken for.
    if own_requests_only(user) is not None:
        decisions = decisions.filter(contact=contact)
    return decisions


def access_decision(
    user: User, decision_id: int, *, for_write: bool = False
) -> EntitlementDecision:
    """Return the decision if visible; overriding needs ``override_entitlementdecision``."""
    if for_write and not (
        is_vendor_staff(user) and user.has_perm("contracts.override_entitlementdecision")
    ):
        raise Http404
    try:
        return decisions_visible_to(user).get(pk=decision_id)
    except (EntitlementDecision.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
