"""Every change to people, organizations and teams. Each action is atomic and records an event."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction

from retainer.accounts.choices import AccountEventType, ContactRole, Role
from retainer.accounts.models import (
    AccountEvent,
    Contact,
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
