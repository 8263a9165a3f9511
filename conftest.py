"""Fixtures shared by every app's tests: fast hashing and the named cast.

The cast is built through real actions, as a user of the product would build it:
a vendor admin, a manager, an agent, a billing clerk, and two customer
organizations (Acme and Globex) with a customer admin, an authorized contact, an
unauthorized contact, and an outsider in the other organization.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from retainer.accounts import actions
from retainer.accounts.choices import ContactRole, Role
from retainer.accounts.models import Contact, Organization, User

PASSWORD = "cast-password-1"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: pytest.FixtureRequest) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def _api_rate_limits_off(settings: pytest.FixtureRequest) -> None:
    """The API's rate limits are off unless a test turns them on (as the tests of
    ``accounts/ratelimit.py`` do): they count in the database, one statement per API
    request, which the pinned query counts and the API loops of other tests would meet."""
    settings.RETAINER_API_READS_PER_MINUTE = 0  # type: ignore[attr-defined]
    settings.RETAINER_API_WRITES_PER_MINUTE = 0  # type: ignore[attr-defined]


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


ROOT = Path(__file__).resolve().parent


def require_program(program: str, package: str, purpose: str) -> str:
    """The path of ``program``. Without it the test is skipped here, but fails under
    ``CI=true``: ``.ci/run`` installs ``package``, so a missing program there is a broken
    install, not a reason to test less. ``purpose`` ends "CI must … with it"."""
    path = shutil.which(program)
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{program} is not installed; CI must {purpose} with it.")
        pytest.skip(f"{program} is not installed (apt-get install {package})")
    return path


def postgres_server_url() -> str:
    """The URL of the PostgreSQL server the suite runs on (its ``postgres`` database), on
    which benchmarks create databases of their own."""
    database = settings.DATABASES["default"]
    user = quote(database.get("USER") or "")
    password = database.get("PASSWORD") or ""
    auth = f"{user}:{quote(password)}@" if password else (f"{user}@" if user else "")
    host = f"{database.get('HOST') or '127.0.0.1'}:{database.get('PORT') or 5432}"
    return f"postgres://{auth}{host}/postgres"


def run_bench(script: str, *args: str) -> dict[str, str]:
    """Run ``bench/<script>`` on the database vendor the suite runs on (a new database of
    its own, never the test database) and return the fields of its last line."""
    target = ["--db", "sqlite"]
    if connection.vendor == "postgresql":
        target = ["--db", "postgres", "--database-url", postgres_server_url()]
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), *target, *args],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
        check=False,
    )
    lines = result.stdout.strip().splitlines()
    assert lines and "=" in lines[-1], result.stdout + result.stderr
    assert result.returncode == 0, result.stdout + result.stderr
    return dict(part.split("=", 1) for part in lines[-1].split()[1:])


# --- Every history row is published -----------------------------------------------------------

#: The append-only history tables whose rows are typed events (``lib/events.py``).
HISTORY_MODELS = (
    "accounts.AccountEvent",
    "catalog.CatalogEvent",
    "contracts.ContractEvent",
    "cases.CaseEvent",
    "billing.BillingEvent",
    "success.SuccessEvent",
    "kb.KbEvent",
    "mail.MailEvent",
    "automation.AutomationEvent",
)


def _unpublished() -> dict[str, tuple[int, int]]:
    from django.apps import apps

    from retainer.lib.models import OutboxMessage

    mismatches = {}
    for label in HISTORY_MODELS:
        model = apps.get_model(label)
        rows = model._default_manager.count()
        messages = OutboxMessage.objects.filter(source=model._meta.label_lower).count()
        if rows != messages:
            mismatches[label] = (rows, messages)
    return mismatches


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> object:
    """After every test that used the database: each history row has its outbox message.

    A path that writes history another way than ``lib.events.record`` (a stray
    ``bulk_create``, a hand-made row) fails whichever test reaches it.
    """
    result = yield
    if item.get_closest_marker("django_db") is not None or {
        "db",
        "transactional_db",
    } & set(getattr(item, "fixturenames", ())):
        try:
            mismatches = _unpublished()
        except Exception:  # the test broke the database on purpose (a failure drill)
            return result
        assert not mismatches, (
            f"history rows without their outbox message (rows, messages): {mismatches}"
        )
    return result
