"""The typed events of accounts: each type round-trips through its history row, every
action writes exactly one outbox message per row, and a rolled-back action writes none."""

from __future__ import annotations

import dataclasses

import pytest
from django.db import transaction

from retainer.accounts import actions, events
from retainer.accounts.choices import AccountEventType
from retainer.accounts.models import AccountEvent
from retainer.lib.events import Audience, Event, parse, record
from retainer.lib.models import OutboxMessage

SAMPLES: list[Event] = [
    events.OrganizationCreated(organization_name="Initech", domains=["initech.test"]),
    events.OrganizationUpdated(changes={"name": {"old": "A", "new": "B"}}),
    events.OrganizationDomainsChanged(old=["a.test"], new=["b.test"]),
    events.OrganizationDeactivated(),
    events.OrganizationReactivated(),
    events.ContactCreated(email="eve@a.test", role="member"),
    events.ContactUpdated(changes={"phone": {"old": "", "new": "+1 555 0100"}}),
    events.ContactDeactivated(),
    events.ContactReactivated(),
    events.ContactPortalAccessGranted(),
    events.StaffCreated(roles=["agent"]),
    events.StaffRolesChanged(old=["agent"], new=["agent", "billing"]),
    events.StaffUpdated(changes={"full_name": {"old": "A", "new": "B"}}),
    events.UserDeactivated(),
    events.UserReactivated(),
    events.TeamCreated(team_name="Tier 1", members=[1, 2]),
    events.TeamUpdated(team_name="Tier 1", members=[2]),
    events.SignInLocked(locked="account", address="192.0.2.10", failures=5),
    events.PreferencesChanged(changes={"shortcuts_enabled": {"old": True, "new": False}}),
    events.ApiTokenCreated(
        token_id=7,
        token_name="CRM",
        kind="service",
        scopes=["cases:read"],
        expires_at="2026-03-01T00:00:00+00:00",
    ),
    events.ApiTokenRevoked(token_id=7, token_name="CRM"),
]


def test_every_account_event_type_has_a_class():
    assert {type(event).type for event in SAMPLES} == set(AccountEventType.values)


@pytest.mark.parametrize("event", SAMPLES, ids=lambda event: type(event).name)
def test_each_event_reads_back_from_its_history_row(db, event):
    with transaction.atomic():
        row = record(AccountEvent, event, actor=None)
    row.refresh_from_db()
    assert parse(row) == event
    message = OutboxMessage.objects.get(source="accounts.accountevent", source_id=row.pk)
    assert message.topic == type(event).name


@pytest.mark.parametrize("event", SAMPLES, ids=lambda event: type(event).name)
def test_customers_see_only_the_allow_list(event):
    fields = {field.name for field in dataclasses.fields(event)}
    assert set(event.visible_to(Audience.CUSTOMER)) == set(type(event).customer_fields)
    assert set(event.visible_to(Audience.STAFF)) == fields


def test_staff_and_team_events_are_staff_only():
    staff_only = [
        e for e in SAMPLES if type(e).name.split(".")[0] in ("staff", "user", "team", "api_token")
    ]
    assert staff_only and all(not e.visible_to(Audience.CUSTOMER) for e in staff_only)


def test_the_cast_wrote_one_outbox_message_per_history_row(cast):
    assert (
        AccountEvent.objects.count()
        == OutboxMessage.objects.filter(source="accounts.accountevent").count()
    )


def test_an_update_of_fields_and_domains_writes_both_events_with_their_messages(cast):
    actions.do_update_organization(
        cast.acme, name="Acme Corp", domains=["acme.example"], actor=cast.manager
    )
    written = list(cast.acme.events.order_by("id"))[-2:]
    assert [parse(row) for row in written] == [
        events.OrganizationUpdated(changes={"name": {"old": "Acme", "new": "Acme Corp"}}),
        events.OrganizationDomainsChanged(old=["acme.test"], new=["acme.example"]),
    ]
    topics = OutboxMessage.objects.filter(
        source="accounts.accountevent", source_id__in=[row.pk for row in written]
    ).values_list("topic", flat=True)
    assert sorted(topics) == ["organization.domains_changed", "organization.updated"]


def test_a_rolled_back_action_leaves_neither_history_nor_outbox_row(cast):
    before = (AccountEvent.objects.count(), OutboxMessage.objects.count())
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        actions.do_set_contact_active(cast.contact, False, actor=cast.agent)
        _ = 1 / 0
    assert (AccountEvent.objects.count(), OutboxMessage.objects.count()) == before
