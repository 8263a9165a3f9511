"""Every change to webhooks and macros. Each action runs in one transaction, validates
before it writes (``save_validated``) and records its typed event (``automation/events.py``).
Who may call which action, and how raw input becomes arguments, is ``automation/checks.py``.

The outcome of a delivery attempt (``do_record_attempt``) is not an event: it is the
delivery's own row, the log the console shows. Disabling an endpoint after repeated
failures is one (``webhook_endpoint.disabled`` by the system).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from retainer.accounts.models import User
from retainer.automation import conf, events
from retainer.automation.choices import DeliveryStatus
from retainer.automation.models import (
    ERROR_MAX_LENGTH,
    RULES_ACTOR_EMAIL,
    AutomationEvent,
    Macro,
    Rule,
    WebhookDelivery,
    WebhookEndpoint,
    new_secret,
)
from retainer.automation.webhooks import backoff
from retainer.lib.events import record
from retainer.lib.models import apply_changes, save_validated

ENDPOINT_FIELDS = ("url", "description", "event_types")
MACRO_FIELDS = ("name", "body")
RULE_FIELDS = ("name", "trigger", "trigger_status", "trigger_hours", "conditions", "actions")


def lock_endpoint(endpoint: WebhookEndpoint) -> WebhookEndpoint:
    return WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)


@transaction.atomic
def do_create_endpoint(*, values: Mapping[str, Any], actor: User | None) -> WebhookEndpoint:
    """A new active endpoint with a fresh secret (the caller shows it once)."""
    endpoint = WebhookEndpoint(created_by=actor)
    apply_changes(endpoint, values, allowed=ENDPOINT_FIELDS)
    save_validated(endpoint)
    record(
        AutomationEvent,
        events.EndpointCreated(url=endpoint.url, event_types=list(endpoint.event_types)),
        actor=actor,
        endpoint=endpoint,
    )
    return endpoint


@transaction.atomic
def do_change_endpoint(
    endpoint: WebhookEndpoint, *, values: Mapping[str, Any], actor: User | None
) -> WebhookEndpoint:
    endpoint = lock_endpoint(endpoint)
    changes = apply_changes(endpoint, values, allowed=ENDPOINT_FIELDS)
    if changes:
        save_validated(endpoint)
        record(
            AutomationEvent, events.EndpointChanged(changes=changes), actor=actor, endpoint=endpoint
        )
    return endpoint


@transaction.atomic
def do_disable_endpoint(
    endpoint: WebhookEndpoint, *, reason: str, actor: User | None
) -> WebhookEndpoint:
    """Stop sending to the endpoint: new events are not queued for it, waiting deliveries
    wait (they are sent when it is enabled again). A disabled endpoint is left as it is."""
    endpoint = lock_endpoint(endpoint)
    if not endpoint.active:
        return endpoint
    endpoint.active = False
    endpoint.disabled_at = timezone.now()
    endpoint.disabled_reason = reason[:ERROR_MAX_LENGTH]
    endpoint.save(update_fields=["active", "disabled_at", "disabled_reason"])
    record(
        AutomationEvent,
        events.EndpointDisabled(
            reason=endpoint.disabled_reason, consecutive_failures=endpoint.consecutive_failures
        ),
        actor=actor,
        endpoint=endpoint,
    )
    return endpoint


@transaction.atomic
def do_enable_endpoint(endpoint: WebhookEndpoint, *, actor: User | None) -> WebhookEndpoint:
    """Send to the endpoint again, starting with the deliveries that waited (due now)."""
    endpoint = lock_endpoint(endpoint)
    if endpoint.active:
        return endpoint
    endpoint.active = True
    endpoint.consecutive_failures = 0
    endpoint.disabled_at = None
    endpoint.disabled_reason = ""
    endpoint.save(
        update_fields=["active", "consecutive_failures", "disabled_at", "disabled_reason"]
    )
    WebhookDelivery.objects.filter(
        endpoint=endpoint, status__in=(DeliveryStatus.PENDING, DeliveryStatus.FAILED)
    ).update(next_attempt_at=timezone.now())
    record(AutomationEvent, events.EndpointEnabled(), actor=actor, endpoint=endpoint)
    return endpoint


@transaction.atomic
def do_rotate_secret(endpoint: WebhookEndpoint, *, actor: User | None) -> WebhookEndpoint:
    """A new secret signs every attempt from now on (retries of older events too)."""
    endpoint = lock_endpoint(endpoint)
    endpoint.secret = new_secret()
    endpoint.save(update_fields=["secret"])
    record(AutomationEvent, events.SecretRotated(), actor=actor, endpoint=endpoint)
    return endpoint


@transaction.atomic
def do_replay_delivery(delivery: WebhookDelivery, *, actor: User | None) -> WebhookDelivery:
    """Queue the delivery again, whatever its status, with the same event id: due now,
    with a new round of attempts. The caller sends it after commit."""
    delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
    previous = delivery.status
    delivery.status = DeliveryStatus.PENDING
    delivery.attempts = 0
    delivery.next_attempt_at = timezone.now()
    delivery.save(update_fields=["status", "attempts", "next_attempt_at"])
    record(
        AutomationEvent,
        events.DeliveryReplayed(
            delivery=delivery.pk, event_id=delivery.event_id, previous_status=previous
        ),
        actor=actor,
        endpoint_id=delivery.endpoint_id,
    )
    return delivery


@transaction.atomic
def do_record_attempt(
    delivery: WebhookDelivery, *, status_code: int | None, elapsed_ms: int, error: str
) -> WebhookDelivery:
    """The outcome of one attempt on the delivery (claimed by the caller): delivered on
    2xx; otherwise failed with the next attempt after back-off, or given up after
    ``RETAINER_WEBHOOK_MAX_ATTEMPTS``. Counts the endpoint's consecutive failures and
    disables it after ``RETAINER_WEBHOOK_DISABLE_AFTER``."""
    now = timezone.now()
    delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
    endpoint = lock_endpoint(delivery.endpoint)
    ok = status_code is not None and 200 <= status_code < 300
    delivery.attempts += 1
    delivery.last_attempt_at = now
    delivery.last_status_code = status_code
    delivery.last_response_ms = elapsed_ms
    delivery.last_error = error[:ERROR_MAX_LENGTH]
    if ok:
        delivery.status = DeliveryStatus.DELIVERED
        delivery.next_attempt_at = None
        endpoint.consecutive_failures = 0
    elif delivery.attempts >= conf.max_attempts():
        delivery.status = DeliveryStatus.GIVEN_UP
        delivery.next_attempt_at = None
        endpoint.consecutive_failures += 1
    else:
        delivery.status = DeliveryStatus.FAILED
        delivery.next_attempt_at = now + backoff(delivery.attempts)
        endpoint.consecutive_failures += 1
    delivery.save()
    endpoint.save(update_fields=["consecutive_failures"])
    if not ok and endpoint.active and endpoint.consecutive_failures >= conf.disable_after():
        do_disable_endpoint(
            endpoint,
            reason=f"{endpoint.consecutive_failures} failed attempts in a row; last: "
            f"{delivery.last_error}",
            actor=None,
        )
    return delivery


@transaction.atomic
def do_save_macro(
    macro: Macro | None, *, values: Mapping[str, Any], owner: User | None, actor: User
) -> Macro:
    """Create (``macro`` None) or change a macro; ``owner`` None makes it shared. The
    body's placeholders were checked by the caller (``checks.check_save_macro``)."""
    created = macro is None
    macro = macro or Macro(owner=owner)
    changes = apply_changes(macro, values, allowed=MACRO_FIELDS)
    if changes or created:
        macro.updated_at = timezone.now()
        save_validated(macro)
        record(
            AutomationEvent,
            events.MacroSaved(
                macro_name=macro.name,
                shared=macro.shared,
                created=created,
                changes={} if created else changes,
            ),
            actor=actor,
            macro=macro,
        )
    return macro


# --- Rules ------------------------------------------------------------------------------------


def rules_actor() -> User:
    """The user rules act as: vendor staff (its replies are the vendor's), inactive and
    without a password, so nobody signs in as it. Made on first use."""
    actor, created = User.objects.get_or_create(
        email=RULES_ACTOR_EMAIL,
        defaults={"full_name": "Support team (automatic)", "is_staff": True, "is_active": False},
    )
    if created:
        actor.set_unusable_password()
        actor.save(update_fields=["password"])
    return actor


def record_rule_event(event: events.AutomationEventBase, *, rule: Rule) -> AutomationEvent:
    """A firing's ``rule.fired`` event, by the rules system (``engine._record``)."""
    return record(AutomationEvent, event, actor=rules_actor(), rule=rule)


@transaction.atomic
def do_save_rule(rule: Rule | None, *, values: Mapping[str, Any], actor: User | None) -> Rule:
    """Create (``rule`` None: active, last in the order) or change a rule. The definition
    was checked by the caller (``checks.check_rule_definition``)."""
    created = rule is None
    if rule is None:
        last = Rule.objects.select_for_update().order_by("-position").first()
        rule = Rule(created_by=actor, position=(last.position + 1) if last else 1)
    else:
        rule = Rule.objects.select_for_update().get(pk=rule.pk)
    changes = apply_changes(rule, values, allowed=RULE_FIELDS)
    if changes or created:
        rule.updated_by = actor
        rule.updated_at = timezone.now()
        save_validated(rule)
        event = events.RuleSaved(
            rule_name=rule.name, created=created, changes={} if created else changes
        )
        record(AutomationEvent, event, actor=actor, rule=rule)
    return rule


@transaction.atomic
def do_switch_rule(rule: Rule, *, active: bool, actor: User | None) -> Rule:
    """Activate or deactivate a rule; a rule already so is left as it is."""
    rule = Rule.objects.select_for_update().get(pk=rule.pk)
    if rule.active != active:
        rule.active = active
        rule.updated_by = actor
        rule.updated_at = timezone.now()
        rule.save(update_fields=["active", "updated_by", "updated_at"])
        record(AutomationEvent, events.RuleSwitched(active=active), actor=actor, rule=rule)
    return rule


@transaction.atomic
def do_move_rule(rule: Rule, *, up: bool, actor: User | None) -> Rule:
    """Swap the rule with the one before it (``up``) or after it in the order; the first
    rule does not move up, nor the last one down. Positions are renumbered 1, 2, 3 …"""
    ordered = list(Rule.objects.select_for_update().order_by("position", "id"))
    index = next(i for i, r in enumerate(ordered) if r.pk == rule.pk)
    other = index - 1 if up else index + 1
    if not 0 <= other < len(ordered):
        return ordered[index]
    ordered[index], ordered[other] = ordered[other], ordered[index]
    for position, row in enumerate(ordered, start=1):
        if row.position != position:
            row.position = position
            row.save(update_fields=["position"])
    moved = ordered[other]
    record(
        AutomationEvent,
        events.RuleMoved(old=index + 1, new=other + 1),
        actor=actor,
        rule=moved,
    )
    return moved
