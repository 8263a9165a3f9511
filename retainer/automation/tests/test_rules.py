"""Rules on events: triggers, conditions, actions, order, the loop guard, once-only
firing, the dry run, form validation and the console pages."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from retainer.accounts import actions as account_actions
from retainer.accounts.choices import Role
from retainer.automation import actions, checks, engine, rules, selectors
from retainer.automation.choices import FiringStatus, RuleTrigger
from retainer.automation.models import Rule, RuleEffect, RuleFiring, WebhookDelivery
from retainer.automation.tests.conftest import make_endpoint
from retainer.cases import actions as case_actions
from retainer.cases.models import Case, CaseMessage
from retainer.catalog import actions as catalog_actions
from retainer.contracts import actions as contract_actions
from retainer.contracts.choices import Preset
from retainer.contracts.models import LedgerEntry
from retainer.contracts.terms import preset_terms
from retainer.lib import outbox
from retainer.lib.models import OutboxMessage
from retainer.lib.outbox import Message
from retainer.lib.tests.hostile import PAYLOADS, active_content

# --- Set-up -----------------------------------------------------------------------------------


@pytest.fixture
def world(cast) -> dict[str, Any]:
    """A product covered by a Platinum bank contract for Acme, and a second product."""
    product = catalog_actions.do_save_product(
        None, actor=cast.admin, name="Ledger", code="ledger", list_price=Decimal(100),
        currency="EUR",
    )  # fmt: skip
    other = catalog_actions.do_save_product(
        None, actor=cast.admin, name="Vault", code="vault", list_price=Decimal(100),
        currency="EUR",
    )  # fmt: skip
    for p in (product, other):
        catalog_actions.do_save_scope_policy(None, actor=cast.admin, product=p)
    plan = contract_actions.do_create_plan(
        code="platinum", name="Platinum",
        terms=preset_terms(Preset.BANK, tier="platinum"), actor=None,
    )  # fmt: skip
    contract = contract_actions.do_create_contract(
        organization=cast.acme,
        preset=Preset.BANK,
        plan=plan,
        start_date=timezone.localdate() - dt.timedelta(days=10),
        covered_products=[product, other],
        actor=cast.admin,
    )
    pump()
    return {"product": product, "other": other, "contract": contract}


def open_case(cast, world, *, severity: int = 3, subject: str = "Help", **kw: Any) -> Case:
    plan = case_actions.plan_intake(
        contact=cast.contact, product=kw.pop("product", world["product"]), subject=subject,
        description=kw.pop("description", "Please"), channel=kw.pop("channel", "web"),
        severity=severity, actor=cast.contact.user, **kw,
    )  # fmt: skip
    return case_actions.do_open_case(plan=plan, actor=cast.contact.user)


def rule(cast, trigger: str, actions_: list[dict], conditions: dict | None = None, **kw) -> Rule:
    values = checks.check_rule_definition(
        {"name": kw.pop("name", f"Rule {trigger}"), "trigger": trigger,
         "conditions": conditions or {}, "actions": actions_, **kw}
    )  # fmt: skip
    return actions.do_save_rule(None, values=values, actor=cast.admin)


def pump() -> None:
    """Dispatch the outbox until nothing is left (rules' own events included)."""
    for _ in range(10):
        if not outbox.dispatch():
            return


def fresh(case: Case) -> Case:
    return Case.objects.get(pk=case.pk)


def note_texts(case: Case) -> list[str]:
    return list(
        CaseMessage.objects.filter(case=case, is_internal=True).values_list("body", flat=True)
    )


PRIORITY_HIGH = [{"type": "set_priority", "value": "high"}]


# --- Triggers ---------------------------------------------------------------------------------


def test_case_opened_fires_once_and_is_on_the_timeline_and_in_the_log(cast, world):
    r = rule(cast, RuleTrigger.CASE_OPENED, PRIORITY_HIGH)
    case = open_case(cast, world)
    pump()
    assert fresh(case).priority == "high"
    firing = RuleFiring.objects.get()
    assert (firing.rule, firing.case_id, firing.status) == (r, case.pk, FiringStatus.APPLIED)
    assert firing.actions == ["priority set to high"]
    assert any("Rule “Rule case_opened”" in text for text in note_texts(case))
    page = cast.client_for(cast.agent).get(reverse("console:case_page", args=[case.public_id]))
    assert "Rule “Rule case_opened”" in page.content.decode()


def test_customer_and_agent_replies_are_different_triggers(cast, world):
    rule(cast, RuleTrigger.CUSTOMER_REPLIED, [{"type": "set_priority", "value": "urgent"}])
    rule(cast, RuleTrigger.AGENT_REPLIED, [{"type": "add_note", "text": "Agent answered."}])
    case = open_case(cast, world)
    pump()
    case_actions.do_add_message(case, author=cast.agent, body="Looking")
    pump()
    assert "Agent answered." in note_texts(case) and fresh(case).priority == "normal"
    case_actions.do_add_message(case, author=cast.contact.user, body="Still broken")
    pump()
    assert fresh(case).priority == "urgent"


def test_status_changed_fires_on_a_transition(cast, world):
    rule(cast, RuleTrigger.STATUS_CHANGED, PRIORITY_HIGH, {"statuses": ["waiting_on_vendor"]})
    case = open_case(cast, world)
    case_actions.do_transition_case(case, "open", actor=cast.agent)
    pump()
    assert fresh(case).priority == "normal"  # open: the condition does not hold
    case_actions.do_transition_case(case, "waiting_on_vendor", actor=cast.agent)
    pump()
    assert fresh(case).priority == "high"


@pytest.mark.parametrize(
    ("topic", "trigger"),
    [
        ("case.sla_warning", RuleTrigger.SLA_WARNING),
        ("case.sla_breached", RuleTrigger.SLA_BREACHED),
        ("case.csat_answered", RuleTrigger.CSAT_ANSWERED),
    ],
)
def test_sla_and_survey_events_fire_their_rules(cast, world, topic, trigger):
    rule(cast, trigger, PRIORITY_HIGH)
    case = open_case(cast, world)
    pump()
    engine.handle(Message(10**9, topic, {"clock": "resolution", "refs": {"case": case.pk}},
                          timezone.now()))  # fmt: skip
    assert fresh(case).priority == "high"
    assert RuleFiring.objects.get().event_type == topic


def balance_message(case: Case, *, balance: int, topic: str = "contract.balance_low") -> Message:
    """A balance event of the case's latest ledger entry (each topic and balance its own
    outbox id)."""
    entry = LedgerEntry.objects.filter(case=case).latest("id")
    payload = {"balance": balance, "threshold": 2, "entry": entry.pk,
               "refs": {"contract": entry.contract_id}}  # fmt: skip
    return Message(10**9 + 100 * len(topic) + balance + 5, topic, payload, timezone.now())


def test_balance_low_and_exhausted_fire_on_the_case_that_drew_the_balance(cast, world):
    rule(cast, RuleTrigger.BALANCE_LOW, PRIORITY_HIGH, name="Low")
    rule(cast, RuleTrigger.BALANCE_EXHAUSTED, [{"type": "add_note", "text": "Exhausted."}],
         name="Exhausted")  # fmt: skip
    case = open_case(cast, world)
    pump()
    engine.handle(balance_message(case, balance=1))
    assert fresh(case).priority == "high" and "Exhausted." not in note_texts(case)
    # A draw-down from 1 to -1 writes a low, an exhausted and a negative event: the
    # exhausted rule fires once, on the exhausted one.
    engine.handle(balance_message(case, balance=-1))
    engine.handle(balance_message(case, balance=-1, topic="contract.balance_exhausted"))
    engine.handle(balance_message(case, balance=-1, topic="contract.balance_negative"))
    assert note_texts(case).count("Exhausted.") == 1
    assert RuleFiring.objects.filter(rule__name="Exhausted").count() == 1


def test_the_time_trigger_fires_once_per_stint_after_n_business_hours(cast, world):
    monday = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)
    with time_machine.travel(monday, tick=False):
        r = rule(cast, RuleTrigger.IN_STATUS_FOR, PRIORITY_HIGH,
                 trigger_status="waiting_on_vendor", trigger_hours=4)  # fmt: skip
        case = open_case(cast, world)
        case_actions.do_transition_case(case, "open", actor=cast.agent)
        case_actions.do_transition_case(case, "waiting_on_vendor", actor=cast.agent)
        pump()
    assert engine.run_time_rules(now=monday + dt.timedelta(hours=3)) == 0
    assert engine.run_time_rules(now=monday + dt.timedelta(hours=5)) == 1
    assert engine.run_time_rules(now=monday + dt.timedelta(hours=6)) == 0  # same stint
    assert fresh(case).priority == "high"
    assert RuleFiring.objects.get(rule=r).key.startswith(f"stint:{case.pk}:")
    # Saturday: not business time (Monday to Friday, 09:00 to 17:00).
    with time_machine.travel(monday + dt.timedelta(days=4, hours=7), tick=False):  # Fri 16:00
        case_actions.do_transition_case(case, "open", actor=cast.agent)
        case_actions.do_transition_case(case, "waiting_on_vendor", actor=cast.agent)
        pump()
    saturday = monday + dt.timedelta(days=5, hours=8)
    assert engine.run_time_rules(now=saturday) == 0  # one business hour so far
    next_tuesday = monday + dt.timedelta(days=8, hours=1)
    assert engine.run_time_rules(now=next_tuesday) == 1  # a new stint fires again


# --- Conditions -------------------------------------------------------------------------------

FACTS = rules.CaseFacts(
    organization=1, plan_tier="platinum", product=2, contact=7, release=9, channel="web",
    severity=1,
    priority="normal", status="new", tags=("vip", "db"), text="Database down\nAll of it",
)  # fmt: skip


@pytest.mark.parametrize(
    ("conditions", "expected"),
    [
        ({}, True),
        ({"organizations": [1]}, True),
        ({"organizations": [3]}, False),
        ({"plan_tiers": ["platinum", "gold"]}, True),
        ({"plan_tiers": ["basic"]}, False),
        ({"products": [2]}, True),
        ({"products": [5]}, False),
        ({"contacts": [7, 8]}, True),
        ({"contacts": [8]}, False),
        ({"releases": [9]}, True),
        ({"releases": [10]}, False),
        ({"channels": ["email"]}, False),
        ({"channels": ["web"]}, True),
        ({"severities": [1]}, True),
        ({"severities": [2, 3]}, False),
        ({"priorities": ["normal"]}, True),
        ({"priorities": ["urgent"]}, False),
        ({"statuses": ["new", "open"]}, True),
        ({"statuses": ["closed"]}, False),
        ({"tags": ["vip"]}, True),
        ({"tags": ["other"]}, False),
        ({"text": "DATABASE"}, True),
        ({"text": "all of"}, True),
        ({"text": "network"}, False),
        ({"severities": [1], "plan_tiers": ["platinum"], "text": "down"}, True),
        ({"severities": [1], "plan_tiers": ["gold"]}, False),
    ],
)
def test_every_condition_must_hold(conditions, expected):
    assert rules.matches(rules.parse_conditions(conditions), FACTS) is expected


def test_conditions_read_the_real_case(cast, world):
    rule(
        cast,
        RuleTrigger.CASE_OPENED,
        PRIORITY_HIGH,
        {"organizations": [cast.acme.pk], "plan_tiers": ["platinum"],
         "products": [world["product"].pk], "channels": ["web"], "severities": [1],
         "priorities": ["normal"], "statuses": ["new"], "text": "outage"},
    )  # fmt: skip
    miss = open_case(cast, world, severity=1, subject="Question", product=world["other"])
    hit = open_case(cast, world, severity=1, subject="Total OUTAGE")
    pump()
    assert fresh(hit).priority == "high" and fresh(miss).priority == "normal"


def test_a_tag_condition_reads_the_cases_tags(cast, world):
    rule(cast, RuleTrigger.STATUS_CHANGED, PRIORITY_HIGH, {"tags": ["vip"]})
    case = open_case(cast, world)
    case_actions.do_update_case(case, actor=cast.agent, tags=["vip"])
    case_actions.do_transition_case(case, "open", actor=cast.agent)
    pump()
    assert fresh(case).priority == "high"


# --- Actions ----------------------------------------------------------------------------------


@pytest.fixture
def team(cast) -> Any:
    second = account_actions.do_create_staff_user(
        email="bo@vendor.test", full_name="Bo Agent", roles=[Role.AGENT], actor=cast.admin
    )
    return account_actions.do_save_team(
        None, name="On call", members=[cast.agent, second], actor=cast.admin
    )


def test_assign_to_an_agent(cast, world):
    rule(cast, RuleTrigger.CASE_OPENED, [{"type": "assign_agent", "agent": cast.agent.pk}])
    case = open_case(cast, world)
    pump()
    assert fresh(case).assignee == cast.agent


def test_assign_to_a_team_round_robin_takes_turns(cast, world, team):
    rule(cast, RuleTrigger.CASE_OPENED, [{"type": "assign_team", "team": team.pk}])
    cases = [open_case(cast, world) for _ in range(3)]
    pump()
    assignees = [fresh(c).assignee_id for c in cases]
    members = sorted(team.members.values_list("pk", flat=True))
    assert assignees == [members[0], members[1], members[0]]
    assert all(fresh(c).queue == team for c in cases)


def test_assign_to_a_team_least_loaded_picks_the_agent_with_fewest_open_cases(cast, world, team):
    busy = open_case(cast, world)
    case_actions.do_update_case(busy, actor=cast.admin, assignee=cast.agent)
    pump()
    rule(cast, RuleTrigger.CASE_OPENED,
         [{"type": "assign_team", "team": team.pk, "strategy": "least_loaded"}])  # fmt: skip
    case = open_case(cast, world)
    pump()
    assignee = fresh(case).assignee
    assert assignee is not None and assignee.full_name == "Bo Agent"


def test_set_priority_severity_and_status(cast, world):
    rule(cast, RuleTrigger.CASE_OPENED, [
        {"type": "set_priority", "value": "urgent"},
        {"type": "set_severity", "value": "1"},
        {"type": "set_status", "value": "open"},
    ])  # fmt: skip
    case = open_case(cast, world)
    pump()
    case = fresh(case)
    assert (case.priority, case.severity, case.status) == ("urgent", 1, "open")


def test_a_templated_reply_and_an_internal_note(cast, world):
    rule(cast, RuleTrigger.CASE_OPENED, [
        {"type": "add_note", "text": "Check the logs."},
        {"type": "send_reply", "text": "Hello {{ contact.name }}, we have {{ case.reference }}."},
    ])  # fmt: skip
    case = open_case(cast, world)
    pump()
    reply = CaseMessage.objects.get(case=case, is_internal=False, by_customer=False)
    assert reply.body == f"Hello {cast.contact.full_name}, we have {case.reference}."
    assert "Check the logs." in note_texts(case)


def test_call_a_webhook_queues_a_signed_delivery(cast, world, receiver):
    endpoint = make_endpoint(cast, receiver.url)
    rule(cast, RuleTrigger.CASE_OPENED, [{"type": "call_webhook", "endpoint": endpoint.pk}])
    open_case(cast, world)
    pump()
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert delivery.event_type == "rule.fired"
    assert delivery.payload["data"]["status"] == "applied"
    from retainer.automation import webhooks

    assert webhooks.send(delivery.pk) == "delivered"
    assert receiver.accepted()[0].headers["Retainer-Event-Type"] == "rule.fired"


def test_a_refused_action_undoes_the_rule_and_is_recorded_as_failed(cast, world):
    rule(cast, RuleTrigger.CASE_OPENED, [
        {"type": "set_priority", "value": "urgent"},
        {"type": "set_status", "value": "closed"},  # new → closed: the workflow refuses
    ], name="Bad")  # fmt: skip
    rule(cast, RuleTrigger.CASE_OPENED, [{"type": "set_severity", "value": "2"}], name="Good")
    case = open_case(cast, world)
    pump()
    case = fresh(case)
    assert case.priority == "normal" and case.severity == 2
    failed = RuleFiring.objects.get(rule__name="Bad")
    assert failed.status == FiringStatus.FAILED and failed.error
    assert any("did not apply" in text for text in note_texts(case))


# --- Order, loops, once only ------------------------------------------------------------------


def test_rules_run_in_their_order_and_can_be_reordered(cast, world):
    first = rule(cast, RuleTrigger.CASE_OPENED, [{"type": "set_priority", "value": "low"}])
    rule(cast, RuleTrigger.CASE_OPENED, [{"type": "set_priority", "value": "urgent"}])
    case = open_case(cast, world)
    pump()
    assert fresh(case).priority == "urgent"  # the later rule had the last word
    actions.do_move_rule(first, up=False, actor=cast.admin)
    case = open_case(cast, world)
    pump()
    assert fresh(case).priority == "low"
    assert list(Rule.objects.values_list("position", flat=True)) == [1, 2]


def test_a_rule_does_not_trigger_itself_and_the_stop_is_visible(cast, world):
    loop = rule(cast, RuleTrigger.STATUS_CHANGED, [{"type": "set_status", "value": "waiting_on_vendor"}],
                {"statuses": ["open"]})  # fmt: skip
    back = rule(cast, RuleTrigger.STATUS_CHANGED, [{"type": "set_status", "value": "open"}],
                {"statuses": ["waiting_on_vendor"]})  # fmt: skip
    case = open_case(cast, world)
    case_actions.do_transition_case(case, "open", actor=cast.agent)
    pump()
    firings = list(RuleFiring.objects.order_by("id"))
    # Each rule's change triggers the other, never itself; every way round ends in a stop.
    assert all(f.rule_id not in f.chain for f in firings if f.status == FiringStatus.APPLIED)
    stopped = [f for f in firings if f.status == FiringStatus.STOPPED]
    assert stopped and all("trigger it again" in f.error for f in stopped)
    assert {f.rule_id for f in stopped} == {loop.pk, back.pk}
    assert len(firings) <= 2 * rules.MAX_DEPTH
    assert any("did not apply" in text for text in note_texts(case))
    pump()
    assert RuleFiring.objects.count() == len(firings)  # nothing left to fire: the loop ended


def test_a_chain_of_different_rules_stops_at_the_depth_limit(cast, world):
    """Each rule reacts to the previous rule's change: a reply, a status, a status, then
    the fourth link is refused (``MAX_DEPTH`` is 3)."""
    status_changed, replied = RuleTrigger.STATUS_CHANGED, RuleTrigger.AGENT_REPLIED
    last = rule(cast, status_changed, PRIORITY_HIGH, {"statuses": ["waiting_on_customer"]})
    first = rule(cast, status_changed, [{"type": "send_reply", "text": "On it."}],
                 {"statuses": ["open"]})  # fmt: skip
    second = rule(cast, replied, [{"type": "set_status", "value": "waiting_on_vendor"}])
    third = rule(cast, status_changed, [{"type": "set_status", "value": "waiting_on_customer"}],
                 {"statuses": ["waiting_on_vendor"]})  # fmt: skip
    case = open_case(cast, world)
    case_actions.do_transition_case(case, "open", actor=cast.agent)
    pump()
    firings = {f.rule_id: f for f in RuleFiring.objects.all()}
    assert [firings[r.pk].depth for r in (first, second, third, last)] == [0, 1, 2, 3]
    assert [firings[r.pk].chain for r in (second, third)] == [[first.pk], [first.pk, second.pk]]
    stopped = firings[last.pk]
    assert stopped.status == FiringStatus.STOPPED and "depth limit (3)" in stopped.error
    case = fresh(case)
    assert case.status == "waiting_on_customer" and case.priority == "normal"
    assert RuleEffect.objects.filter(firing=firings[first.pk]).exists()


def test_a_message_handed_over_twice_fires_once(cast, world):
    rule(cast, RuleTrigger.CASE_OPENED, [{"type": "add_note", "text": "Once."}])
    case = open_case(cast, world)
    pump()
    row = OutboxMessage.objects.get(topic="case.opened", source_id__isnull=False,
                                    payload__refs__case=case.pk)  # fmt: skip
    engine.handle(Message(row.pk, row.topic, row.payload, row.occurred_at))
    assert RuleFiring.objects.count() == 1 and note_texts(case).count("Once.") == 1


def test_an_inactive_rule_does_nothing_and_the_rules_do_not_take_events_without_rules(cast, world):
    r = rule(cast, RuleTrigger.CASE_OPENED, PRIORITY_HIGH)
    actions.do_switch_rule(r, active=False, actor=cast.admin)
    case = open_case(cast, world)
    opened = OutboxMessage.objects.get(topic="case.opened", payload__refs__case=case.pk)
    takers = {s.name for s in outbox.subscribers_for(opened.topic, opened.payload)}
    assert "automation.rules" not in takers  # no active rule: the engine is not woken
    pump()
    assert fresh(case).priority == "normal" and not RuleFiring.objects.exists()


# --- Validation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("definition", "field", "text"),
    [
        ({"conditions": {"colour": ["red"]}}, "conditions", "Unknown condition field: colour"),
        ({"conditions": {"severities": [9]}}, "conditions", "unknown value 9"),
        ({"actions": [{"type": "explode"}]}, "actions", "unknown action 'explode'"),
        ({"actions": []}, "actions", "at least one action"),
        ({"actions": [{"type": "set_priority", "value": "asap"}]}, "actions", "unknown value"),
        (
            {"actions": [{"type": "add_note", "text": "x", "colour": 1}]},
            "actions",
            "takes no colour",
        ),
        ({"actions": [{"type": "assign_agent", "agent": 999999}]}, "actions", "No such agent"),
        ({"trigger": "sunrise"}, "trigger", "Unknown trigger"),
        ({"trigger": "in_status_for", "trigger_status": "open"}, "trigger_hours", "Business hours"),
        ({"colour": 1}, "__all__", "Unknown rule field: colour"),
        (
            {"actions": [{"type": "send_reply", "text": "{{ secret }}"}]},
            "actions",
            "Unknown placeholders",
        ),
    ],
)
def test_a_bad_definition_names_its_field(cast, definition, field, text):
    raw = {"name": "R", "trigger": "case_opened", "actions": PRIORITY_HIGH, **definition}
    with pytest.raises(ValidationError) as caught:
        checks.check_rule_definition(raw)
    assert text in " ".join(caught.value.message_dict[field])


def form_data(**overrides: Any) -> dict[str, Any]:
    return {"name": "Sev 1 on call", "trigger": "case_opened", "severities": ["1"],
            "set_priority": "urgent", "strategy": "round_robin", "last": "50", **overrides}  # fmt: skip


def test_the_form_saves_a_rule_and_refuses_one_without_actions(cast, world):
    client = cast.client_for(cast.admin)
    refused = client.post(reverse("automation:rule_new"), form_data(set_priority=""))
    assert refused.status_code == 400 and "at least one action" in refused.content.decode()
    assert not Rule.objects.exists()
    saved = client.post(reverse("automation:rule_new"), form_data(tags="vip, db"))
    assert saved.status_code == 302
    r = Rule.objects.get()
    assert r.conditions == {"severities": [1], "tags": ["vip", "db"]}
    assert r.actions == [{"type": "set_priority", "value": "urgent"}]
    edited = client.post(reverse("automation:rule_edit", args=[r.pk]),
                         form_data(name="Renamed", add_note="Look now."))  # fmt: skip
    assert edited.status_code == 302
    r.refresh_from_db()
    assert r.name == "Renamed" and r.actions[-1] == {"type": "add_note", "text": "Look now."}


def test_a_bad_form_value_is_a_form_error_not_a_500(cast):
    client = cast.client_for(cast.admin)
    response = client.post(
        reverse("automation:rule_new"), form_data(severities=["9"], trigger_hours="x")
    )
    assert response.status_code == 400


# --- Dry run ----------------------------------------------------------------------------------


def test_the_dry_run_shows_which_recent_cases_match_and_runs_nothing(cast, world):
    hit = open_case(cast, world, severity=1, subject="Down")
    open_case(cast, world, severity=3, subject="Question")
    r = rule(cast, RuleTrigger.CASE_OPENED, PRIORITY_HIGH, {"severities": [1]})
    client = cast.client_for(cast.admin)
    page = client.get(reverse("automation:rule_detail", args=[r.pk]), {"last": 10})
    text = page.content.decode()
    assert page.status_code == 200 and "1 of the last 2 cases" in text and hit.reference in text
    assert fresh(hit).priority == "normal" and not RuleFiring.objects.exists()
    assert (
        client.get(reverse("automation:rule_detail", args=[r.pk]), {"last": 501}).status_code == 400
    )
    from_form = client.post(reverse("automation:rule_new"), form_data(dry_run="1", last="1"))
    assert from_form.status_code == 200 and "of the last 1 case" in from_form.content.decode()
    assert Rule.objects.count() == 1


def test_the_dry_run_reads_a_fixed_number_of_queries(cast, world, django_assert_max_num_queries):
    for _ in range(5):
        open_case(cast, world)
    with django_assert_max_num_queries(1):
        total, matched = selectors.dry_run(conditions=rules.Conditions(), last=500)
    assert total == 5 and len(matched) == 5


# --- Pages ------------------------------------------------------------------------------------


def test_pages_per_role(cast, world):
    r = rule(cast, RuleTrigger.CASE_OPENED, PRIORITY_HIGH)
    urls = [reverse("automation:rule_list"), reverse("automation:rule_new"),
            reverse("automation:firing_list")]  # fmt: skip
    for url in urls:
        assert cast.client_for(cast.admin).get(url).status_code == 200
        assert cast.client_for(cast.agent).get(url).status_code == 403
        assert cast.client_for(cast.billing).get(url).status_code == 403
        assert cast.client_for(cast.contact).get(url).status_code == 404
    detail = reverse("automation:rule_detail", args=[r.pk])
    assert cast.client_for(cast.agent).get(detail).status_code == 404
    assert cast.client_for(cast.contact).get(detail).status_code == 404
    assert (
        cast.client_for(cast.agent)
        .post(reverse("automation:rule_deactivate", args=[r.pk]))
        .status_code
        == 404
    )


def test_a_manager_holding_the_permission_manages_rules(cast, world):
    from django.contrib.auth.models import Permission

    cast.manager.user_permissions.add(Permission.objects.get(codename="manage_rule"))
    client = cast.client_for(cast.manager)
    assert client.get(reverse("automation:rule_list")).status_code == 200
    assert client.post(reverse("automation:rule_new"), form_data()).status_code == 302


def test_list_moves_and_switches_rules(cast, world, django_assert_max_num_queries):
    a = rule(cast, RuleTrigger.CASE_OPENED, PRIORITY_HIGH, name="A")
    b = rule(cast, RuleTrigger.CASE_OPENED, PRIORITY_HIGH, name="B")
    client = cast.client_for(cast.admin)
    assert (
        client.post(reverse("automation:rule_move", args=[b.pk]), {"direction": "up"}).status_code
        == 302
    )
    assert list(Rule.objects.values_list("name", flat=True)) == ["B", "A"]
    client.post(reverse("automation:rule_deactivate", args=[a.pk]))
    a.refresh_from_db()
    assert not a.active
    client.post(reverse("automation:rule_activate", args=[a.pk]))
    a.refresh_from_db()
    assert a.active
    assert client.get(reverse("automation:rule_move", args=[a.pk])).status_code == 405
    with django_assert_max_num_queries(12):
        page = client.get(reverse("automation:rule_list"))
    assert page.status_code == 200


def test_hostile_text_in_rules_and_firings_is_inert(cast, world):
    """Pages with hostile rules and cases have no more active content than harmless ones."""
    harmless = rule(cast, RuleTrigger.CASE_OPENED, [{"type": "add_note", "text": "Hello"}])
    open_case(cast, world, subject="Harmless")
    pump()
    client = cast.client_for(cast.admin)

    def urls(r: Rule) -> list[str]:
        return [
            reverse("automation:rule_list"),
            reverse("automation:rule_detail", args=[r.pk]) + "?last=5",
            reverse("automation:firing_list"),
            reverse("automation:rule_edit", args=[r.pk]),
        ]

    def seen(r: Rule) -> list[Counter[str]]:
        return [Counter(active_content(client.get(url).content.decode())) for url in urls(r)]

    baseline = seen(harmless)
    payload = " ".join(PAYLOADS[:8])
    values = checks.check_rule_definition(
        {"name": PAYLOADS[2], "trigger": RuleTrigger.STATUS_CHANGED,
         "conditions": {"tags": [PAYLOADS[0][:60]], "text": PAYLOADS[1][:200]},
         "actions": [{"type": "add_note", "text": payload}]}
    )  # fmt: skip
    hostile = actions.do_save_rule(harmless, values=values, actor=cast.admin)
    case = open_case(cast, world, subject=PAYLOADS[1][:200])
    case_actions.do_update_case(case, actor=cast.agent, tags=[PAYLOADS[0][:60]])
    case_actions.do_transition_case(case, "open", actor=cast.agent)
    pump()
    assert seen(hostile) == baseline


def test_firings_are_append_only(cast, world):
    from django.db import DatabaseError, transaction

    from retainer.contracts.models import AppendOnlyError

    rule(cast, RuleTrigger.CASE_OPENED, PRIORITY_HIGH)
    open_case(cast, world)
    pump()
    firing = RuleFiring.objects.get()
    with pytest.raises(AppendOnlyError):
        firing.save()
    with pytest.raises(DatabaseError), transaction.atomic():
        RuleFiring.objects.filter(pk=firing.pk).update(error="rewritten")
    with pytest.raises(DatabaseError), transaction.atomic():
        RuleEffect.objects.all().delete()


def test_the_rule_page_says_what_the_rule_does_in_words(cast, world):
    team = account_actions.do_save_team(None, name="Escalations", actor=cast.admin)
    r = rule(
        cast, RuleTrigger.CASE_OPENED,
        [{"type": "assign_team", "team": team.pk, "strategy": "least_loaded"},
         {"type": "set_priority", "value": "urgent"},
         {"type": "notify", "recipient": "account_owner"}],
        {"severities": [1], "organizations": [cast.acme.pk]},
    )  # fmt: skip
    text = cast.client_for(cast.admin).get(reverse("automation:rule_detail", args=[r.pk]))
    page = text.content.decode()
    assert "Assign to team Escalations (least-loaded)" in page
    assert "Set priority to Urgent" in page and "E-mail the organization" in page
    assert f"organization is {cast.acme.name}" in page and "severity is 1 – Critical" in page
