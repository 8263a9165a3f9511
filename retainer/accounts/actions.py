"""Every change to people, organizations and teams. Each action is atomic and records an event."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import math
import secrets
from collections.abc import Callable, Iterable
from typing import Any

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from retainer.accounts.access import customer_contact
from retainer.accounts.choices import AccountEventType, ContactRole, Role
from retainer.accounts.models import (
    AccountEvent,
    Contact,
    MagicLinkToken,
    Organization,
    OrganizationDomain,
    Team,
    User,
)
from retainer.lib.models import apply_changes, save_validated

ORGANIZATION_FIELDS = ("name", "time_zone", "currency", "account_owner")
CONTACT_FIELDS = ("full_name", "email", "phone", "role")


def record_account_event(type: str, *, actor: User | None, **refs: Any) -> AccountEvent:
    data = refs.pop("data", {})
    return AccountEvent.objects.create(type=type, actor=actor, data=data, **refs)


def _normalize_domains(domains: Iterable[str]) -> list[str]:
    cleaned = []
    for domain in domains:
        value = domain.strip().lower().rstrip(".")
        if value and value not in cleaned:
            cleaned.append(value)
    return cleaned


def _validate_account_owner(owner: User | None) -> None:
    if owner is not None and not (owner.is_staff and owner.is_active):
        raise ValidationError({"account_owner": "The account owner must be active vendor staff."})


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
    _validate_account_owner(account_owner)
    organization = Organization(
        name=name.strip(), time_zone=time_zone, currency=currency, account_owner=account_owner
    )
    save_validated(organization)
    _set_domains(organization, _normalize_domains(domains))
    record_account_event(
        AccountEventType.ORGANIZATION_CREATED,
        actor=actor,
        organization=organization,
        data={"name": organization.name, "domains": sorted(_normalize_domains(domains))},
    )
    return organization


@transaction.atomic
def do_update_organization(
    organization: Organization, *, actor: User | None, **changes: Any
) -> Organization:
    if "account_owner" in changes:
        _validate_account_owner(changes["account_owner"])
    diff = apply_changes(organization, changes, allowed=ORGANIZATION_FIELDS)
    if diff:
        save_validated(organization)
        record_account_event(
            AccountEventType.ORGANIZATION_UPDATED, actor=actor, organization=organization, data=diff
        )
    return organization


def _set_domains(organization: Organization, domains: list[str]) -> None:
    errors: list[str] = []
    existing = {d.domain: d for d in organization.domains.all()}
    for domain in domains:
        if domain in existing:
            continue
        row = OrganizationDomain(organization=organization, domain=domain)
        try:
            row.full_clean()
        except ValidationError as exc:
            errors.extend(f"{domain}: {message}" for message in exc.messages)
            continue
        row.save()
    if errors:
        raise ValidationError({"domains": errors})
    for domain, row in existing.items():
        if domain not in domains:
            row.delete()


@transaction.atomic
def do_set_organization_domains(
    organization: Organization, domains: Iterable[str], *, actor: User | None
) -> Organization:
    before = sorted(organization.domains.values_list("domain", flat=True))
    after = _normalize_domains(domains)
    _set_domains(organization, after)
    if before != sorted(after):
        record_account_event(
            AccountEventType.ORGANIZATION_DOMAINS_CHANGED,
            actor=actor,
            organization=organization,
            data={"old": before, "new": sorted(after)},
        )
    return organization


@transaction.atomic
def do_set_organization_active(
    organization: Organization, active: bool, *, actor: User | None
) -> None:
    if organization.is_active == active:
        return
    organization.is_active = active
    organization.save(update_fields=["is_active"])
    record_account_event(
        AccountEventType.ORGANIZATION_REACTIVATED
        if active
        else AccountEventType.ORGANIZATION_DEACTIVATED,
        actor=actor,
        organization=organization,
    )


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
    contact = Contact(
        organization=organization,
        full_name=full_name.strip(),
        email=email.strip().lower(),
        phone=phone.strip(),
        role=role,
    )
    save_validated(contact)
    record_account_event(
        AccountEventType.CONTACT_CREATED,
        actor=actor,
        organization=organization,
        contact=contact,
        data={"email": contact.email, "role": contact.role},
    )
    if portal_password is not None:
        do_grant_portal_access(contact, password=portal_password, actor=actor)
    return contact


@transaction.atomic
def do_update_contact(contact: Contact, *, actor: User | None, **changes: Any) -> Contact:
    if "email" in changes:
        changes["email"] = changes["email"].strip().lower()
    diff = apply_changes(contact, changes, allowed=CONTACT_FIELDS)
    if diff:
        save_validated(contact)
        if contact.user_id and "email" in diff:
            user = User.objects.get(pk=contact.user_id)
            user.email = contact.email
            save_validated(user)
        record_account_event(
            AccountEventType.CONTACT_UPDATED,
            actor=actor,
            organization=contact.organization,
            contact=contact,
            data=diff,
        )
    return contact


@transaction.atomic
def do_grant_portal_access(contact: Contact, *, password: str | None, actor: User | None) -> User:
    """Give the contact a portal login (an unusable password until one is set)."""
    if contact.user_id:
        raise ValidationError("This contact already has a portal login.")
    if not contact.is_active:
        raise ValidationError("An inactive contact cannot get a portal login.")
    user = User(email=contact.email, full_name=contact.full_name, is_staff=False)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    save_validated(user)
    contact.user = user
    contact.save(update_fields=["user"])
    record_account_event(
        AccountEventType.CONTACT_PORTAL_ACCESS_GRANTED,
        actor=actor,
        organization=contact.organization,
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
        record_account_event(
            AccountEventType.CONTACT_REACTIVATED
            if active
            else AccountEventType.CONTACT_DEACTIVATED,
            actor=actor,
            organization=contact.organization,
            contact=contact,
        )
    return contact


@transaction.atomic
def do_create_staff_user(
    *,
    email: str,
    full_name: str,
    roles: Iterable[str],
    password: str | None = None,
    actor: User | None,
) -> User:
    user = User(email=email.strip().lower(), full_name=full_name.strip(), is_staff=True)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    save_validated(user)
    _set_roles(user, roles)
    record_account_event(
        AccountEventType.STAFF_CREATED, actor=actor, user=user, data={"roles": sorted(roles)}
    )
    return user


def _set_roles(user: User, roles: Iterable[str]) -> list[str]:
    wanted = sorted(set(roles))
    unknown = set(wanted) - set(Role.values)
    if unknown:
        raise ValidationError({"roles": f"Unknown role(s): {', '.join(sorted(unknown))}."})
    user.groups.set(Group.objects.filter(name__in=wanted))
    return wanted


@transaction.atomic
def do_set_staff_roles(user: User, roles: Iterable[str], *, actor: User | None) -> User:
    if not user.is_staff:
        raise ValidationError("Roles are for vendor staff; customer users have none.")
    before = sorted(user.groups.values_list("name", flat=True))
    after = _set_roles(user, roles)
    if before != after:
        record_account_event(
            AccountEventType.STAFF_ROLES_CHANGED,
            actor=actor,
            user=user,
            data={"old": before, "new": after},
        )
    return user


@transaction.atomic
def do_set_user_active(user: User, active: bool, *, actor: User | None) -> User:
    if actor is not None and actor.pk == user.pk and not active:
        raise ValidationError("You cannot deactivate yourself.")
    if user.is_active != active:
        user.is_active = active
        user.save(update_fields=["is_active"])
        record_account_event(
            AccountEventType.USER_REACTIVATED if active else AccountEventType.USER_DEACTIVATED,
            actor=actor,
            user=user,
        )
    return user


@transaction.atomic
def do_save_team(
    team: Team | None,
    *,
    name: str,
    description: str = "",
    members: Iterable[User] = (),
    actor: User | None,
) -> Team:
    created = team is None
    team = team or Team()
    team.name = name.strip()
    team.description = description
    save_validated(team)
    members = list(members)
    if any(not member.is_staff for member in members):
        raise ValidationError({"members": "Teams are made of vendor staff only."})
    team.members.set(members)
    record_account_event(
        AccountEventType.TEAM_CREATED if created else AccountEventType.TEAM_UPDATED,
        actor=actor,
        team=team,
        data={"name": team.name, "members": sorted(m.pk for m in members)},
    )
    return team


# --- Sign-in links ------------------------------------------------------------------------

MAGIC_LINK_LIFETIME = dt.timedelta(minutes=15)
MAGIC_LINK_RATE = 5  # requests per address ...
MAGIC_LINK_WINDOW = dt.timedelta(hours=1)  # ... per this window


class MagicLinkError(Exception):
    """A sign-in link that cannot be used; ``code`` is stable, ``detail`` is for people."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


class MagicLinkRateLimited(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Too many sign-in links requested; retry in {retry_after} s.")
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
        link, recipient = link_for(token), user.email
        transaction.on_commit(lambda: _mail_magic_link(recipient, link))


def _mail_magic_link(recipient: str, link: str) -> None:
    minutes = int(MAGIC_LINK_LIFETIME.total_seconds() // 60)
    send_mail(
        "Your Retainer sign-in link",
        f"Use this link to sign in to the support portal:\n\n{link}\n\n"
        f"It works once, within {minutes} minutes. If you did not ask for it, ignore this "
        "e-mail: nobody can sign in without the link.\n",
        None,
        [recipient],
    )


def magic_link_user(token: str) -> User:
    """The user a still-usable link would sign in, without using it (for the confirm page)."""
    return _usable_link(token, lock=False).user  # type: ignore[return-value]


@transaction.atomic
def do_use_magic_link(token: str) -> User:
    """Mark the link used and return its user; raises ``MagicLinkError`` when the link is
    unknown, used or expired. Locks the row, so a link signs in exactly once."""
    row = _usable_link(token, lock=True)
    used = MagicLinkToken.objects.filter(pk=row.pk, used_at__isnull=True).update(
        used_at=timezone.now()
    )
    if used != 1:
        raise MagicLinkError("link_used", "This sign-in link was already used.")
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
        raise MagicLinkError(
            "link_invalid", "This sign-in link is not valid. Request a new one below."
        )
    if row.used_at is not None:
        raise MagicLinkError(
            "link_used", "This sign-in link was already used. Request a new one below."
        )
    if row.expires_at <= timezone.now():
        raise MagicLinkError(
            "link_expired",
            "This sign-in link has expired: links work for 15 minutes. Request a new one below.",
        )
    return row
