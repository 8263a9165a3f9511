"""Demo people: the vendor's staff, the named customer cast, and scaled-out customers."""

from __future__ import annotations

import re
from typing import Any

from django.contrib.auth.hashers import make_password

from retainer.accounts import actions
from retainer.accounts.choices import ContactRole, Role
from retainer.accounts.models import Contact, Organization, OrganizationDomain, Team, User
from retainer.lib.demo import DEMO_PASSWORD, DemoContext, batched

VENDOR_DOMAIN = "northwind.example"

# The logins printed by the first README command and shown on the demo's login page.
DEMO_LOGINS = [
    ("Vendor admin", f"admin@{VENDOR_DOMAIN}"),
    ("Manager", f"manager@{VENDOR_DOMAIN}"),
    ("Agent", f"agent@{VENDOR_DOMAIN}"),
    ("Billing", f"billing@{VENDOR_DOMAIN}"),
    ("Customer admin (Acme)", "ada@acme.example"),
    ("Customer contact (Acme)", "bob@acme.example"),
    ("Customer contact (Initech, cases not shared)", "peter@initech.example"),
]

STAFF = [
    ("admin", "Avery Admin", [Role.ADMIN]),
    ("manager", "Morgan Manager", [Role.MANAGER]),
    ("agent", "Alex Agent", [Role.AGENT]),
    ("billing", "Blair Billing", [Role.BILLING]),
    ("sam", "Sam Support", [Role.AGENT]),
    ("kim", "Kim Kernel", [Role.AGENT]),
    ("lee", "Lee Lambda", [Role.AGENT]),
]

TIME_ZONES = [
    "Europe/Berlin", "Europe/London", "Europe/Paris", "America/New_York", "America/Chicago",
    "America/Los_Angeles", "Asia/Tokyo", "Australia/Sydney", "Asia/Singapore", "Europe/Madrid",
]  # fmt: skip
CURRENCIES = ["EUR", "EUR", "EUR", "USD", "USD", "GBP", "CHF"]


def demo_logins() -> list[dict[str, str]]:
    """The demo accounts that exist in this database, with the shared demo password."""
    existing = set(
        User.objects.filter(
            email__in=[email for _, email in DEMO_LOGINS], is_active=True
        ).values_list("email", flat=True)
    )
    return [
        {"role": role, "email": email, "password": DEMO_PASSWORD}
        for role, email in DEMO_LOGINS
        if email in existing
    ]


def build(ctx: DemoContext) -> None:
    staff = _staff()
    admin = staff[0]
    agents = [user for user in staff if user.groups.filter(name=Role.AGENT).exists()]
    ctx.objects.update(staff=staff, admin=admin, agents=agents, **_named_customers(staff))
    _bulk_customers(ctx, owners=staff[1:3] + agents)


def _staff() -> list[User]:
    """The vendor's people (the first is the admin, the second the manager) and their two
    teams, each with a lead."""
    staff = [
        actions.do_create_staff_user(
            email=f"{local}@{VENDOR_DOMAIN}",
            full_name=name,
            roles=roles,
            password=DEMO_PASSWORD,
            actor=None,
        )
        for local, name, roles in STAFF
    ]
    admin, manager = staff[0], staff[1]
    agents = [user for user in staff if user.groups.filter(name=Role.AGENT).exists()]
    # Each team has a lead, who gets its SLA warnings and breaches too: the manager leads
    # first line without being a member, an expert leads the escalations.
    actions.do_save_team(
        None,
        name="Tier 1",
        description="First response and triage",
        members=agents[:2],
        lead=manager,
        actor=admin,
    )
    actions.do_save_team(
        None,
        name="Escalations",
        description="Product experts",
        members=agents[1:],
        lead=agents[2],
        actor=admin,
    )
    return staff


def _named_customers(staff: list[User]) -> dict[str, Organization | Contact]:
    """Acme and Globex with the contacts the README's logins and the docs name."""
    admin = staff[0]
    acme = actions.do_create_organization(
        name="Acme Corporation",
        domains=["acme.example"],
        time_zone="Europe/Berlin",
        currency="EUR",
        account_owner=staff[1],
        actor=admin,
    )

    def contact(organization: Organization, full_name: str, email: str, **more: Any) -> Contact:
        return actions.do_create_contact(
            organization=organization, full_name=full_name, email=email, actor=admin, **more
        )

    ada = contact(
        acme,
        "Ada Lovelace",
        "ada@acme.example",
        phone="+49 30 1234 5670",
        role=ContactRole.ADMIN,
        portal_password=DEMO_PASSWORD,
    )
    bob = contact(
        acme,
        "Bob Builder",
        "bob@acme.example",
        phone="+49 30 1234 5671",
        portal_password=DEMO_PASSWORD,
    )
    carol = contact(acme, "Carol Unlisted", "carol@acme.example")
    former = contact(acme, "Dan Departed", "dan@acme.example")
    actions.do_set_contact_active(former, False, actor=admin)
    globex = actions.do_create_organization(
        name="Globex Industries",
        domains=["globex.example"],
        time_zone="America/Chicago",
        currency="USD",
        account_owner=staff[2],
        actor=admin,
    )
    hank = contact(
        globex,
        "Hank Scorpio",
        "hank@globex.example",
        role=ContactRole.ADMIN,
        portal_password=DEMO_PASSWORD,
    )
    return {
        "acme": acme,
        "globex": globex,
        "ada": ada,
        "bob": bob,
        "carol": carol,
        "hank": hank,
        **_initech(admin, owner=staff[1]),
    }


def _initech(admin: User, *, owner: User) -> dict[str, Organization | Contact]:
    """An organization that does not share cases among colleagues: Peter and Milton each
    see only their own cases, in the portal and through the API."""
    initech = actions.do_create_organization(
        name="Initech",
        domains=["initech.example"],
        time_zone="America/New_York",
        currency="USD",
        account_owner=owner,
        actor=admin,
    )
    actions.do_update_organization(initech, share_cases_with_colleagues=False, actor=admin)
    peter, milton = (
        actions.do_create_contact(
            organization=initech,
            full_name=name,
            email=email,
            portal_password=DEMO_PASSWORD,
            actor=admin,
        )
        for name, email in (
            ("Peter Gibbons", "peter@initech.example"),
            ("Milton Waddams", "milton@initech.example"),
        )
    )
    return {"initech": initech, "peter": peter, "milton": milton}


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40] or "customer"


def _bulk_customers(ctx: DemoContext, owners: list[User]) -> None:
    """With the named cast: 40 organizations and 200 contacts per unit of scale."""
    count = 40 * ctx.scale - 3  # Acme, Globex and Initech are named
    extra = (200 * ctx.scale - 7) - 5 * count  # organizations that get a sixth contact
    faker, rng = ctx.faker, ctx.rng
    password = make_password(DEMO_PASSWORD)  # one hash for all: hashing per user would take hours
    start = Organization.objects.count()
    organizations = [
        Organization(
            name=faker.company(),
            time_zone=rng.choice(TIME_ZONES),
            currency=rng.choice(CURRENCIES),
            account_owner=rng.choice(owners),
        )
        for _ in range(count)
    ]
    for organization_batch in batched(organizations, 2000):
        Organization.objects.bulk_create(organization_batch)
    # bulk_create returns ids on both databases we support.
    domains: list[OrganizationDomain] = []
    contacts: list[Contact] = []
    users: list[User] = []
    for index, organization in enumerate(organizations, start=start):
        domain = f"{_slug(organization.name)}-{index}.example"
        domains.append(OrganizationDomain(organization=organization, domain=domain))
        for n in range(6 if index - start < extra else 5):
            first, last = faker.first_name(), faker.last_name()
            email = f"{_slug(first)}.{_slug(last)}.{n}@{domain}"
            contact = Contact(
                organization=organization,
                full_name=f"{first} {last}",
                email=email,
                phone=faker.numerify("+1 ###-###-####") if n % 2 == 0 else "",
                role=ContactRole.ADMIN if n == 0 else ContactRole.MEMBER,
                is_active=rng.random() > 0.05,
            )
            contacts.append(contact)
            if n == 0:
                users.append(User(email=email, full_name=contact.full_name, password=password))
    for domain_batch in batched(domains, 5000):
        OrganizationDomain.objects.bulk_create(domain_batch)
    for user_batch in batched(users, 5000):
        User.objects.bulk_create(user_batch)
    by_email = {user.email: user for user in users}
    for contact in contacts:
        contact.user = by_email.get(contact.email)
    for contact_batch in batched(contacts, 5000):
        Contact.objects.bulk_create(contact_batch)
    ctx.objects["organizations"] = organizations
    ctx.log(
        f"  {count + 3} organizations, {len(contacts) + 7} contacts, {Team.objects.count()} teams"
    )
