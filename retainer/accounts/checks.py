"""Who may change people, organizations and teams: one rule per operation, whatever the
door (the API, the admin, a page).

``check_<verb>_<noun>(actor, …)`` refuses an actor without the operation's permission
(``NotPermitted``, which every interface answers with 403) and then calls the
``do_*`` action, which validates the whole input before it writes anything. The rule is
the permission the API asks for; ``authorize_*`` states it alone for a door that must
refuse before it parses its input, so a refused actor is never told about the body.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from retainer.accounts import actions
from retainer.accounts.access import customer_contact, is_vendor_staff
from retainer.accounts.models import ApiToken, Contact, Organization, Team, User
from retainer.lib.errors import NotPermitted


def require_staff_permission(actor: Any, *perms: str) -> None:
    """Refuse unless ``actor`` is active vendor staff holding every one of ``perms``."""
    if not (is_vendor_staff(actor) and actor.has_perms(perms)):
        raise NotPermitted("permission_denied", "You do not have permission to do this.")


# --- Organizations ---------------------------------------------------------------------------


def authorize_create_organization(actor: Any) -> None:
    require_staff_permission(actor, "accounts.add_organization")


def authorize_change_organization(actor: Any) -> None:
    require_staff_permission(actor, "accounts.change_organization")


def check_create_organization(actor: User, **values: Any) -> Organization:
    authorize_create_organization(actor)
    return actions.do_create_organization(actor=actor, **values)


def check_update_organization(
    actor: User, organization: Organization, **values: Any
) -> Organization:
    """Change fields and (with ``domains``) the domains, all or nothing."""
    authorize_change_organization(actor)
    return actions.do_update_organization(organization, actor=actor, **values)


def check_set_organization_active(
    actor: User, organization: Organization, active: bool
) -> Organization:
    authorize_change_organization(actor)
    return actions.do_set_organization_active(organization, active, actor=actor)


# --- Contacts --------------------------------------------------------------------------------


def authorize_create_contact(actor: Any) -> None:
    require_staff_permission(actor, "accounts.add_contact")


def authorize_manage_contact(actor: Any, contact: Contact) -> None:
    """Staff with ``accounts.change_contact``, or a customer admin of the contact's own
    organization."""
    own = customer_contact(actor)
    if own is not None and own.is_customer_admin and own.organization_id == contact.organization_id:
        return
    require_staff_permission(actor, "accounts.change_contact")


def check_create_contact(actor: User, **values: Any) -> Contact:
    authorize_create_contact(actor)
    return actions.do_create_contact(actor=actor, **values)


def check_update_contact(actor: User, contact: Contact, **values: Any) -> Contact:
    authorize_manage_contact(actor, contact)
    return actions.do_update_contact(contact, actor=actor, **values)


def check_set_contact_active(actor: User, contact: Contact, active: bool) -> Contact:
    authorize_manage_contact(actor, contact)
    return actions.do_set_contact_active(contact, active, actor=actor)


# --- Vendor staff and teams ------------------------------------------------------------------


def may_manage_staff(actor: Any) -> bool:
    """Active vendor staff holding ``accounts.change_user`` (the admin role)."""
    return is_vendor_staff(actor) and actor.has_perm("accounts.change_user")


def may_manage_teams(actor: Any) -> bool:
    """Active vendor staff holding ``accounts.change_team`` (managers and admins)."""
    return is_vendor_staff(actor) and actor.has_perm("accounts.change_team")


def authorize_view_people(actor: Any) -> None:
    """The console's People page: for whoever may change staff members or teams (each
    part of the page shows only to the holders of its own permission)."""
    if not (may_manage_staff(actor) or may_manage_teams(actor)):
        raise NotPermitted("permission_denied", "You do not have permission to do this.")


def authorize_create_staff_user(actor: Any) -> None:
    require_staff_permission(actor, "accounts.add_user")


def authorize_change_staff_user(actor: Any) -> None:
    require_staff_permission(actor, "accounts.change_user")


def authorize_save_team(actor: Any, team: Team | None) -> None:
    """Create (``team`` is None, ``accounts.add_team``) or change a team
    (``accounts.change_team``)."""
    require_staff_permission(actor, "accounts.add_team" if team is None else "accounts.change_team")


def check_create_staff_user(actor: User, **values: Any) -> User:
    authorize_create_staff_user(actor)
    return actions.do_create_staff_user(actor=actor, **values)


def check_update_staff_user(actor: User, user: User, **values: Any) -> User:
    authorize_change_staff_user(actor)
    return actions.do_update_staff_user(user, actor=actor, **values)


def check_set_staff_roles(actor: User, user: User, roles: Iterable[str]) -> User:
    authorize_change_staff_user(actor)
    return actions.do_set_staff_roles(user, roles, actor=actor)


def check_change_staff_member(
    actor: User, user: User, *, full_name: str, roles: Iterable[str]
) -> User:
    """The console's edit of a staff member: name and roles, all or nothing."""
    authorize_change_staff_user(actor)
    return actions.do_change_staff_member(user, full_name=full_name, roles=roles, actor=actor)


def check_set_user_active(actor: User, user: User, active: bool) -> User:
    authorize_change_staff_user(actor)
    return actions.do_set_user_active(user, active, actor=actor)


def check_save_team(actor: User, team: Team | None, **values: Any) -> Team:
    """Create (``team`` is None, ``accounts.add_team``) or change a team."""
    authorize_save_team(actor, team)
    return actions.do_save_team(team, actor=actor, **values)


# --- Preferences ---------------------------------------------------------------------------


def check_set_preferences(actor: User, **values: Any) -> User:
    """A staff member sets their own preferences (no one sets another's)."""
    if not is_vendor_staff(actor):
        raise NotPermitted("permission_denied", "Only vendor staff have console preferences.")
    return actions.do_set_preferences(actor, actor=actor, **values)


# --- API tokens ------------------------------------------------------------------------------

MANAGE_SERVICE_TOKENS = "accounts.manage_service_tokens"


def may_own_api_token(actor: Any) -> bool:
    """Active vendor staff (not a service account) and active customer contacts may hold
    personal API tokens."""
    if getattr(actor, "is_service_account", False):
        return False
    return is_vendor_staff(actor) or customer_contact(actor) is not None


def may_manage_service_tokens(actor: Any) -> bool:
    return is_vendor_staff(actor) and actor.has_perm(MANAGE_SERVICE_TOKENS)


def check_create_api_token(actor: User, **values: Any) -> actions.IssuedToken:
    """A personal token for the actor themself: it acts as them, never as anyone else."""
    if not may_own_api_token(actor):
        raise NotPermitted("permission_denied", "You cannot hold API tokens.")
    return actions.do_create_api_token(user=actor, actor=actor, **values)


def check_create_service_token(actor: User, **values: Any) -> actions.IssuedToken:
    require_staff_permission(actor, MANAGE_SERVICE_TOKENS)
    return actions.do_create_service_token(actor=actor, **values)


def check_revoke_api_token(actor: User, token: ApiToken) -> ApiToken:
    """The owner revokes their own personal token; a holder of
    ``accounts.manage_service_tokens`` revokes any token."""
    own = token.user_id == actor.pk and may_own_api_token(actor)
    if not (own or may_manage_service_tokens(actor)):
        raise NotPermitted("permission_denied", "You cannot revoke this token.")
    return actions.do_revoke_api_token(token, actor=actor)
