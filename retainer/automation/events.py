"""The typed events of automation (history: ``AutomationEvent``).

The row's ``endpoint``, ``macro`` or ``rule`` column says what the event is about. A webhook
endpoint's secret is never part of an event. These events are not offered to webhooks
themselves (``automation.webhooks.subscribable_topics``): a receiver that is down could
otherwise feed its own delivery log.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from retainer.automation.choices import AutomationEventType
from retainer.lib.events import Event


@dataclass(frozen=True, kw_only=True)
class AutomationEventBase(Event):
    """A change to webhooks or macros (an ``AutomationEvent`` row)."""

    history = "automation.automationevent"


@dataclass(frozen=True, kw_only=True)
class EndpointCreated(AutomationEventBase):
    """A webhook endpoint was added, with the event types it receives."""

    name = "webhook_endpoint.created"
    type = AutomationEventType.ENDPOINT_CREATED

    url: str
    event_types: list[str]


@dataclass(frozen=True, kw_only=True)
class EndpointChanged(AutomationEventBase):
    """A webhook endpoint's URL, description or event types changed."""

    name = "webhook_endpoint.changed"
    type = AutomationEventType.ENDPOINT_CHANGED

    changes: dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class EndpointDisabled(AutomationEventBase):
    """A webhook endpoint stopped receiving events (by hand, or after repeated failures)."""

    name = "webhook_endpoint.disabled"
    type = AutomationEventType.ENDPOINT_DISABLED

    reason: str
    consecutive_failures: int


@dataclass(frozen=True, kw_only=True)
class EndpointEnabled(AutomationEventBase):
    """A webhook endpoint receives events again; its waiting deliveries are retried."""

    name = "webhook_endpoint.enabled"
    type = AutomationEventType.ENDPOINT_ENABLED


@dataclass(frozen=True, kw_only=True)
class SecretRotated(AutomationEventBase):
    """A webhook endpoint got a new signing secret (the old one no longer signs)."""

    name = "webhook_endpoint.secret_rotated"
    type = AutomationEventType.SECRET_ROTATED


@dataclass(frozen=True, kw_only=True)
class DeliveryReplayed(AutomationEventBase):
    """A webhook delivery was queued again by hand (same event id)."""

    name = "webhook_delivery.replayed"
    type = AutomationEventType.DELIVERY_REPLAYED

    delivery: int
    event_id: int
    previous_status: str


@dataclass(frozen=True, kw_only=True)
class MacroSaved(AutomationEventBase):
    """A macro (canned reply) was created or changed."""

    name = "macro.saved"
    type = AutomationEventType.MACRO_SAVED

    macro_name: str
    shared: bool
    created: bool = False
    changes: dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class RuleSaved(AutomationEventBase):
    """An automation rule was created or changed (its trigger, conditions or actions)."""

    name = "rule.saved"
    type = AutomationEventType.RULE_SAVED

    rule_name: str
    created: bool = False
    changes: dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class RuleSwitched(AutomationEventBase):
    """An automation rule was activated or deactivated."""

    name = "rule.switched"
    type = AutomationEventType.RULE_SWITCHED

    active: bool


@dataclass(frozen=True, kw_only=True)
class RuleMoved(AutomationEventBase):
    """An automation rule moved up or down in the order rules run in."""

    name = "rule.moved"
    type = AutomationEventType.RULE_MOVED

    old: int
    new: int


@dataclass(frozen=True, kw_only=True)
class RuleFired(AutomationEventBase):
    """A rule's conditions held for a case (or, for a contract trigger, a contract:
    ``case`` is then ``None`` and ``contract`` set): ``status`` says whether its actions
    were applied, failed (nothing applied) or were stopped by the loop guard."""

    name = "rule.fired"
    type = AutomationEventType.RULE_FIRED

    firing: int
    case: int | None
    contract: int | None = None
    trigger: str
    event_type: str
    status: str
    actions: list[str]
    depth: int
