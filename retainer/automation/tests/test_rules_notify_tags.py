"""Rules: notify someone by e-mail (over a real SMTP conversation), set tags, the
contact and release conditions, and the Platinum severity-1 example firing once."""

# ruff: noqa: F811  (the fixtures `world` and `smtp` are imported from their modules)

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from django.db import connection, connections
from django.urls import reverse
from django.utils import timezone

from retainer.accounts import actions as account_actions
from retainer.accounts.choices import Role
from retainer.automation import engine
from retainer.automation.choices import RuleTrigger
from retainer.automation.models import Rule, RuleFiring
from retainer.automation.tests.test_rules import fresh, open_case, pump, rule, world  # noqa: F401
from retainer.catalog import actions as catalog_actions
from retainer.lib.models import OutboxMessage
from retainer.lib.outbox import Message
from retainer.mail import actions as mail_actions
from retainer.mail.choices import OutboundKind
from retainer.mail.models import OutboundMessage
from retainer.mail.tests.conftest import smtp  # noqa: F401


def send() -> None:
    pump()
    mail_actions.send_due_mail(now=timezone.now() + dt.timedelta(seconds=1))


def test_notify_an_agent_and_the_account_owner_by_e_mail(cast, world, smtp):
    rule(cast, RuleTrigger.CASE_OPENED, [{"type": "notify", "recipient": "agent", "agent": cast.agent.pk}], name="Tell the agent")  # fmt: skip
    rule(cast, RuleTrigger.CASE_OPENED, [{"type": "notify", "recipient": "account_owner"}], name="Tell the owner")  # fmt: skip
    case = open_case(cast, world, subject="Printer on fire")
    send()
    rows = OutboundMessage.objects.filter(kind=OutboundKind.RULE_NOTICE)
    assert sorted(rows.values_list("to", flat=True)) == ["agent@vendor.test", "manager@vendor.test"]
    mine = [m for m in smtp.parsed() if "Rule " in m["Subject"]]
    assert {m["Subject"] for m in mine} == {
        f'[{case.reference}] Rule "Tell the agent": Printer on fire',
        f'[{case.reference}] Rule "Tell the owner": Printer on fire',
    }
    text = mine[0].get_body(("plain",)).get_content()
    assert case.reference in text and reverse("console:case_page", args=[case.public_id]) in text
    assert cast.contact.email not in {r for m in smtp.messages for r in m["to"]}
    assert {f.actions[0] for f in RuleFiring.objects.all()} == {
        f"{cast.agent.full_name} notified",
        f"{cast.manager.full_name} notified",
    }


def test_no_account_owner_notifies_nobody_and_the_rest_stands(cast, world):
    cast.acme.account_owner = None
    cast.acme.save(update_fields=["account_owner"])
    rule(cast, RuleTrigger.CASE_OPENED, [{"type": "set_priority", "value": "high"}, {"type": "notify", "recipient": "account_owner"}])  # fmt: skip
    case = open_case(cast, world)
    pump()
    assert fresh(case).priority == "high"
    assert not OutboundMessage.objects.filter(kind=OutboundKind.RULE_NOTICE).exists()
    assert "nobody notified" in RuleFiring.objects.get().actions[1]


@pytest.mark.parametrize(
    ("action", "text"),
    [
        ({"type": "notify", "recipient": "customer"}, "recipient is one of"),
        ({"type": "notify", "recipient": "agent"}, "expected an id"),
        ({"type": "notify", "recipient": "agent", "agent": 999999}, "No such agent"),
        ({"type": "set_tags", "add": [], "remove": []}, "tags to add or to remove"),
        ({"type": "set_tags", "add": ["a"], "remove": ["a"]}, "not both"),
        ({"type": "set_tags", "add": ["x" * 61]}, "1 to 60"),
    ],
)
def test_bad_notify_and_tag_actions_are_refused(cast, action, text):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as caught:
        rule(cast, RuleTrigger.CASE_OPENED, [action])
    assert text in str(caught.value)


def test_a_customer_cannot_be_notified(cast, world):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="No such agent"):
        rule(cast, RuleTrigger.CASE_OPENED, [{"type": "notify", "recipient": "agent", "agent": cast.contact.user.pk}])  # fmt: skip


def test_set_tags_adds_and_removes_through_the_case_update(cast, world):
    rule(cast, RuleTrigger.CASE_OPENED, [{"type": "set_tags", "add": ["vip", "db"], "remove": ["triage"]}])  # fmt: skip
    case = open_case(cast, world)
    case.tags = ["triage", "db"]
    case.save(update_fields=["tags"])
    pump()
    assert fresh(case).tags == ["db", "vip"]
    assert RuleFiring.objects.get().actions == ["tag vip added, tag triage removed"]


def test_contact_and_release_conditions_read_the_case(cast, world):
    release = catalog_actions.do_save_release(
        None, actor=cast.admin, product=world["product"], version="4.2", order=1,
        ga_date=timezone.localdate(),
    )  # fmt: skip
    rule(cast, RuleTrigger.CASE_OPENED, [{"type": "set_priority", "value": "high"}],
         conditions={"contacts": [cast.contact.pk], "releases": [release.pk]})  # fmt: skip
    hit = open_case(cast, world, release=release)
    miss = open_case(cast, world)
    pump()
    assert fresh(hit).priority == "high" and fresh(miss).priority == "normal"


def test_the_form_saves_the_new_fields_and_shows_them_again(cast, world):
    client = cast.client_for(cast.admin)
    data = {
        "name": "Tag and tell", "trigger": "case_opened", "contacts": cast.contact.email.upper(),
        "add_tags": "vip, db", "remove_tags": "triage", "notify": "account_owner", "last": "50",
    }  # fmt: skip
    response = client.post(reverse("automation:rule_new"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    saved = Rule.objects.get()
    assert saved.conditions == {"contacts": [cast.contact.pk]}
    assert saved.actions == [
        {"type": "set_tags", "add": ["vip", "db"], "remove": ["triage"]},
        {"type": "notify", "recipient": "account_owner", "agent": None},
    ]
    page = client.get(reverse("automation:rule_edit", args=[saved.pk])).content.decode()
    assert 'value="vip, db"' in page and 'value="account_owner" selected' in page
    assert f'value="{cast.contact.email}"' in page  # the contact shown by their address
    bad = client.post(reverse("automation:rule_new"), {**data, "add_tags": "a", "remove_tags": "a"})
    assert bad.status_code == 400 and "not both" in bad.content.decode()


# --- The example ----------------------------------------------------------------------


@pytest.fixture
def on_call(cast) -> Any:
    second = account_actions.do_create_staff_user(
        email="bo@vendor.test", full_name="Bo Agent", roles=[Role.AGENT], actor=cast.admin
    )
    return account_actions.do_save_team(
        None, name="On call", members=[cast.agent, second], actor=cast.admin
    )


def platinum_rule(cast, team) -> Rule:
    return rule(
        cast, RuleTrigger.CASE_OPENED,
        [{"type": "assign_team", "team": team.pk, "strategy": "least_loaded"},
         {"type": "notify", "recipient": "account_owner"}],
        conditions={"severities": [1], "plan_tiers": ["platinum"]},
        name="Platinum sev 1",
    )  # fmt: skip


def test_platinum_severity_one_is_assigned_and_the_owner_told_once(cast, world, on_call):
    platinum_rule(cast, on_call)
    case = open_case(cast, world, severity=1)
    other = open_case(cast, world, severity=3)
    pump()
    row = OutboxMessage.objects.get(topic="case.opened", payload__refs__case=case.pk)
    engine.handle(Message(row.pk, row.topic, row.payload, row.occurred_at))  # handed over again
    assert fresh(case).queue == on_call and fresh(case).assignee is not None
    assert fresh(other).queue is None
    assert RuleFiring.objects.filter(case=case).count() == 1
    assert not RuleFiring.objects.filter(case=other).exists()
    notices = OutboundMessage.objects.filter(kind=OutboundKind.RULE_NOTICE)
    assert list(notices.values_list("to", "case")) == [("manager@vendor.test", case.pk)]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite runs one writer at a time")
@pytest.mark.django_db(transaction=True)
def test_two_cases_handled_in_two_threads_fire_once_each(cast, world, on_call):
    platinum_rule(cast, on_call)
    cases = [open_case(cast, world, severity=1) for _ in range(2)]
    rows = [OutboxMessage.objects.get(topic="case.opened", payload__refs__case=c.pk) for c in cases]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run(row: OutboxMessage) -> None:
        try:
            barrier.wait(timeout=10)
            from django.db import transaction

            for _ in range(2):  # each also handed over twice
                with transaction.atomic():
                    engine.handle(Message(row.pk, row.topic, row.payload, row.occurred_at))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(row,)) for row in rows]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    pump()
    for case in cases:
        assert RuleFiring.objects.filter(case=case).count() == 1
        assert fresh(case).queue == on_call
    notices = OutboundMessage.objects.filter(kind=OutboundKind.RULE_NOTICE)
    assert sorted(notices.values_list("case", flat=True)) == sorted(c.pk for c in cases)


def test_the_form_finds_organizations_by_name_and_says_which_entry_names_none(cast, world):
    client = cast.client_for(cast.admin)
    data = {"name": "Acme first", "trigger": "case_opened", "set_priority": "high", "last": "50"}
    good = client.post(
        reverse("automation:rule_new"), {**data, "organizations": f" acme , #{cast.globex.pk}"}
    )
    assert good.status_code == 302, good.content.decode()[:2000]
    assert Rule.objects.get().conditions == {"organizations": [cast.acme.pk, cast.globex.pk]}
    bad = client.post(reverse("automation:rule_new"), {**data, "organizations": "Acme, Nobody Ltd"})
    assert (
        bad.status_code == 400 and "No active organization is “Nobody Ltd”" in bad.content.decode()
    )
    assert Rule.objects.count() == 1
