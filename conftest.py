"""Fixtures shared by every app's tests: fast hashing and the named cast.

The cast is built through real actions, as a user of the product would build it:
a vendor admin, a manager, an agent, a billing clerk, and two customer
organizations (Acme and Globex) with a customer admin, an authorized contact, an
unauthorized contact, and an outsider in the other organization.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.test import Client

from retainer.accounts import actions
from retainer.accounts.choices import ContactRole, Role
from retainer.accounts.models import Contact, Organization, User

PASSWORD = "cast-password-1"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: pytest.FixtureRequest) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # type: ignore[attr-defined]


@dataclass
class Cast:
    admin: User
    manager: User
    agent: User
    billing: User
    acme: Organization
    globex: Organization
    customer_admin: Contact
    contact: Contact
    unauthorized: Contact
    outsider: Contact

    def client_for(self, who: User | Contact | None) -> Client:
        client = Client()
        if who is not None:
            user = who.user if isinstance(who, Contact) else who
            assert user is not None
            client.force_login(user)
        return client


@pytest.fixture
def cast(db: None) -> Cast:
    admin = actions.do_create_staff_user(
        email="admin@vendor.test",
        full_name="Vera Admin",
        roles=[Role.ADMIN],
        password=PASSWORD,
        actor=None,
    )
    manager = actions.do_create_staff_user(
        email="manager@vendor.test",
        full_name="Max Manager",
        roles=[Role.MANAGER],
        password=PASSWORD,
        actor=admin,
    )
    agent = actions.do_create_staff_user(
        email="agent@vendor.test",
        full_name="Ann Agent",
        roles=[Role.AGENT],
        password=PASSWORD,
        actor=admin,
    )
    billing = actions.do_create_staff_user(
        email="billing@vendor.test",
        full_name="Bill Ing",
        roles=[Role.BILLING],
        password=PASSWORD,
        actor=admin,
    )
    acme = actions.do_create_organization(
        name="Acme",
        domains=["acme.test"],
        time_zone="Europe/Berlin",
        currency="EUR",
        account_owner=manager,
        actor=admin,
    )
    globex = actions.do_create_organization(
        name="Globex",
        domains=["globex.test"],
        time_zone="America/Chicago",
        currency="USD",
        actor=admin,
    )

    def contact(
        org: Organization, name: str, email: str, role: str = ContactRole.MEMBER
    ) -> Contact:
        return actions.do_create_contact(
            organization=org,
            full_name=name,
            email=email,
            role=role,
            portal_password=PASSWORD,
            actor=admin,
        )

    return Cast(
        admin=admin,
        manager=manager,
        agent=agent,
        billing=billing,
        acme=acme,
        globex=globex,
        customer_admin=contact(acme, "Ada Admin", "ada@acme.test", ContactRole.ADMIN),
        contact=contact(acme, "Carl Contact", "carl@acme.test"),
        unauthorized=contact(acme, "Uma Unlisted", "uma@acme.test"),
        outsider=contact(globex, "Otto Outsider", "otto@globex.test"),
    )
