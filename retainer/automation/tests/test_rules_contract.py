"""Rules with the *Contract expiring* trigger: they fire on the contract (no case), once
per announcement, e-mail the contract organization's account owner or call a webhook,
refuse case conditions and case actions, and show the contract in the console."""

# ruff: noqa: F811  (the fixtures `world` and `receiver` are imported from their modules)

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from retainer.automation import engine, selectors
from retainer.automation.choices import FiringStatus, RuleTrigger
from retainer.automation.models import Rule, RuleFiring, WebhookDelivery
from retainer.automation.tests.conftest import make_endpoint, receiver  # noqa: F401
from retainer.automation.tests.test_rules import open_case, pump, rule, world  # noqa: F401
from retainer.contracts import actions as contract_actions
from retainer.contracts.choices import Preset
from retainer.contracts.models import Contract
from retainer.lib.models import OutboxMessage
from retainer.lib.outbox import Message
from retainer.mail.choices import OutboundKind
from retainer.mail.models import OutboundMessage

OWNER = [{"type": "notify", "recipient": "account_owner"}]


def ending(cast, world, *, days: int = 20, organization=None) -> Contract:
    """A Platinum contract covering the world's product, ending in ``days`` days."""
    end = timezone.localdate() + dt.timedelta(days=days)
    organization = organization or cast.acme
    return contract_actions.do_create_contract(
        organization=organization,
        preset=Preset.BANK,
        plan=world["contract"].plan,
        terms={"currency": organization.currency},
        start_date=end - dt.timedelta(days=300),
        end_date=end,
        covered_products=[world["product"]],
        actor=cast.admin,
    )


def announce() -> list[int]:
    announced = contract_actions.do_announce_expiring_contracts(today=timezone.localdate())
    pump()
    return announced


def test_the_rule_fires_once_on_the_contract_and_e_mails_the_account_owner(cast, world):
    r = rule(cast, RuleTrigger.CONTRACT_EXPIRING, OWNER, name="Renewal talk")
    contract = ending(cast, world)
    assert announce() == [contract.pk]
    firing = RuleFiring.objects.get()
    assert (firing.rule, firing.contract_id, firing.case_id) == (r, contract.pk, None)
    assert firing.status == FiringStatus.APPLIED and firing.event_type == "contract.expiring"
    assert firing.actions == [f"{cast.manager.full_name} notified"]
    notice = OutboundMessage.objects.get(kind=OutboundKind.RULE_NOTICE)
    assert notice.to == cast.manager.email == "manager@vendor.test"
    assert contract.name in notice.subject and cast.acme.name in notice.subject
    assert f"{contract.end_date:%Y-%m-%d}" in notice.subject
    assert reverse("contracts:contract_detail", args=[contract.pk]) in notice.text
    assert f"{contract.end_date:%Y-%m-%d}" in notice.text and cast.acme.name in notice.html

    # The same message handed over again, and the job running again: nothing more.
    row = OutboxMessage.objects.get(topic="contract.expiring")
    with transaction.atomic():
        engine.handle(Message(row.pk, row.topic, row.payload, row.occurred_at))
    assert announce() == []
    assert RuleFiring.objects.count() == 1
    assert OutboundMessage.objects.filter(kind=OutboundKind.RULE_NOTICE).count() == 1
    fired = OutboxMessage.objects.get(topic="rule.fired")
    assert (fired.payload["case"], fired.payload["contract"]) == (None, contract.pk)


def test_conditions_read_the_contract(cast, world):
    rule(cast, RuleTrigger.CONTRACT_EXPIRING, OWNER, {"plan_tiers": ["platinum"]}, name="Tier")
    rule(cast, RuleTrigger.CONTRACT_EXPIRING, OWNER, {"products": [world["other"].pk]}, name="P")
    rule(cast, RuleTrigger.CONTRACT_EXPIRING, OWNER,
         {"organizations": [cast.globex.pk]}, name="Globex")  # fmt: skip
    rule(cast, RuleTrigger.CONTRACT_EXPIRING, OWNER,
         {"organizations": [cast.acme.pk], "products": [world["product"].pk]}, name="Acme")  # fmt: skip
    ending(cast, world)
    announce()
    assert sorted(RuleFiring.objects.values_list("rule__name", flat=True)) == ["Acme", "Tier"]


def test_notify_an_agent_and_call_a_webhook(cast, world, receiver):
    endpoint = make_endpoint(cast, receiver.url)
    rule(cast, RuleTrigger.CONTRACT_EXPIRING, [
        {"type": "notify", "recipient": "agent", "agent": cast.agent.pk},
        {"type": "call_webhook", "endpoint": endpoint.pk},
    ])  # fmt: skip
    contract = ending(cast, world)
    announce()
    assert list(OutboundMessage.objects.values_list("to", flat=True)) == [cast.agent.email]
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert delivery.event_type == "rule.fired"
    assert delivery.payload["data"]["contract"] == contract.pk


def test_case_rules_do_not_fire_on_an_expiring_contract(cast, world):
    rule(cast, RuleTrigger.CASE_OPENED, [{"type": "set_priority", "value": "high"}])
    rule(cast, RuleTrigger.BALANCE_LOW, [{"type": "set_priority", "value": "high"}])
    ending(cast, world)
    announce()
    assert not RuleFiring.objects.exists()


@pytest.mark.parametrize(
    ("conditions", "actions_", "field", "text"),
    [
        ({"severities": [1]}, OWNER, "conditions", "cannot check severities"),
        ({"text": "outage", "tags": ["vip"]}, OWNER, "conditions", "cannot check tags, text"),
        ({"contacts": [1]}, OWNER, "conditions", "may check organizations, plan_tiers, products"),
        ({}, [{"type": "set_priority", "value": "high"}], "actions", "cannot set_priority"),
        ({}, [*OWNER, {"type": "add_note", "text": "x"}], "actions", "cannot add_note"),
        ({}, [{"type": "send_reply", "text": "x"}], "actions", "may notify or call_webhook"),
    ],
)
def test_a_case_condition_or_action_is_refused_naming_it(cast, conditions, actions_, field, text):
    with pytest.raises(ValidationError) as caught:
        rule(cast, RuleTrigger.CONTRACT_EXPIRING, actions_, conditions)
    assert field in caught.value.message_dict
    assert text in " ".join(caught.value.message_dict[field])
    assert "has no case" in " ".join(caught.value.message_dict[field])


def form_data(**overrides: Any) -> dict[str, Any]:
    return {"name": "Expiring", "trigger": "contract_expiring", "notify": "account_owner",
            "strategy": "round_robin", "last": "50", **overrides}  # fmt: skip


def test_the_form_offers_the_trigger_and_refuses_a_case_action(cast, world):
    client = cast.client_for(cast.admin)
    page = client.get(reverse("automation:rule_new"))
    assert 'value="contract_expiring"' in page.content.decode()
    refused = client.post(reverse("automation:rule_new"), form_data(set_priority="high"))
    assert refused.status_code == 400
    assert "has no case: it cannot set_priority" in refused.content.decode()
    refused = client.post(reverse("automation:rule_new"), form_data(severities=["1"]))
    assert refused.status_code == 400 and "cannot check severities" in refused.content.decode()
    assert not Rule.objects.exists()
    saved = client.post(reverse("automation:rule_new"), form_data())
    assert saved.status_code == 302
    saved_rule = Rule.objects.get()
    assert saved_rule.trigger == "contract_expiring"
    assert [(a["type"], a["recipient"]) for a in saved_rule.actions] == [
        ("notify", "account_owner")
    ]


def test_the_rule_page_shows_the_contract_firing_the_sentence_and_the_dry_run(cast, world):
    r = rule(cast, RuleTrigger.CONTRACT_EXPIRING, OWNER, {"products": [world["product"].pk]})
    contract = ending(cast, world, days=10)
    open_case(cast, world)
    client = cast.client_for(cast.admin)
    dry = client.get(reverse("automation:rule_detail", args=[r.pk]), {"last": 50})
    text = dry.content.decode()
    assert dry.status_code == 200
    assert "1 of the 1 active contract ending within 30 days" in text and contract.name in text
    assert "the contract covers Ledger" in text
    assert "E-mail the contract organization&#x27;s account owner" in text
    assert not RuleFiring.objects.exists()
    announce()
    page = client.get(reverse("automation:rule_detail", args=[r.pk])).content.decode()
    assert reverse("contracts:contract_detail", args=[contract.pk]) in page
    log = client.get(reverse("automation:firing_list")).content.decode()
    assert f"Contract {contract.name}" in log
    # From the form, before saving: the same dry run over contracts.
    tried = client.post(reverse("automation:rule_new"), form_data(dry_run="1"))
    assert tried.status_code == 200 and "looks at contracts, not cases" in tried.content.decode()
    tried = client.post(reverse("automation:rule_new"), form_data(dry_run="1", statuses=["open"]))
    assert tried.status_code == 400 and "cannot check statuses" in tried.content.decode()


def test_the_sentence_of_a_contract_rule(cast, world):
    r = rule(cast, RuleTrigger.CONTRACT_EXPIRING, OWNER, {"organizations": [cast.acme.pk]})
    assert selectors.describe_rule(r) == (
        [f"organization is {cast.acme.name}"],
        ["E-mail the contract organization's account owner"],
    )


def test_firings_on_a_contract_stay_append_only(cast, world):
    rule(cast, RuleTrigger.CONTRACT_EXPIRING, OWNER)
    ending(cast, world)
    announce()
    from django.db import DatabaseError

    with pytest.raises(DatabaseError), transaction.atomic():
        RuleFiring.objects.update(error="rewritten")
