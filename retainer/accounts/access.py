"""Who may see what. Tenant-scoped objects are fetched only through these helpers.

A vendor staff member sees every organization; a customer user sees only the
organization of their own (active) contact. Anything else is a 404, so the
existence of other customers' records is never revealed.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from retainer.accounts.choices import Role
from retainer.accounts.models import ApiToken, Contact, Organization, Team, User


def request_user(request: Any) -> User:
    """The signed-in user of a request, typed for the code behind login-required views;
    anonymous requests never get this far (403 if they do)."""
    user = request.user
    if not user.is_authenticated:
        raise PermissionDenied
    return user


def is_vendor_staff(user: Any) -> bool:
    return bool(user.is_authenticated and user.is_active and user.is_staff)


def has_role(user: Any, *roles: str) -> bool:
    """True when the user is active vendor staff holding one of ``roles`` (admins hold all)."""
    if not is_vendor_staff(user):
        return False
    if user.is_superuser:
        return True
    names = {group.name for group in user.groups.all()}
    return Role.ADMIN in names or bool(names.intersection(roles))


def customer_contact(user: Any) -> Contact | None:
    """The active contact behind a customer login, or None for staff and strangers."""
    if not user.is_authenticated or not user.is_active or user.is_staff:
        return None
    # The request's user comes with its contact and organization (accounts.backends);
    # a user loaded elsewhere reads them once.
    contact: Contact | None = getattr(user, "contact", None)
    if contact is None or not contact.is_active or not contact.organization.is_active:
        return None
    return contact


def organizations_visible_to(user: User) -> QuerySet[Organization]:
    if is_vendor_staff(user):
        return Organization.objects.all()
    contact = customer_contact(user)
    if contact is None:
        return Organization.objects.none()
    return Organization.objects.filter(pk=contact.organization_id)


def access_organization(user: User, organization_id: int) -> Organization:
    """Return the organization if ``user`` may see it; who may change it is decided in
    ``accounts/checks.py``."""
    try:
        return organizations_visible_to(user).get(pk=organization_id)
    except (Organization.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def contacts_visible_to(user: User) -> QuerySet[Contact]:
    if is_vendor_staff(user):
        return Contact.objects.all()
    contact = customer_contact(user)
    if contact is None:
        return Contact.objects.none()
    return Contact.objects.filter(organization_id=contact.organization_id)


def access_contact(user: User, contact_id: int) -> Contact:
    """Return the contact if ``user`` may see it; who may change it is decided in
    ``accounts/checks.py``."""
    try:
        return contacts_visible_to(user).select_related("organization").get(pk=contact_id)
    except (Contact.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def api_tokens_visible_to(user: User) -> QuerySet[ApiToken]:
    """A user's own tokens; every token for a holder of
    ``accounts.manage_service_tokens``."""
    if is_vendor_staff(user) and user.has_perm("accounts.manage_service_tokens"):
        return ApiToken.objects.all()
    if not user.is_authenticated:
        return ApiToken.objects.none()
    return ApiToken.objects.filter(user=user)


def access_api_token(user: User, token_id: int) -> ApiToken:
    """Return the token if ``user`` may see it (who may revoke it: ``accounts/checks.py``)."""
    try:
        return api_tokens_visible_to(user).get(pk=token_id)
    except (ApiToken.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def access_staff_member(user: User, user_id: int) -> User:
    """A vendor staff member who is a person (not a service account) for a staff viewer;
    who may change them is decided in ``accounts/checks.py``. Customers' logins and
    service accounts are a 404 here: they change with their contact or their token."""
    if not is_vendor_staff(user):
        raise Http404
    try:
        return User.objects.get(pk=user_id, is_staff=True, is_service_account=False)
    except (User.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def access_team(user: User, team_id: int) -> Team:
    """A team, for a staff viewer (who may change it: ``accounts/checks.py``)."""
    if not is_vendor_staff(user):
        raise Http404
    try:
        return Team.objects.select_related("lead").get(pk=team_id)
    except (Team.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
