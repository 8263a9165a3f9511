"""Every change to people, organizations and teams.

Each action validates everything it was given before it writes anything, runs in one
transaction and records its typed events (``accounts/events.py``). Who may call which
action from an interface is decided in ``accounts/checks.py``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import math
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from retainer.accounts import events, tokens
from retainer.accounts.access import customer_contact
from retainer.accounts.choices import ContactRole, Role, TokenKind
from retainer.accounts.models import (
    AccountEvent,
    ApiToken,
    Contact,
    MagicLinkToken,
    Organization,
    OrganizationDomain,
    Team,
    User,
)
from retainer.lib.errors import Conflict, DomainError, InvalidInput
from retainer.lib.events import record, record_many
from retainer.lib.models import apply_changes
from retainer.lib.sanitize import clean_line, strip_invisible_controls

ORGANIZATION_FIELDS = (
    "name",
    "time_zone",
    "currency",
    "account_owner",
    "share_cases_with_colleagues",
)
CONTACT_FIELDS = ("full_name", "email", "phone", "role")
STAFF_FIELDS = ("full_name", "email")


# --- Organizations ---------------------------------------------------------------------------


def normalize_domains(domains: Iterable[str]) -> list[str]:
    """Lower-case, without a trailing dot, each once, in the order given."""
    cleaned: list[str] = []
    for domain in domains:
        value = domain.strip().lower().rstrip(".")
        if value and value not in cleaned:
            cleaned.append(value)
    return cleaned


def organization_domain_errors(organization: Organization, domains: Iterable[str]) -> list[str]:
    """Why some of ``domains`` cannot be the organization's: malformed, or owned by another
    organization. One message per refused domain; empty when all may be set."""
    own = set(organization.domains.values_list("domain", flat=True)) if organization.pk else set()
    errors: list[str] = []
    for domain in domains:
        if domain in own:
            continue
        try:
            OrganizationDomain(domain=domain).full_clean(exclude=["organization"])
        except ValidationError as exc:
            errors.extend(f"{domain}: {message}" for message in exc.messages)
    return errors


def account_owner_error(owner: User | None) -> str | None:
    if owner is not None and not (owner.is_staff and owner.is_active):
        return "The account owner must be active vendor staff."
    return None


def validate_organization(organization: Organization, *, domains: list[str] | None) -> None:
    """Every refusal of the organization's (unsaved) values and of its new ``domains``, at
    once, as one ``ValidationError`` by field; nothing may be written until this passes."""
    errors: dict[str, list[str]] = {}
    try:
        organization.full_clean()
    except ValidationError as exc:
        errors.update(exc.message_dict)
    owner_error = account_owner_error(organization.account_owner)
    if owner_error:
        errors.setdefault("account_owner", []).append(owner_error)
    if domains is not None and (bad := organization_domain_errors(organization, domains)):
        errors["domains"] = bad
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def do_create_organization(
    *,
    name: str,
    time_zone: str = "UTC",
    currency: str = "EUR",
    domains: Iterable[str] = (),
    account_owner: User | None = None,
    actor: User | None,
) -> Organization:
    organization = Organization(
        name=name.strip(), time_zone=time_zone, currency=currency, account_owner=account_owner
    )
    domain_list = normalize_domains(domains)
    validate_organization(organization, domains=domain_list)
    organization.save()
    OrganizationDomain.objects.bulk_create(
        OrganizationDomain(organization=organization, domain=domain) for domain in domain_list
    )
    record(
        AccountEvent,
        events.OrganizationCreated(
            organization_name=organization.name, domains=sorted(domain_list)
        ),
        actor=actor,
        organization=organization,
    )
    return organization


@transaction.atomic
def do_update_organization(
    organization: Organization,
    *,
    actor: User | None,
    domains: Iterable[str] | None = None,
    **changes: Any,
) -> Organization:
    """Change the organization's fields and, when ``domains`` is given, replace its domains.

    All of it is validated first: a refused field or domain leaves the organization, its
    domains and its history as they were.
    """
    diff = apply_changes(organization, changes, allowed=ORGANIZATION_FIELDS)
    new_domains = None if domains is None else normalize_domains(domains)
    validate_organization(organization, domains=new_domains)
    changed: list[events.AccountEventBase] = []
    if diff:
        organization.save()
        changed.append(events.OrganizationUpdated(changes=diff))
    if new_domains is not None:
        old = sorted(organization.domains.values_list("domain", flat=True))
        if old != sorted(new_domains):
            _replace_domains(organization, old, new_domains)
            changed.append(events.OrganizationDomainsChanged(old=old, new=sorted(new_domains)))
    record_many(
        AccountEvent,
        [(event, {"actor": actor, "organization": organization}) for event in changed],
    )
    return organization


def _replace_domains(organization: Organization, old: list[str], new: list[str]) -> None:
    OrganizationDomain.objects.filter(organization=organization).exclude(domain__in=new).delete()
    OrganizationDomain.objects.bulk_create(
        OrganizationDomain(organization=organization, domain=domain)
        for domain in new
        if domain not in old
    )


@transaction.atomic
def do_set_organization_active(
    organization: Organization, active: bool, *, actor: User | None
) -> Organization:
    if organization.is_active != active:
        organization.is_active = active
        organization.save(update_fields=["is_active"])
        event = events.OrganizationReactivated() if active else events.OrganizationDeactivated()
        record(AccountEvent, event, actor=actor, organization=organization)
    return organization


# --- Contacts --------------------------------------------------------------------------------


def _new_login(contact: Contact, password: str | None) -> User:
    """The (unsaved, validated) portal login of ``contact``: an unusable password unless
    one is given."""
    user = User(email=contact.email, full_name=contact.full_name, is_staff=False)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean()
    return user


@transaction.atomic
def do_create_contact(
    *,
    organization: Organization,
    full_name: str,
    email: str,
    phone: str = "",
    role: str = ContactRole.MEMBER,
    portal_password: str | None = None,
    actor: User | None,
) -> Contact:
    """Add a contact, with a portal login when ``portal_password`` is given (``""`` for a
    login whose password is set later)."""
    contact = Contact(
        organization=organization,
        full_name=full_name.strip(),
        email=email.strip().lower(),
        phone=phone.strip(),
        role=role,
    )
    contact.full_clean()
    login = None if portal_password is None else _new_login(contact, portal_password)
    if login is not None:
        login.save()
        contact.user = login
    contact.save()
    columns = {"actor": actor, "organization": organization, "contact": contact}
    recorded: list[tuple[events.AccountEventBase, dict[str, Any]]] = [
        (events.ContactCreated(email=contact.email, role=contact.role), columns)
    ]
    if login is not None:
        recorded.append((events.ContactPortalAccessGranted(), {**columns, "user": login}))
    record_many(AccountEvent, recorded)
    return contact


@transaction.atomic
def do_update_contact(contact: Contact, *, actor: User | None, **changes: Any) -> Contact:
    """Change the contact's fields; a new e-mail address moves their portal login with it."""
    if "email" in changes:
        changes["email"] = changes["email"].strip().lower()
    diff = apply_changes(contact, changes, allowed=CONTACT_FIELDS)
    if not diff:
        return contact
    contact.full_clean()
    login = None
    if contact.user_id and "email" in diff:
        login = User.objects.get(pk=contact.user_id)
        login.email = contact.email
        login.full_clean()
    contact.save()
    if login is not None:
        login.save(update_fields=["email"])
    record(
        AccountEvent,
        events.ContactUpdated(changes=diff),
        actor=actor,
        organization_id=contact.organization_id,
        contact=contact,
    )
    return contact


@transaction.atomic
def do_grant_portal_access(contact: Contact, *, password: str | None, actor: User | None) -> User:
    """Give the contact a portal login (an unusable password until one is set)."""
    if contact.user_id:
        raise Conflict("portal_login_exists", "This contact already has a portal login.")
    if not contact.is_active:
        raise Conflict("contact_inactive", "An inactive contact cannot get a portal login.")
    user = _new_login(contact, password)
    user.save()
    contact.user = user
    contact.save(update_fields=["user"])
    record(
        AccountEvent,
        events.ContactPortalAccessGranted(),
        actor=actor,
        organization_id=contact.organization_id,
        contact=contact,
        user=user,
    )
    return user


@transaction.atomic
def do_set_contact_active(contact: Contact, active: bool, *, actor: User | None) -> Contact:
    """Deactivate (or reactivate) a contact and their portal login with it."""
    if contact.is_active != active:
        contact.is_active = active
        contact.save(update_fields=["is_active"])
        if contact.user_id:
            User.objects.filter(pk=contact.user_id).update(is_active=active)
        event = events.ContactReactivated() if active else events.ContactDeactivated()
        record(
            AccountEvent,
            event,
            actor=actor,
            organization_id=contact.organization_id,
            contact=contact,
        )
    return contact


# --- Vendor staff and teams ------------------------------------------------------------------


def known_roles(roles: Iterable[str]) -> list[str]:
    """``roles`` sorted and each once; refuses a name that is not a role."""
    wanted = sorted(set(roles))
    unknown = set(wanted) - set(Role.values)
    if unknown:
        raise InvalidInput(
            "unknown_role", f"Unknown role(s): {', '.join(sorted(unknown))}.", field="roles"
        )
    return wanted


@transaction.atomic
def do_create_staff_user(
    *,
    email: str,
    full_name: str,
    roles: Iterable[str],
    password: str | None = None,
    actor: User | None,
) -> User:
    wanted = known_roles(roles)
    user = User(email=email.strip().lower(), full_name=clean_line(full_name), is_staff=True)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean()
    user.save()
    user.groups.set(Group.objects.filter(name__in=wanted))
    record(AccountEvent, events.StaffCreated(roles=wanted), actor=actor, user=user)
    return user


@transaction.atomic
def do_update_staff_user(user: User, *, actor: User | None, **changes: Any) -> User:
    """Change a staff member's name or e-mail address. A customer's login follows their
    contact (``do_update_contact``), so it is refused here."""
    if not user.is_staff:
        raise InvalidInput("not_staff", "A customer login changes with its contact.")
    if "email" in changes:
        changes["email"] = changes["email"].strip().lower()
    if "full_name" in changes:
        changes["full_name"] = clean_line(changes["full_name"])
    diff = apply_changes(user, changes, allowed=STAFF_FIELDS)
    if diff:
        user.full_clean()
        user.save(update_fields=list(diff))
        record(AccountEvent, events.StaffUpdated(changes=diff), actor=actor, user=user)
    return user


@transaction.atomic
def do_set_staff_roles(user: User, roles: Iterable[str], *, actor: User | None) -> User:
    if not user.is_staff:
        raise InvalidInput("not_staff", "Roles are for vendor staff; customer users have none.")
    wanted = known_roles(roles)
    before = sorted(user.groups.values_list("name", flat=True))
    if before != wanted:
        user.groups.set(Group.objects.filter(name__in=wanted))
        record(
            AccountEvent,
            events.StaffRolesChanged(old=before, new=wanted),
            actor=actor,
            user=user,
        )
    return user


@transaction.atomic
def do_change_staff_member(
    user: User, *, full_name: str, roles: Iterable[str], actor: User | None
) -> User:
    """Set a staff member's name and roles together: a refusal of either leaves both
    (and the history) as they were."""
    do_update_staff_user(user, full_name=full_name, actor=actor)
    return do_set_staff_roles(user, roles, actor=actor)


@transaction.atomic
def do_set_user_active(user: User, active: bool, *, actor: User | None) -> User:
    if actor is not None and actor.pk == user.pk and not active:
        raise Conflict("cannot_deactivate_self", "You cannot deactivate yourself.")
    if user.is_active != active:
        user.is_active = active
        user.save(update_fields=["is_active"])
        event = events.UserReactivated() if active else events.UserDeactivated()
        record(AccountEvent, event, actor=actor, user=user)
    return user


def team_lead_error(lead: User | None) -> str | None:
    """Why ``lead`` cannot lead a team (None when they can): a team is led by an active
    vendor staff member who is a person, not a service account."""
    if lead is not None and not (lead.is_staff and lead.is_active and not lead.is_service_account):
        return "The team lead must be an active vendor staff member."
    return None


@transaction.atomic
def do_save_team(
    team: Team | None,
    *,
    name: str,
    description: str = "",
    members: Iterable[User] = (),
    lead: User | None = None,
    actor: User | None,
) -> Team:
    """Create a team (``team`` is None) or set its name, description, members and lead
    (None: no lead). Everything is checked before anything is written."""
    members = list(members)
    if any(not member.is_staff for member in members):
        raise InvalidInput(
            "team_member_not_staff", "Teams are made of vendor staff only.", field="members"
        )
    lead_error = team_lead_error(lead)
    if lead_error:
        raise InvalidInput("team_lead_not_staff", lead_error, field="lead")
    created = team is None
    team = team or Team()
    team.name = clean_line(name)
    team.description = strip_invisible_controls(description).strip()
    team.lead = lead
    team.full_clean()
    team.save()
    team.members.set(members)
    event_class = events.TeamCreated if created else events.TeamUpdated
    event = event_class(
        team_name=team.name,
        members=sorted(m.pk for m in members),
        lead=lead.pk if lead is not None else None,
    )
    record(AccountEvent, event, actor=actor, team=team)
    return team


# --- Sign-in links ------------------------------------------------------------------------

MAGIC_LINK_MINUTES = 15
MAGIC_LINK_LIFETIME = dt.timedelta(minutes=MAGIC_LINK_MINUTES)
MAGIC_LINK_RATE = 5  # requests per address ...
MAGIC_LINK_WINDOW = dt.timedelta(hours=1)  # ... per this window


class MagicLinkRateLimited(DomainError):
    """Too many sign-in links asked for one address; ``retry_after`` is in seconds."""

    status: ClassVar[int] = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            "rate_limited", f"Too many sign-in links requested; retry in {retry_after} s."
        )
        self.retry_after = retry_after


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@transaction.atomic
def do_send_magic_link(*, email: str, link_for: Callable[[str], str]) -> None:
    """Record a sign-in link request for ``email`` and, when the address belongs to an active
    customer contact's login, e-mail them the link (after commit).

    The caller answers the same way whether or not a link was sent. At most
    ``MAGIC_LINK_RATE`` requests per address and window, counted on the rows, whatever the
    address: otherwise ``MagicLinkRateLimited``. The token (256 random bits) is stored only
    as its SHA-256; ``link_for(token)`` builds the absolute URL put in the e-mail.
    """
    address = email.strip().lower()
    email_digest = _digest(address)
    now = timezone.now()
    recent = list(
        MagicLinkToken.objects.filter(
            email_digest=email_digest, created_at__gt=now - MAGIC_LINK_WINDOW
        )
        .order_by("created_at")
        .values_list("created_at", flat=True)[:MAGIC_LINK_RATE]
    )
    if len(recent) >= MAGIC_LINK_RATE:
        retry_after = math.ceil((recent[0] + MAGIC_LINK_WINDOW - now).total_seconds())
        raise MagicLinkRateLimited(max(retry_after, 1))
    user = User.objects.filter(email__iexact=address, is_active=True).first()
    if user is not None and customer_contact(user) is None:
        user = None  # staff and stale logins sign in with their password only
    token = secrets.token_urlsafe(32)
    MagicLinkToken.objects.create(
        token_hash=_digest(token),
        email_digest=email_digest,
        user=user,
        created_at=now,
        expires_at=now + MAGIC_LINK_LIFETIME,
    )
    if user is not None:
        # The mail channel queues it in this transaction and sends it after commit, with
        # retries (wired by name: accounts sits below mail, docs/architecture.md).
        send = import_string(settings.RETAINER_SIGN_IN_LINK_SENDER)
        send(to=user.email, link=link_for(token), minutes=MAGIC_LINK_MINUTES)


def magic_link_user(token: str) -> User:
    """The user a still-usable link would sign in, without using it (for the confirm page)."""
    return _usable_link(token, lock=False).user  # type: ignore[return-value]


@transaction.atomic
def do_use_magic_link(token: str) -> User:
    """Mark the link used and return its user; raises ``InvalidInput`` when the link is
    unknown, used or expired. Locks the row, so a link signs in exactly once."""
    row = _usable_link(token, lock=True)
    used = MagicLinkToken.objects.filter(pk=row.pk, used_at__isnull=True).update(
        used_at=timezone.now()
    )
    if used != 1:
        raise InvalidInput("link_used", "This sign-in link was already used.")
    assert row.user is not None  # noqa: S101 - _usable_link checked it
    return row.user


def _usable_link(token: str, *, lock: bool) -> MagicLinkToken:
    token_hash = _digest(token)
    rows = MagicLinkToken.objects.select_related("user")
    if lock:
        # Lock the token row only: PostgreSQL cannot lock the nullable side of the join.
        rows = rows.select_for_update(of=("self",))
    row = rows.filter(token_hash=token_hash).first()
    # The lookup is by digest; compare again in constant time all the same.
    if (
        row is None
        or not hmac.compare_digest(row.token_hash, token_hash)
        or row.user is None
        or customer_contact(row.user) is None
    ):
        raise InvalidInput(
            "link_invalid", "This sign-in link is not valid. Request a new one below."
        )
    if row.used_at is not None:
        raise InvalidInput(
            "link_used", "This sign-in link was already used. Request a new one below."
        )
    if row.expires_at <= timezone.now():
        raise InvalidInput(
            "link_expired",
            "This sign-in link has expired: links work for 15 minutes. Request a new one below.",
        )
    return row


# --- Password sign-in throttling --------------------------------------------------------------


@transaction.atomic
def do_record_sign_in_lockout(
    *, username: str | None, address: str | None, locked: str, failures: int
) -> AccountEvent:
    """Record that password sign-in was locked (``accounts/throttling.py`` calls it on the
    failure that reaches a limit). ``username`` is the name that was tried: the event
    points at its account when there is one, and never stores a name without an account
    (people type their password in the wrong box)."""
    user = User.objects.filter(email__iexact=username).first() if username else None
    event = events.SignInLocked(locked=locked, address=address, failures=failures)
    return record(AccountEvent, event, actor=None, user=user)


# --- Preferences ---------------------------------------------------------------------------

PREFERENCE_FIELDS = ("shortcuts_enabled", "shortcut_keys")


@transaction.atomic
def do_set_preferences(user: User, *, actor: User | None, **changes: Any) -> User:
    """Set a user's preferences (``PREFERENCE_FIELDS``): whether the console's keyboard
    shortcuts are on, and the keys that differ from the defaults (``accounts/shortcuts.py``
    validates them through the model)."""
    diff = apply_changes(user, changes, allowed=PREFERENCE_FIELDS)
    if diff:
        user.full_clean()
        user.save(update_fields=list(diff))
        record(AccountEvent, events.PreferencesChanged(changes=diff), actor=actor, user=user)
    return user


# --- API tokens ------------------------------------------------------------------------------

#: How often at most a token's ``last_used_at`` is written.
TOKEN_TOUCH_INTERVAL = dt.timedelta(minutes=1)


@dataclass(frozen=True)
class IssuedToken:
    """A token just created, with the text its owner is shown once (never stored)."""

    token: ApiToken
    text: str


def token_expiry(now: dt.datetime, days: int | None) -> dt.datetime | None:
    """When a token created at ``now`` for ``days`` days expires: None (never) is allowed
    only when no maximum is configured (``RETAINER_API_TOKEN_MAX_DAYS`` = 0)."""
    longest = settings.RETAINER_API_TOKEN_MAX_DAYS
    if days is None:
        if longest:
            raise InvalidInput(
                "expiry_required",
                f"A token must expire within {longest} days.",
                field="expires_in_days",
            )
        return None
    if days < 1 or (longest and days > longest):
        most = f"{longest}" if longest else "any number of"
        raise InvalidInput(
            "invalid_expiry",
            f"A token lasts from 1 to {most} days.",
            field="expires_in_days",
        )
    return now + dt.timedelta(days=days)


def _token_scopes(scopes: Iterable[str]) -> list[str]:
    try:
        wanted = tokens.normalize_scopes(scopes)
    except ValueError as exc:
        raise InvalidInput("unknown_scope", f"Unknown scope(s): {exc}.", field="scopes") from None
    if not wanted:
        raise InvalidInput("no_scope", "Choose at least one scope.", field="scopes")
    return wanted


def _issue(
    *, user: User, kind: str, name: str, scopes: Iterable[str], days: int | None, actor: User
) -> IssuedToken:
    now = timezone.now()
    secret = tokens.new_secret()
    token = ApiToken(
        name=clean_line(name, max_length=100),
        kind=kind,
        user=user,
        scopes=_token_scopes(scopes),
        secret_digest=tokens.digest(secret),
        created_by=actor,
        created_at=now,
        expires_at=token_expiry(now, days),
    )
    token.full_clean()
    token.save()
    event = events.ApiTokenCreated(
        token_id=token.pk,
        token_name=token.name,
        kind=kind,
        scopes=token.scopes,
        expires_at=token.expires_at.isoformat() if token.expires_at else None,
    )
    contact = customer_contact(user)
    columns: dict[str, Any] = {"actor": actor, "user": user}
    if contact is not None:
        columns.update(contact=contact, organization_id=contact.organization_id)
    record(AccountEvent, event, **columns)
    return IssuedToken(token, tokens.token_text(token.pk, secret))


@transaction.atomic
def do_create_api_token(
    *, user: User, name: str, scopes: Iterable[str], expires_in_days: int | None, actor: User
) -> IssuedToken:
    """A personal token acting as ``user`` (who checked that ``actor`` may: the caller).
    The returned text is the only copy of the secret."""
    return _issue(
        user=user, kind=TokenKind.PERSONAL, name=name, scopes=scopes, days=expires_in_days,
        actor=actor,
    )  # fmt: skip


@transaction.atomic
def do_create_service_token(
    *, name: str, role: str, scopes: Iterable[str], expires_in_days: int | None, actor: User
) -> IssuedToken:
    """A service token and the service account it acts as: vendor staff holding ``role``,
    without a usable password, that cannot sign in (``User.is_service_account``)."""
    roles = known_roles([role])
    label = clean_line(name, max_length=100)
    user = User(
        email=f"service-{secrets.token_hex(8)}@service-tokens.invalid",
        full_name=f"{label} (service token)"[:200],
        is_staff=True,
        is_service_account=True,
    )
    user.set_unusable_password()
    user.full_clean()
    user.save()
    user.groups.set(Group.objects.filter(name__in=roles))
    record(AccountEvent, events.StaffCreated(roles=roles), actor=actor, user=user)
    return _issue(
        user=user, kind=TokenKind.SERVICE, name=label, scopes=scopes, days=expires_in_days,
        actor=actor,
    )  # fmt: skip


@transaction.atomic
def do_revoke_api_token(token: ApiToken, *, actor: User | None) -> ApiToken:
    """Revoke the token (again: nothing happens). A service token's account is
    deactivated with it, so it leaves the lists of active staff."""
    token = ApiToken.objects.select_for_update().select_related("user").get(pk=token.pk)
    if token.revoked_at is not None:
        return token
    token.revoked_at = timezone.now()
    token.revoked_by = actor
    token.save(update_fields=["revoked_at", "revoked_by"])
    recorded: list[tuple[events.AccountEventBase, dict[str, Any]]] = [
        (
            events.ApiTokenRevoked(token_id=token.pk, token_name=token.name),
            {"actor": actor, "user": token.user},
        )
    ]
    if token.kind == TokenKind.SERVICE and token.user.is_active:
        token.user.is_active = False
        token.user.save(update_fields=["is_active"])
        recorded.append((events.UserDeactivated(), {"actor": actor, "user": token.user}))
    record_many(AccountEvent, recorded)
    return token


def do_touch_api_token(token: ApiToken, *, now: dt.datetime) -> None:
    """Note that the token was used at ``now``: at most one write a minute per token,
    whatever the number of requests or processes (the ``UPDATE`` checks the stored time)."""
    stale = now - TOKEN_TOUCH_INTERVAL
    if token.last_used_at is not None and token.last_used_at > stale:
        return
    ApiToken.objects.filter(pk=token.pk).filter(
        models.Q(last_used_at__isnull=True) | models.Q(last_used_at__lte=stale)
    ).update(last_used_at=now)
    token.last_used_at = now
