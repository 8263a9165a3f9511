"""The project-level demo builder (``retainer/demo.py``, ``manage.py build_demo``)."""

from collections.abc import Iterator
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from huey.contrib.djhuey import HUEY

from retainer.accounts.models import Contact, Organization, User
from retainer.catalog.models import Product, Release, ScopePolicy, ServiceOffering
from retainer.contracts.models import TrainingRecord
from retainer.demo import DEMO_LOGINS
from retainer.success.models import Course, Enrollment


@pytest.fixture(autouse=True)
def _jobs_run_immediately() -> Iterator[None]:
    """Jobs the demo's actions enqueue run inline, as in the helpers' own tests."""
    previous = HUEY.immediate
    HUEY.immediate = True
    try:
        yield
    finally:
        HUEY.immediate = previous


@pytest.mark.django_db
def test_the_demo_builds_the_promised_data_set_once_and_prints_the_logins(client):
    out = StringIO()
    call_command("build_demo", stdout=out)
    assert Organization.objects.count() == 40
    assert Contact.objects.count() == 200
    assert Product.objects.count() == 3
    assert ScopePolicy.objects.count() == 3
    assert Release.objects.count() >= 15
    assert set(ServiceOffering.objects.values_list("kind", flat=True)) == {
        "backport", "customization", "porting", "installation", "migration", "training",
    }  # fmt: skip
    assert Course.objects.count() == 2
    assert set(Enrollment.objects.values_list("status", flat=True)) == {
        "completed", "no_show", "enrolled",
    }  # fmt: skip
    assert any(  # an expired certificate, and current ones
        not record.is_current(timezone.localdate()) for record in TrainingRecord.objects.all()
    )
    printed = out.getvalue()
    for email in (
        "admin@northwind.example",
        "agent@northwind.example",
        "ada@acme.example",
        "bob@acme.example",
    ):
        assert email in printed
    assert b"Demo logins" in client.get("/login/").content

    again = StringIO()
    call_command("build_demo", stdout=again)
    assert "already present" in again.getvalue()
    assert Organization.objects.count() == 40


@pytest.mark.django_db
def test_every_demo_login_signs_in(client):
    call_command("build_demo", "--quiet", stdout=StringIO())
    for _, email in DEMO_LOGINS:
        assert client.login(username=email, password="retainer-demo"), email
        client.logout()
    assert User.objects.filter(is_staff=True).count() >= 4


@pytest.mark.django_db
def test_scale_multiplies_the_customer_base():
    call_command("build_demo", "--scale", "3", "--quiet", stdout=StringIO())
    assert Organization.objects.count() == 120
    assert Contact.objects.count() == 600


def test_scale_must_be_positive():
    with pytest.raises(CommandError, match="at least 1"):
        call_command("build_demo", "--scale", "0")
