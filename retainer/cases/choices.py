from django.db import models


class CaseStatus(models.TextChoices):
    NEW = "new", "New"
    OPEN = "open", "Open"
    WAITING_ON_CUSTOMER = "waiting_on_customer", "Waiting on customer"
    WAITING_ON_VENDOR = "waiting_on_vendor", "Waiting on vendor"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"
    CANCELLED = "cancelled", "Cancelled"


class CaseType(models.TextChoices):
    QUESTION = "question", "Question"
    HOW_TO = "how_to", "How-to"
    DEFECT = "defect", "Defect"
    FEATURE_REQUEST = "feature_request", "Feature request"
    SERVICES = "services", "Services"


class Severity(models.IntegerChoices):
    CRITICAL = 1, "1 – Critical"
    HIGH = 2, "2 – High"
    MEDIUM = 3, "3 – Medium"
    LOW = 4, "4 – Low"


class Priority(models.TextChoices):
    LOW = "low", "Low"
    NORMAL = "normal", "Normal"
    HIGH = "high", "High"
    URGENT = "urgent", "Urgent"


class RootCause(models.TextChoices):
    """Why the case happened: the prevention data managers steer by."""

    HOW_TO = "how_to", "How-to / usability"
    DOCUMENTATION = "documentation", "Documentation"
    DEFECT = "defect", "Defect"
    CONFIGURATION = "configuration", "Configuration"
    ENVIRONMENT = "environment", "Environment"
    THIRD_PARTY = "third_party", "Third-party"
    FEATURE_GAP = "feature_gap", "Feature gap"


class DefectStatus(models.TextChoices):
    REPORTED = "reported", "Reported"
    CONFIRMED = "confirmed", "Confirmed"
    FIX_SCHEDULED = "fix_scheduled", "Fix scheduled"
    FIXED = "fixed", "Fixed"
    WONT_FIX = "wont_fix", "Won't fix"


class CsatRating(models.TextChoices):
    GOOD = "good", "Good"
    NEUTRAL = "neutral", "Neutral"
    BAD = "bad", "Bad"


class CaseEventType(models.TextChoices):
    OPENED = "opened"
    DECISION_RECORDED = "decision_recorded"
    DECISION_OVERRIDDEN = "decision_overridden"
    INCIDENT_CONSUMED = "incident_consumed"
    INCIDENT_CREDITED = "incident_credited"
    CONSUMPTION_REFUSED = "consumption_refused"
    STATUS_CHANGED = "status_changed"
    FIELDS_CHANGED = "fields_changed"
    ASSIGNED = "assigned"
    REPLIED = "replied"
    NOTE_ADDED = "note_added"
    ATTACHMENT_ADDED = "attachment_added"
    TIME_LOGGED = "time_logged"
    TIME_CHANGED = "time_changed"
    TIME_DELETED = "time_deleted"
    DEFECT_LINKED = "defect_linked"
    FIX_AVAILABLE = "fix_available"
    CONTRACT_CHANGED = "contract_changed"
    CSAT_ANSWERED = "csat_answered"
    SLA_STARTED = "sla_started"
    SLA_WARNING = "sla_warning"
    SLA_BREACHED = "sla_breached"
    SLA_MET = "sla_met"
    SLA_PAUSED = "sla_paused"
    SLA_RESUMED = "sla_resumed"
    SLA_ACTION_TAKEN = "sla_action_taken"


class ClockKind(models.TextChoices):
    FIRST_RESPONSE = "first_response", "First response"
    NEXT_RESPONSE = "next_response", "Next response"
    RESOLUTION = "resolution", "Resolution"


class SlaState(models.TextChoices):
    """Where a clock stands, for queues and colours."""

    RUNNING = "running", "On track"
    WARNING = "warning", "Breaching soon"
    BREACHED = "breached", "Breached"
    PAUSED = "paused", "Paused"
    MET = "met", "Met"


class SlaAction(models.TextChoices):
    """What happens to a case when one of its clocks warns or breaches (per target)."""

    NONE = "none", "Nothing (the event only)"
    NOTIFY_ASSIGNEE = "notify_assignee", "E-mail the assignee"
    ESCALATE = "escalate", "Move to the escalation team"
    RAISE_PRIORITY = "raise_priority", "Raise the priority one step"
