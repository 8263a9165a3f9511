"""Webhook endpoints and their delivery log, macros (canned replies), rules on events
with their firing log, and the app's history.

A ``WebhookDelivery`` is one event for one endpoint: unique per (endpoint, event id), so
the outbox handing an event over twice queues it once, and every attempt of it (retries,
replays) carries the same event id. The endpoint's ``secret`` signs every body; it is
shown to the admin once, when created or rotated, and never in an event or a list.
"""

from __future__ import annotations

import secrets

from django.db import models
from django.utils import timezone

from retainer.accounts.models import User
from retainer.automation.choices import (
    AutomationEventType,
    DeliveryStatus,
    FiringStatus,
    RuleTrigger,
)
from retainer.contracts.models import AppendOnlyModel
from retainer.lib.limits import TEXT_MAX_LENGTH

URL_MAX_LENGTH = 500
DESCRIPTION_MAX_LENGTH = 200
MACRO_NAME_MAX_LENGTH = 80
ERROR_MAX_LENGTH = 500


def new_secret() -> str:
    """``whsec_`` and 256 random bits, URL-safe."""
    return "whsec_" + secrets.token_urlsafe(32)


class WebhookEndpoint(models.Model):
    """An HTTPS URL that receives the events of the types it subscribes to, signed with
    its secret. ``active`` false: it receives nothing new and its waiting deliveries
    wait; ``disabled_at``/``disabled_reason`` say when and why it was switched off."""

    url = models.URLField(max_length=URL_MAX_LENGTH)
    description = models.CharField(max_length=DESCRIPTION_MAX_LENGTH, blank=True)
    event_types = models.JSONField(default=list, help_text="Event type names (docs/events.md).")
    secret = models.CharField(max_length=80, default=new_secret, editable=False)
    active = models.BooleanField(default=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=ERROR_MAX_LENGTH, blank=True)
    created_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-active", "url", "id"]

    def __str__(self) -> str:
        return self.url

    def takes(self, topic: str) -> bool:
        return topic in self.event_types


class WebhookDelivery(models.Model):
    """One event for one endpoint, and the outcome of its last attempt."""

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.PROTECT, related_name="deliveries"
    )
    event_id = models.BigIntegerField(help_text="The outbox message id: the same on every attempt.")
    event_type = models.CharField(max_length=80)
    payload = models.JSONField(default=dict)
    status = models.CharField(
        max_length=12, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_response_ms = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=ERROR_MAX_LENGTH, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "event_id"], name="automation_delivery_once_per_event"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="automation_delivery_due"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} #{self.event_id} → {self.endpoint_id}"


class Macro(models.Model):
    """A canned reply. ``owner`` set: the agent's personal macro; empty: shared with every
    agent (managed by managers). ``body`` holds known placeholders only
    (``automation/placeholders.py``), checked on every save."""

    name = models.CharField(max_length=MACRO_NAME_MAX_LENGTH)
    body = models.TextField(max_length=TEXT_MAX_LENGTH)
    owner = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="macros"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        permissions = [("manage_shared_macro", "Can create and change shared macros")]

    def __str__(self) -> str:
        return self.name

    @property
    def shared(self) -> bool:
        return self.owner_id is None


RULE_NAME_MAX_LENGTH = 120
#: The login the rules system acts as (``actions.rules_actor``).
RULES_ACTOR_EMAIL = "rules@automation.retainer.invalid"


class Rule(models.Model):
    """An automation rule: when ``trigger`` happens to a case that meets every condition,
    do the actions, in order, as the rules system. ``conditions`` and ``actions`` are JSON
    of the shape ``automation/rules.py`` parses (checked on every save by
    ``checks.check_rule_definition``). ``position`` orders the rules (the lowest runs
    first). ``in_status_for`` rules name ``trigger_status`` and ``trigger_hours``."""

    name = models.CharField(max_length=RULE_NAME_MAX_LENGTH)
    active = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=0)
    trigger = models.CharField(max_length=24, choices=RuleTrigger.choices)
    trigger_status = models.CharField(max_length=20, blank=True)
    trigger_hours = models.PositiveIntegerField(null=True, blank=True)
    conditions = models.JSONField(default=dict, blank=True)
    actions = models.JSONField(default=list)
    created_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    updated_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["position", "id"]
        permissions = [("manage_rule", "Can create, change and order automation rules")]
        indexes = [
            models.Index(fields=["active", "trigger", "position"], name="automation_rule_active")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def on_contract(self) -> bool:
        """A rule about a contract (``contract_expiring``), not a case."""
        return self.trigger == RuleTrigger.CONTRACT_EXPIRING


class RuleFiring(AppendOnlyModel):
    """One firing of a rule on a case, or on a contract for a contract trigger
    (append-only; exactly one of ``case`` and ``contract``). ``key`` makes it once only:
    ``message:<outbox id>`` for an event (a message handed over twice fires once),
    ``stint:<case>:<start>`` for the time trigger (once per stint in the status).
    ``depth`` is the place in a chain of rules (0: caused by a person or the product);
    ``chain`` the rules before it. ``actions`` lists what was done, ``error`` why not."""

    rule = models.ForeignKey(Rule, on_delete=models.PROTECT, related_name="firings")
    case = models.ForeignKey(
        "cases.Case",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    contract = models.ForeignKey(
        "contracts.Contract", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    key = models.CharField(max_length=80)
    message_id = models.BigIntegerField(null=True, blank=True)
    event_type = models.CharField(max_length=80)
    status = models.CharField(max_length=10, choices=FiringStatus.choices)
    depth = models.PositiveSmallIntegerField(default=0)
    chain = models.JSONField(default=list, blank=True)
    actions = models.JSONField(default=list, blank=True)
    error = models.CharField(max_length=ERROR_MAX_LENGTH, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["rule", "key"], name="automation_firing_once"),
            models.CheckConstraint(
                condition=models.Q(case__isnull=False, contract__isnull=True)
                | models.Q(case__isnull=True, contract__isnull=False),
                name="automation_firing_case_or_contract",
                violation_error_message="A firing is on a case or on a contract.",
            ),
        ]
        indexes = [models.Index(fields=["case", "-id"], name="automation_firing_case")]

    def __str__(self) -> str:
        subject = f"case {self.case_id}" if self.case_id else f"contract {self.contract_id}"
        return f"{self.rule_id} on {subject}: {self.status}"


class RuleEffect(AppendOnlyModel):
    """An outbox message written by a rule's actions: how the loop guard knows that an
    event was made by a rule, by which firing, at which depth."""

    message_id = models.BigIntegerField(unique=True)
    firing = models.ForeignKey(RuleFiring, on_delete=models.PROTECT, related_name="effects")

    def __str__(self) -> str:
        return f"message {self.message_id} by firing {self.firing_id}"


class AutomationEvent(models.Model):
    """Append-only history of webhooks, macros and rules (typed events in
    ``automation/events.py``)."""

    type = models.CharField(max_length=40, choices=AutomationEventType.choices)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    macro = models.ForeignKey(
        Macro, on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    rule = models.ForeignKey(
        Rule, on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.type} at {self.created_at:%Y-%m-%d %H:%M}"
