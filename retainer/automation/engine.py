"""Running rules: the outbox subscriber that fires rules on events, the periodic check of
the time trigger, and applying a rule's actions through the case actions people use.

- **When.** ``handle`` takes the topics in ``TOPIC_TRIGGERS`` (``retainer/subscriptions.py``)
  after commit, through the job queue, in the dispatcher's transaction: a firing commits
  with the outbox's delivery mark. ``contract.expiring`` fires the *Contract expiring*
  rules on the contract itself (``fire_on_contract``): no case, only e-mail notices and
  webhook calls. ``wants`` lets an event through only when an active
  rule has one of its triggers (a per-process copy of the active triggers, renewed by
  the ``rules`` generation token), so events no rule waits for cost nothing.
- **Who.** Actions run as the rules system (``actions.rules_actor``): the same ``do_*``
  case actions a person's click runs, with that user as the actor.
- **Once.** A firing is unique per (rule, key): ``message:<outbox id>`` for an event, so a
  message handed over twice fires each rule once; ``stint:<case>:<start>`` for the time
  trigger, once per rule, case and stint in the status.
- **No loops.** Each outbox message a firing's actions wrote is remembered
  (``RuleEffect``). An event made by a rule carries the chain that made it: a rule in
  that chain does not fire again on it, and a chain stops at ``rules.MAX_DEPTH``; both
  leave a ``stopped`` firing in the log and a note on the case.
- **All or nothing per rule.** A rule's actions run in a savepoint: a refused action
  (a transition the workflow forbids, an inactive agent) undoes the rule's other actions
  and is recorded as ``failed`` with the reason; the next rule still runs.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone

from retainer.accounts.models import Organization, Team, User
from retainer.accounts.selectors import staff_people
from retainer.automation import actions as automation_actions
from retainer.automation import events, notices, placeholders, rules
from retainer.automation.choices import FiringStatus, RuleTrigger
from retainer.automation.models import (
    ERROR_MAX_LENGTH,
    AutomationEvent,
    Rule,
    RuleEffect,
    RuleFiring,
    WebhookDelivery,
    WebhookEndpoint,
)
from retainer.automation.selectors import article_url, case_facts, contract_facts, macro_values
from retainer.cases import actions as case_actions
from retainer.cases.choices import CaseStatus
from retainer.cases.models import Case, CaseEvent, CaseMessage
from retainer.cases.selectors import sla_target_for
from retainer.cases.sla import calendar_from_row
from retainer.contracts.models import Contract, ContractEvent, LedgerEntry
from retainer.lib.business_hours import Calendar, business_time_between
from retainer.lib.errors import DomainError
from retainer.lib.models import OutboxMessage
from retainer.lib.outbox import Message
from retainer.lib.snapshots import Snapshot

logger = logging.getLogger(__name__)

#: The events rules react to, and the triggers each may be.
TOPIC_TRIGGERS: dict[str, tuple[str, ...]] = {
    "case.opened": (RuleTrigger.CASE_OPENED,),
    "case.replied": (RuleTrigger.CUSTOMER_REPLIED, RuleTrigger.AGENT_REPLIED),
    "case.status_changed": (RuleTrigger.STATUS_CHANGED,),
    "case.sla_warning": (RuleTrigger.SLA_WARNING,),
    "case.sla_breached": (RuleTrigger.SLA_BREACHED,),
    "case.csat_answered": (RuleTrigger.CSAT_ANSWERED,),
    "contract.balance_low": (RuleTrigger.BALANCE_LOW,),
    "contract.balance_exhausted": (RuleTrigger.BALANCE_EXHAUSTED,),
    "contract.expiring": (RuleTrigger.CONTRACT_EXPIRING,),
}
#: Cases one periodic pass looks at per time rule.
TIME_BATCH = 500
#: Cases never touched by rules any more.
FINISHED = (CaseStatus.CLOSED, CaseStatus.CANCELLED)
#: Office hours of a case whose SLA target names no calendar.
DEFAULT_HOURS = (dt.time(9), dt.time(17))


def rule_topics() -> tuple[str, ...]:
    """The topics of the rules subscriber (``retainer/subscriptions.py``)."""
    return tuple(TOPIC_TRIGGERS)


def _active_triggers() -> frozenset[str]:
    return frozenset(Rule.objects.filter(active=True).values_list("trigger", flat=True))


#: The triggers of the active rules, per process (the ``rules`` generation token).
_ACTIVE_TRIGGERS = Snapshot("rules", _active_triggers)


def wants(topic: str, payload: Mapping[str, Any]) -> bool:
    """``Subscriber.wants``: only events some active rule may be triggered by."""
    return bool(set(TOPIC_TRIGGERS.get(topic, ())) & _ACTIVE_TRIGGERS.get())


# --- Which case, which trigger ----------------------------------------------------------------


def _case_of(message: Message) -> int | None:
    """The case an event is about: its ``case`` ref, or for a contract's balance event
    the case of the ledger entry that moved the balance (none for a top-up)."""
    case_id = message.refs.get("case")
    if case_id is not None:
        return int(case_id)
    entry = message.payload.get("entry")
    if entry is None:
        return None
    found = LedgerEntry.objects.filter(pk=entry).values_list("case_id", flat=True).first()
    return int(found) if found is not None else None


def _triggers_of(message: Message) -> set[str]:
    """The triggers this very event is (a reply by the customer or by staff)."""
    topic, payload = message.topic, message.payload
    if topic == "case.replied":
        by_customer = (
            CaseMessage.objects.filter(pk=int(payload.get("message") or 0))
            .values_list("by_customer", flat=True)
            .first()
        )
        return {RuleTrigger.CUSTOMER_REPLIED if by_customer else RuleTrigger.AGENT_REPLIED}
    return set(TOPIC_TRIGGERS.get(topic, ()))


@dataclass
class Chain:
    """Where an event stands in a chain of rules: ``depth`` 0 when a person or the
    product made it; ``rules`` the ids of the rules whose firings led to it."""

    depth: int = 0
    rules: list[int] = field(default_factory=list)


def _chain_of(message_id: int | None) -> Chain:
    if message_id is None:
        return Chain()
    effect = RuleEffect.objects.filter(message_id=message_id).select_related("firing").first()
    if effect is None:
        return Chain()
    parent = effect.firing
    return Chain(parent.depth + 1, [*parent.chain, parent.rule_id])


def handle(message: Message) -> None:
    """Outbox handler: fire the active rules this event triggers, in order, on its case
    (on its contract for a contract trigger)."""
    triggers = _triggers_of(message)
    rule_list = list(
        Rule.objects.filter(active=True, trigger__in=triggers).order_by("position", "id")
    )
    if not rule_list:
        return
    on_contract = bool(triggers & set(rules.CONTRACT_TRIGGERS))
    subject_id = message.refs.get("contract") if on_contract else _case_of(message)
    if subject_id is None:
        return
    key = f"message:{message.id}"
    fired = set(
        RuleFiring.objects.filter(rule__in=rule_list, key=key).values_list("rule_id", flat=True)
    )
    chain = _chain_of(message.id)
    fire_one = fire_on_contract if on_contract else fire
    for rule in rule_list:
        if rule.pk not in fired:
            fire_one(
                rule,
                int(subject_id),
                key=key,
                message_id=message.id,
                event_type=message.topic,
                chain=chain,
            )


# --- The time trigger -------------------------------------------------------------------------


def calendar_for(case: Case) -> Calendar:
    """The business hours of the case: its SLA target's calendar, else Monday to Friday,
    09:00 to 17:00 in the organization's time zone."""
    zone = case.organization.time_zone
    target = sla_target_for(case)
    if target is not None and target.calendar_id is not None:
        calendar = target.calendar
        return calendar_from_row(
            calendar, zone if calendar.use_customer_time_zone else calendar.time_zone
        )
    return Calendar.office_hours(zone, *DEFAULT_HOURS)


def stint_start(case: Case) -> tuple[dt.datetime, str]:
    """When the case entered its current status, and a key for that stint: the id of the
    status change (or ``opened`` for a case still in its first status)."""
    row = (
        CaseEvent.objects.filter(case=case, type="status_changed", data__new=case.status)
        .order_by("-id")
        .values_list("pk", "created_at")
        .first()
    )
    if row is None:
        return case.created_at, "opened"
    return row[1], str(row[0])


def run_time_rules(*, now: dt.datetime | None = None) -> int:
    """Fire every active ``in_status_for`` rule on the cases that have been in its status
    for its number of business hours, once per stint; returns the firings made."""
    now = now or timezone.now()
    made = 0
    for rule in Rule.objects.filter(active=True, trigger=RuleTrigger.IN_STATUS_FOR):
        if not rule.trigger_status or not rule.trigger_hours:
            continue
        wanted = dt.timedelta(hours=rule.trigger_hours)
        cases = (
            Case.objects.filter(status=rule.trigger_status)
            .select_related("organization", "contract")
            .order_by("id")[:TIME_BATCH]
        )
        for case in cases:
            start, stint = stint_start(case)
            key = f"stint:{case.pk}:{stint}"
            if RuleFiring.objects.filter(rule=rule, key=key).exists():
                continue
            if business_time_between(calendar_for(case), start, now) < wanted:
                continue
            event_type = f"in_status_for:{rule.trigger_status}:{rule.trigger_hours}h"
            with transaction.atomic():
                if fire(
                    rule, case.pk, key=key, message_id=None, event_type=event_type, chain=Chain()
                ):
                    made += 1
    return made


# --- Firing -----------------------------------------------------------------------------------


def fire(
    rule: Rule, case_id: int, *, key: str, message_id: int | None, event_type: str, chain: Chain
) -> RuleFiring | None:
    """Fire ``rule`` on the case if its conditions hold: apply its actions (all or none),
    record the firing and note it on the case. ``None`` when the conditions do not hold
    or the rule already fired for ``key``. Runs in the caller's transaction."""
    case = Case.objects.select_related("organization", "contract__plan").get(pk=case_id)
    try:
        conditions = rules.parse_conditions(rule.conditions)
        planned = rules.parse_actions(rule.actions)
    except rules.RuleSchemaError as exc:
        return _stop(
            rule, case, key, message_id, event_type, chain, FiringStatus.FAILED, exc.message
        )
    if not rules.matches(conditions, case_facts(case)):
        return None
    why = _loop_stop(rule, chain)
    if why:
        return _stop(rule, case, key, message_id, event_type, chain, FiringStatus.STOPPED, why)
    try:
        with transaction.atomic():
            return _apply(rule, case, planned, key, message_id, event_type, chain)
    except IntegrityError:
        if RuleFiring.objects.filter(rule=rule, key=key).exists():
            return None  # fired already, by an earlier hand-over of the same message
        raise
    except (DomainError, ValidationError, ObjectDoesNotExist) as exc:
        return _stop(
            rule, case, key, message_id, event_type, chain, FiringStatus.FAILED, _reason(exc)
        )


def fire_on_contract(
    rule: Rule, contract_id: int, *, key: str, message_id: int | None, event_type: str, chain: Chain
) -> RuleFiring | None:
    """``fire`` for a contract trigger: the rule's conditions read the contract
    (``rules.matches_contract``), its actions are e-mail notices and webhook calls, all or
    none, and the firing is on the contract. ``None`` when the conditions do not hold or
    the rule already fired for ``key``. Runs in the caller's transaction."""
    contract = Contract.objects.select_related("organization__account_owner", "plan").get(
        pk=contract_id
    )
    try:
        conditions = rules.parse_conditions(rule.conditions)
        planned = rules.parse_actions(rule.actions)
        rules.check_contract_rule(conditions, planned)
    except rules.RuleSchemaError as exc:
        return _stop(
            rule, contract, key, message_id, event_type, chain, FiringStatus.FAILED, exc.message
        )
    products = contract.covered_products.values_list("pk", flat=True)
    if not rules.matches_contract(conditions, contract_facts(contract, products)):
        return None
    why = _loop_stop(rule, chain)
    if why:
        return _stop(rule, contract, key, message_id, event_type, chain, FiringStatus.STOPPED, why)
    try:
        with transaction.atomic():
            applied = Applied()
            for action in planned:
                if action.type == "notify":
                    _notify(action, contract.organization, applied)
                else:
                    _plan_webhook(action, applied)
            firing, event_row = _record(
                rule, contract, key, message_id, event_type, chain, FiringStatus.APPLIED, "",
                applied.done,
            )  # fmt: skip
            _call_webhooks(event_row, applied.endpoints)
            notices.queue_contract_rule_notices(
                firing, rule_name=rule.name, contract=contract, people=applied.notify
            )
            return firing
    except IntegrityError:
        if RuleFiring.objects.filter(rule=rule, key=key).exists():
            return None  # fired already, by an earlier hand-over of the same message
        raise
    except (DomainError, ValidationError, ObjectDoesNotExist) as exc:
        return _stop(
            rule, contract, key, message_id, event_type, chain, FiringStatus.FAILED, _reason(exc)
        )


def _loop_stop(rule: Rule, chain: Chain) -> str:
    """Why the loop guard stops ``rule`` on an event of ``chain`` ("" when it does not)."""
    if rule.pk in chain.rules:
        return "Stopped: the rule's own change would trigger it again."
    if chain.depth >= rules.MAX_DEPTH:
        return f"Stopped: a chain of rules reached the depth limit ({rules.MAX_DEPTH})."
    return ""


def _reason(exc: Exception) -> str:
    if isinstance(exc, DomainError):
        return exc.detail
    if isinstance(exc, ValidationError):
        return "; ".join(exc.messages)
    return str(exc)


@dataclass
class Applied:
    """What a firing did so far (sentences), and the webhook calls and staff notices
    left for after the firing is recorded (they carry its id)."""

    done: list[str] = field(default_factory=list)
    endpoints: list[int] = field(default_factory=list)
    notify: list[User] = field(default_factory=list)


def _apply(
    rule: Rule,
    case: Case,
    planned: tuple[rules.Action, ...],
    key: str,
    message_id: int | None,
    event_type: str,
    chain: Chain,
) -> RuleFiring:
    actor = automation_actions.rules_actor()
    case = case_actions.lock_case(case)
    case_mark, contract_mark = _last_id(CaseEvent), _last_id(ContractEvent)
    applied = Applied()
    for action in planned:
        case = _do(action, case, actor, rule, applied)
    if case.status not in FINISHED:
        note = (
            f"Rule “{rule.name}” ({rule.get_trigger_display().lower()}): "
            + ("; ".join(applied.done) or "nothing to change")
            + "."
        )
        case_actions.do_add_message(case, author=actor, body=note, internal=True)
    firing, event_row = _record(
        rule, case, key, message_id, event_type, chain, FiringStatus.APPLIED, "", applied.done
    )
    _remember_effects(firing, case, actor, case_mark, contract_mark)
    _call_webhooks(event_row, applied.endpoints)
    notices.queue_rule_notices(firing, rule_name=rule.name, case=case, people=applied.notify)
    return firing


def _do(action: rules.Action, case: Case, actor: User, rule: Rule, applied: Applied) -> Case:
    """Apply one action through the case actions; returns the case as it now is."""
    kind = action.type
    if kind == "assign_agent":
        agent = staff_people().get(pk=action.agent or 0)
        case = case_actions.do_update_case(case, actor=actor, assignee=agent)
        applied.done.append(f"assigned to {agent.full_name}")
    elif kind == "assign_team":
        team = Team.objects.get(pk=action.team or 0, is_active=True)
        member = pick_member(team, strategy=action.strategy, rule=rule)
        changes: dict[str, Any] = {"queue": team}
        if member is not None:
            changes["assignee"] = member
        case = case_actions.do_update_case(case, actor=actor, **changes)
        who = f" ({member.full_name}, {action.strategy.replace('_', '-')})" if member else ""
        applied.done.append(f"assigned to team {team.name}{who}")
    elif kind in ("set_priority", "set_severity"):
        field_name = kind.removeprefix("set_")
        value: Any = int(action.value) if field_name == "severity" else action.value
        case = case_actions.do_update_case(case, actor=actor, **{field_name: value})
        applied.done.append(f"{field_name} set to {action.value}")
    elif kind == "set_status":
        if case.status != action.value:
            case = case_actions.do_transition_case(case, action.value, actor=actor)
        applied.done.append(f"status set to {action.value.replace('_', ' ')}")
    elif kind in ("add_note", "send_reply"):
        body = action.text
        if kind == "send_reply":
            body = placeholders.render(body, macro_values(case), article_url)
        internal = kind == "add_note"
        case_actions.do_add_message(case, author=actor, body=body, internal=internal)
        case = Case.objects.select_related("organization", "contract__plan").get(pk=case.pk)
        applied.done.append("internal note added" if internal else "reply sent")
    elif kind == "set_tags":
        tags = [str(tag) for tag in case.tags or ()]
        kept = [tag for tag in tags if tag not in action.remove]
        new = kept + [tag for tag in action.add if tag not in kept]
        if new != tags:
            case = case_actions.do_update_case(case, actor=actor, tags=new)
        said = [f"tag {tag} added" for tag in action.add if tag not in tags]
        said += [f"tag {tag} removed" for tag in action.remove if tag in tags]
        applied.done.append(", ".join(said) or "tags unchanged")
    elif kind == "notify":
        _notify(action, case.organization, applied)
    elif kind == "call_webhook":
        _plan_webhook(action, applied)
    return case


def _plan_webhook(action: rules.Action, applied: Applied) -> None:
    """Plan the call of the endpoint (queued once the firing is recorded)."""
    endpoint = WebhookEndpoint.objects.get(pk=action.endpoint or 0)
    applied.endpoints.append(endpoint.pk)
    applied.done.append(f"webhook {endpoint.url} called")


def _notify(action: rules.Action, organization: Organization, applied: Applied) -> None:
    """Plan the e-mail to a staff member (refused when no longer active staff, like an
    assignment) or to the organization's account owner (none, inactive or without an
    e-mail address: said in the firing, and the rule's other actions stand)."""
    if action.recipient == "agent":
        person = staff_people().get(pk=action.agent or 0)
    else:
        owner = organization.account_owner
        if owner is None or not (owner.is_active and owner.is_staff and owner.email):
            applied.done.append("nobody notified (the organization has no account owner)")
            return
        person = owner
    applied.notify.append(person)
    applied.done.append(f"{person.full_name} notified")


def pick_member(team: Team, *, strategy: str, rule: Rule) -> User | None:
    """The active agent of ``team`` who gets the case: ``least_loaded``, the one with the
    fewest unfinished cases assigned (the first by id on a tie); ``round_robin``, the
    one after whoever this rule assigned last (by id, wrapping around)."""
    members = team.members.filter(is_active=True, is_staff=True, is_service_account=False).order_by(
        "id"
    )
    if strategy == "least_loaded":
        open_cases = ~Q(assigned_cases__status__in=(*FINISHED, CaseStatus.RESOLVED))
        loaded = members.annotate(load=Count("assigned_cases", filter=open_cases))
        return loaded.order_by("load", "id").first()
    ids = list(members.values_list("pk", flat=True))
    if not ids:
        return None
    last = (
        RuleFiring.objects.filter(rule=rule, status=FiringStatus.APPLIED, case__assignee__in=ids)
        .order_by("-id")
        .values_list("case__assignee", flat=True)
        .first()
    )
    after = [pk for pk in ids if last is not None and pk > last]
    return members.get(pk=(after or ids)[0])


def _record(
    rule: Rule,
    subject: Case | Contract,
    key: str,
    message_id: int | None,
    event_type: str,
    chain: Chain,
    status: str,
    error: str,
    done: list[str],
) -> tuple[RuleFiring, AutomationEvent]:
    """The firing on ``subject`` (a case, or a contract for a contract trigger) and its
    ``rule.fired`` event."""
    case = subject if isinstance(subject, Case) else None
    contract = subject if isinstance(subject, Contract) else None
    firing = RuleFiring.objects.create(
        rule=rule,
        case=case,
        contract=contract,
        key=key,
        message_id=message_id,
        event_type=event_type,
        status=status,
        depth=chain.depth,
        chain=chain.rules,
        actions=done,
        error=error[:ERROR_MAX_LENGTH],
    )
    event = events.RuleFired(
        firing=firing.pk,
        case=case.pk if case is not None else None,
        contract=contract.pk if contract is not None else None,
        trigger=rule.trigger,
        event_type=event_type,
        status=status,
        actions=done,
        depth=chain.depth,
    )
    return firing, automation_actions.record_rule_event(event, rule=rule)


def _stop(
    rule: Rule,
    case: Case | Contract,
    key: str,
    message_id: int | None,
    event_type: str,
    chain: Chain,
    status: str,
    why: str,
) -> RuleFiring | None:
    """Record a firing whose actions were not applied (failed, or stopped by the loop
    guard), with a note on the case saying why (a contract has no timeline: the firing
    log says it)."""
    try:
        with transaction.atomic():
            firing, _row = _record(rule, case, key, message_id, event_type, chain, status, why, [])
    except IntegrityError:
        return None
    if isinstance(case, Case) and case.status not in FINISHED:
        actor = automation_actions.rules_actor()
        body = f"Rule “{rule.name}” did not apply: {why}"
        try:
            with transaction.atomic():
                mark = _last_id(CaseEvent)
                case_actions.do_add_message(case, author=actor, body=body, internal=True)
                _remember_effects(firing, case, actor, mark, None)
        except (DomainError, ValidationError):
            logger.info("No note for firing %s on case %s", firing.pk, case.pk)
    return firing


def _last_id(model: Any) -> int:
    return int(model.objects.order_by("-id").values_list("pk", flat=True).first() or 0)


def _remember_effects(
    firing: RuleFiring,
    case: Case,
    actor: User,
    case_mark: int,
    contract_mark: int | None,
) -> None:
    """Remember the outbox messages of the events the firing wrote (the rules system's
    events on this case, and on its contract, since the marks)."""
    case_rows = CaseEvent.objects.filter(case=case, actor=actor, pk__gt=case_mark)
    sources = Q(source="cases.caseevent", source_id__in=case_rows.values("pk"))
    if contract_mark is not None and case.contract_id is not None:
        contract_rows = ContractEvent.objects.filter(
            contract_id=case.contract_id, actor=actor, pk__gt=contract_mark
        )
        sources |= Q(source="contracts.contractevent", source_id__in=contract_rows.values("pk"))
    ids = OutboxMessage.objects.filter(sources).values_list("pk", flat=True)
    RuleEffect.objects.bulk_create(
        [RuleEffect(message_id=pk, firing=firing) for pk in ids], ignore_conflicts=True
    )


def _call_webhooks(event_row: AutomationEvent, endpoint_ids: list[int]) -> None:
    """Queue the firing's ``rule.fired`` event for each endpoint the rule calls, through
    the webhook delivery: signed, retried, in the endpoint's delivery log."""
    if not endpoint_ids:
        return
    from retainer.automation.webhooks import send_after_commit

    row = OutboxMessage.objects.filter(
        source="automation.automationevent", source_id=event_row.pk
    ).first()
    if row is None:
        return
    payload = {"occurred_at": row.occurred_at.isoformat(), "data": dict(row.payload)}
    created = []
    for endpoint in WebhookEndpoint.objects.filter(pk__in=endpoint_ids, active=True):
        delivery, new = WebhookDelivery.objects.get_or_create(
            endpoint=endpoint,
            event_id=row.pk,
            defaults={
                "event_type": row.topic,
                "payload": payload,
                "next_attempt_at": timezone.now(),
            },
        )
        if new:
            created.append(delivery.pk)
    send_after_commit(created)
