"""The typed events of people, organizations and teams (history: ``AccountEvent``).

What each event is about lives in the history row's columns (``organization``,
``contact``, ``user``, ``team``, ``actor``), not in the payload. A customer may read what
the API already shows them of their own organization and its contacts (names, domains,
e-mail addresses, roles); events about vendor staff, roles and teams are staff-only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from retainer.accounts.choices import AccountEventType
from retainer.lib.events import Event

#: ``{field: {"old": …, "new": …}}`` of the fields an update changed.
Changes = dict[str, dict[str, Any]]


@dataclass(frozen=True, kw_only=True)
class AccountEventBase(Event):
    """An event of people, organizations or teams (an ``AccountEvent`` row)."""

    history = "accounts.accountevent"


# --- Organizations ---------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class OrganizationCreated(AccountEventBase):
    """A customer organization was added, with its e-mail domains."""

    name = "organization.created"
    type = AccountEventType.ORGANIZATION_CREATED
    customer_fields = frozenset({"organization_name", "domains"})

    organization_name: str
    domains: list[str]


@dataclass(frozen=True, kw_only=True)
class OrganizationUpdated(AccountEventBase):
    """The organization's name, time zone, currency or account owner changed."""

    name = "organization.updated"
    type = AccountEventType.ORGANIZATION_UPDATED
    customer_fields = frozenset({"changes"})

    changes: Changes


@dataclass(frozen=True, kw_only=True)
class OrganizationDomainsChanged(AccountEventBase):
    """The organization's e-mail domains were replaced."""

    name = "organization.domains_changed"
    type = AccountEventType.ORGANIZATION_DOMAINS_CHANGED
    customer_fields = frozenset({"old", "new"})

    old: list[str]
    new: list[str]


@dataclass(frozen=True, kw_only=True)
class OrganizationDeactivated(AccountEventBase):
    """The organization was deactivated: its people can no longer sign in."""

    name = "organization.deactivated"
    type = AccountEventType.ORGANIZATION_DEACTIVATED


@dataclass(frozen=True, kw_only=True)
class OrganizationReactivated(AccountEventBase):
    """The organization was reactivated."""

    name = "organization.reactivated"
    type = AccountEventType.ORGANIZATION_REACTIVATED


# --- Contacts --------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ContactCreated(AccountEventBase):
    """A contact was added to the organization."""

    name = "contact.created"
    type = AccountEventType.CONTACT_CREATED
    customer_fields = frozenset({"email", "role"})

    email: str
    role: str


@dataclass(frozen=True, kw_only=True)
class ContactUpdated(AccountEventBase):
    """The contact's name, e-mail address, phone or portal role changed."""

    name = "contact.updated"
    type = AccountEventType.CONTACT_UPDATED
    customer_fields = frozenset({"changes"})

    changes: Changes


@dataclass(frozen=True, kw_only=True)
class ContactDeactivated(AccountEventBase):
    """The contact (and their portal login) was deactivated."""

    name = "contact.deactivated"
    type = AccountEventType.CONTACT_DEACTIVATED


@dataclass(frozen=True, kw_only=True)
class ContactReactivated(AccountEventBase):
    """The contact (and their portal login) was reactivated."""

    name = "contact.reactivated"
    type = AccountEventType.CONTACT_REACTIVATED


@dataclass(frozen=True, kw_only=True)
class ContactPortalAccessGranted(AccountEventBase):
    """The contact got a portal login (the row's ``user``)."""

    name = "contact.portal_access_granted"
    type = AccountEventType.CONTACT_PORTAL_ACCESS_GRANTED


# --- Vendor staff and teams (staff-only) -----------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class StaffCreated(AccountEventBase):
    """A vendor staff member was added with these roles."""

    name = "staff.created"
    type = AccountEventType.STAFF_CREATED

    roles: list[str]


@dataclass(frozen=True, kw_only=True)
class StaffRolesChanged(AccountEventBase):
    """A staff member's roles were replaced."""

    name = "staff.roles_changed"
    type = AccountEventType.STAFF_ROLES_CHANGED

    old: list[str]
    new: list[str]


@dataclass(frozen=True, kw_only=True)
class StaffUpdated(AccountEventBase):
    """A staff member's name or e-mail address changed."""

    name = "staff.updated"
    type = AccountEventType.STAFF_UPDATED

    changes: Changes


@dataclass(frozen=True, kw_only=True)
class UserDeactivated(AccountEventBase):
    """A login was deactivated."""

    name = "user.deactivated"
    type = AccountEventType.USER_DEACTIVATED


@dataclass(frozen=True, kw_only=True)
class UserReactivated(AccountEventBase):
    """A login was reactivated."""

    name = "user.reactivated"
    type = AccountEventType.USER_REACTIVATED


@dataclass(frozen=True, kw_only=True)
class TeamCreated(AccountEventBase):
    """A team of agents was formed."""

    name = "team.created"
    type = AccountEventType.TEAM_CREATED

    team_name: str
    members: list[int]
    #: The user id of the team's lead (None: no lead; also in events older than leads).
    lead: int | None = None


@dataclass(frozen=True, kw_only=True)
class TeamUpdated(AccountEventBase):
    """A team was saved again: its name, members and lead as they now are."""

    name = "team.updated"
    type = AccountEventType.TEAM_UPDATED

    team_name: str
    members: list[int]
    #: The user id of the team's lead (None: no lead; also in events older than leads).
    lead: int | None = None


# --- Sign-in and preferences (staff-only) ----------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class SignInLocked(AccountEventBase):
    """Password sign-in was locked after repeated failures, for an account or an address.

    ``accounts/throttling.py`` records it on the failure that reaches a limit: the
    account's (the row's ``user``, empty when no account has that name) or the client
    address's. Locked attempts are refused until a cool-off window passes without any."""

    name = "sign_in.locked"
    type = AccountEventType.SIGN_IN_LOCKED

    #: ``account`` or ``address``: which limit was reached.
    locked: str
    #: The client's IP address.
    address: str | None
    #: Failures counted against that limit within the cool-off window.
    failures: int


@dataclass(frozen=True, kw_only=True)
class PreferencesChanged(AccountEventBase):
    """A staff member changed their own preferences (keyboard shortcuts)."""

    name = "user.preferences_changed"
    type = AccountEventType.PREFERENCES_CHANGED

    changes: Changes


# --- API tokens (staff-only) -----------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ApiTokenCreated(AccountEventBase):
    """An API token was created (the row's ``user`` is the user it acts as). The secret
    is never part of any event."""

    name = "api_token.created"
    type = AccountEventType.API_TOKEN_CREATED

    token_id: int
    token_name: str
    #: ``personal`` or ``service``.
    kind: str
    scopes: list[str]
    #: ISO 8601, or None for a token without expiry.
    expires_at: str | None


@dataclass(frozen=True, kw_only=True)
class ApiTokenRevoked(AccountEventBase):
    """An API token was revoked: it answers 401 from now on."""

    name = "api_token.revoked"
    type = AccountEventType.API_TOKEN_REVOKED

    token_id: int
    token_name: str
