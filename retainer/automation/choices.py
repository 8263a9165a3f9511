"""Constants of automation. Labels are for people; values are the data keys."""

from django.db import models


class DeliveryStatus(models.TextChoices):
    """A webhook delivery: ``pending`` (waiting for its first or next attempt after a
    replay), ``failed`` (the last attempt failed; another one is scheduled),
    ``delivered`` (the receiver answered 2xx), ``given_up`` (no attempt left)."""

    PENDING = "pending", "Pending"
    FAILED = "failed", "Failed, will retry"
    DELIVERED = "delivered", "Delivered"
    GIVEN_UP = "given_up", "Given up"


class AutomationEventType(models.TextChoices):
    ENDPOINT_CREATED = "endpoint_created"
    ENDPOINT_CHANGED = "endpoint_changed"
    ENDPOINT_DISABLED = "endpoint_disabled"
    ENDPOINT_ENABLED = "endpoint_enabled"
    SECRET_ROTATED = "secret_rotated"  # noqa: S105 - an event type, not a secret
    DELIVERY_REPLAYED = "delivery_replayed"
    MACRO_SAVED = "macro_saved"
    RULE_SAVED = "rule_saved"
    RULE_SWITCHED = "rule_switched"
    RULE_MOVED = "rule_moved"
    RULE_FIRED = "rule_fired"


class RuleTrigger(models.TextChoices):
    """What starts a rule: an event the product publishes (docs/events.md), or the
    periodic check of how long a case has been in a status. ``contract_expiring`` is
    about a contract, not a case (``rules.CONTRACT_TRIGGERS``)."""

    CASE_OPENED = "case_opened", "Case opened"
    CUSTOMER_REPLIED = "customer_replied", "Customer replied"
    AGENT_REPLIED = "agent_replied", "Agent replied"
    STATUS_CHANGED = "status_changed", "Status changed"
    SLA_WARNING = "sla_warning", "SLA warning"
    SLA_BREACHED = "sla_breached", "SLA breach"
    CSAT_ANSWERED = "csat_answered", "Satisfaction survey answered"
    BALANCE_LOW = "balance_low", "Balance low"
    BALANCE_EXHAUSTED = "balance_exhausted", "Balance exhausted"
    CONTRACT_EXPIRING = "contract_expiring", "Contract expiring"
    IN_STATUS_FOR = "in_status_for", "Case in a status for N business hours"


class FiringStatus(models.TextChoices):
    """What became of one firing: its actions ``applied``; ``failed`` (an action was
    refused: nothing of the rule was applied); ``stopped`` by the loop guard."""

    APPLIED = "applied", "Applied"
    FAILED = "failed", "Failed"
    STOPPED = "stopped", "Stopped by the loop guard"
