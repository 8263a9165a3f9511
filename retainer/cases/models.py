"""Cases and everything worked on them: messages, attachments, time, defects, CSAT and
the append-only case history.

Foreign keys to people, organizations, contracts and the catalog are ``PROTECT``: a
case's history never disappears because someone was removed.
"""

from __future__ import annotations

import secrets

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from retainer.accounts.models import Contact, Organization, Team, User
from retainer.cases.choices import (
    CaseEventType,
    CaseStatus,
    CaseType,
    ClockKind,
    CsatRating,
    DefectStatus,
    Priority,
    RootCause,
    Severity,
    SlaAction,
)
from retainer.catalog.models import Environment, Product, Release
from retainer.contracts.choices import Channel, Outcome
from retainer.contracts.models import Contract, EntitlementDecision
from retainer.lib.timezones import validate_time_zone

REFERENCE_OFFSET = 10000


def new_public_id() -> str:
    """128 random bits, URL-safe: case URLs cannot be guessed or enumerated."""
    return secrets.token_urlsafe(16)


class Defect(models.Model):
    """A product problem; many cases link to one, and its fix release closes the loop."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="defects")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    status = models.CharField(
        max_length=20, choices=DefectStatus.choices, default=DefectStatus.REPORTED
    )
    affected_releases = models.ManyToManyField(Release, blank=True, related_name="defects")
    fix_release = models.ForeignKey(
        Release, on_delete=models.PROTECT, null=True, blank=True, related_name="fixed_defects"
    )
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"DEF-{self.pk}: {self.title}"


class Case(models.Model):
    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    # Each index costs every intake a page write: a column led by a composite index
    # below, or only looked up when a rarely deleted row is deleted, has none of its own.
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="cases", db_index=False
    )
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="cases")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="cases")
    release = models.ForeignKey(
        Release, on_delete=models.PROTECT, null=True, blank=True, related_name="cases"
    )
    environment = models.ForeignKey(
        Environment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        db_index=False,
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    type = models.CharField(max_length=20, choices=CaseType.choices, default=CaseType.QUESTION)
    severity = models.PositiveSmallIntegerField(choices=Severity.choices, default=Severity.MEDIUM)
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    subject = models.CharField(max_length=200)
    description = models.TextField()
    modified_source = models.BooleanField(default=False)
    third_party = models.BooleanField(default=False)
    status = models.CharField(max_length=20, choices=CaseStatus.choices, default=CaseStatus.NEW)
    queue = models.ForeignKey(
        Team, on_delete=models.PROTECT, null=True, blank=True, related_name="cases"
    )
    assignee = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_cases",
        db_index=False,
    )
    tags = models.JSONField(default=list, blank=True)
    category = models.CharField(max_length=60, blank=True)
    root_cause = models.CharField(max_length=20, choices=RootCause.choices, blank=True)
    watchers = models.ManyToManyField(Contact, blank=True, related_name="watched_cases")
    defect = models.ForeignKey(
        Defect, on_delete=models.PROTECT, null=True, blank=True, related_name="cases"
    )

    # The entitlement decision taken at intake, and its effect (kept in step by actions).
    decision = models.OneToOneField(
        EntitlementDecision, on_delete=models.PROTECT, null=True, blank=True, related_name="case"
    )
    entitlement = models.CharField(max_length=20, choices=Outcome.choices, blank=True)
    contract = models.ForeignKey(
        Contract, on_delete=models.PROTECT, null=True, blank=True, related_name="cases"
    )
    incident_version = models.PositiveIntegerField(
        default=0, help_text="Bumped for each incident consumption; part of the ledger key."
    )
    incident_consumed = models.BooleanField(default=False)

    opened_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(default=timezone.now)
    first_response_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["organization", "status"]),
            models.Index(fields=["assignee", "status"]),
            models.Index(fields=["status", "severity", "id"]),
            # The console's sort orders.
            models.Index(fields=["severity", "-id"], name="cases_case_severity_order"),
            models.Index(fields=["-updated_at", "-id"], name="cases_case_updated_order"),
        ]

    def __str__(self) -> str:
        return f"{self.reference}: {self.subject}"

    @property
    def reference(self) -> str:
        return f"RT-{REFERENCE_OFFSET + (self.pk or 0)}"

    @property
    def incident_key(self) -> str:
        return f"case:{self.pk}:incident:v{self.incident_version}"


class CaseMessage(models.Model):
    """A public reply or an internal note, written by an agent or by a contact."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="messages")
    author = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    body = models.TextField()
    is_internal = models.BooleanField(default=False)
    by_customer = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~(models.Q(is_internal=True) & models.Q(by_customer=True)),
                name="cases_message_customer_never_internal",
            )
        ]

    def __str__(self) -> str:
        return f"{'Note' if self.is_internal else 'Reply'} on case {self.case_id}"


class CaseAttachment(models.Model):
    """A file on a case, stored outside the web root under a server-generated name."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="attachments")
    message = models.ForeignKey(
        CaseMessage, on_delete=models.PROTECT, null=True, blank=True, related_name="attachments"
    )
    storage_name = models.CharField(max_length=200, unique=True)
    display_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    is_internal = models.BooleanField(default=False)
    uploaded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.display_name


class TimeEntry(models.Model):
    """Work on a case. Billable minutes draw on the case's contract through the ledger.

    Edits and deletions never rewrite the ledger: the consumption of version ``n`` is
    reversed and version ``n + 1`` consumed (key ``time-entry:<id>:v<n>``).
    """

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="time_entries")
    agent = models.ForeignKey(User, on_delete=models.PROTECT, related_name="time_entries")
    work_date = models.DateField()
    started_at = models.DateTimeField(null=True, blank=True)
    minutes = models.PositiveIntegerField()
    billable = models.BooleanField(default=True)
    note = models.CharField(max_length=500, blank=True)
    contract = models.ForeignKey(
        Contract, on_delete=models.PROTECT, null=True, blank=True, related_name="time_entries"
    )
    version = models.PositiveIntegerField(default=1)
    covered_minutes = models.PositiveIntegerField(default=0)
    overage_minutes = models.PositiveIntegerField(default=0)
    is_deleted = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-work_date", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(minutes__gt=0), name="cases_time_entry_minutes_positive"
            )
        ]

    def __str__(self) -> str:
        return f"{self.minutes} min on case {self.case_id}"

    @property
    def ledger_key(self) -> str:
        return f"time-entry:{self.pk}:v{self.version}"


class CsatResponse(models.Model):
    """The one-question satisfaction survey, answered once per case."""

    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="csat")
    rating = models.CharField(max_length=10, choices=CsatRating.choices)
    comment = models.TextField(blank=True)
    answered_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.rating} for case {self.case_id}"


class CaseEvent(models.Model):
    """Append-only history of a case: every change, who made it and when."""

    # Led by the (case, created_at) index; five rows per intake, so no other index.
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="events", db_index=False)
    type = models.CharField(max_length=30, choices=CaseEventType.choices)
    actor = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    created_at = models.DateTimeField(default=timezone.now)
    data = models.JSONField(default=dict, blank=True)
    is_internal = models.BooleanField(
        default=False, help_text="Hidden from the customer (time, notes, decisions' internals)."
    )

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["case", "created_at"])]

    def __str__(self) -> str:
        return f"{self.type} on case {self.case_id}"


class BusinessCalendar(models.Model):
    """When SLA clocks run: working hours per weekday in a time zone, minus holidays.

    ``hours`` maps a weekday (``"0"`` = Monday … ``"6"``) to ``[["09:00", "18:00"], …]``.
    With ``use_customer_time_zone`` the hours are read in the organization's zone.
    """

    name = models.CharField(max_length=100, unique=True)
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    use_customer_time_zone = models.BooleanField(default=False)
    always_open = models.BooleanField("24×7", default=False)
    hours = models.JSONField(default=dict, blank=True)
    holidays = models.JSONField(default=list, blank=True, help_text="Local dates, YYYY-MM-DD.")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from retainer.cases.sla import calendar_from_row

        try:
            calendar_from_row(self, self.time_zone)
        except (ValueError, TypeError) as exc:
            raise ValidationError({"hours": str(exc)}) from None


class SlaTarget(models.Model):
    """Response and resolution targets for one plan and severity, in business minutes.

    A target without a plan is the default for contracts sold without one (and for cases
    without a contract).
    """

    plan = models.ForeignKey(
        "contracts.SupportPlan",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sla_targets",
    )
    severity = models.PositiveSmallIntegerField(choices=Severity.choices)
    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.PROTECT, related_name="targets")
    first_response_minutes = models.PositiveIntegerField()
    next_response_minutes = models.PositiveIntegerField(null=True, blank=True)
    resolution_minutes = models.PositiveIntegerField()
    warning_percent = models.PositiveSmallIntegerField(
        default=80, help_text="Warn when this share of the target has elapsed."
    )
    # What the SLA scan does to the case when one of its clocks warns or breaches.
    warning_action = models.CharField(
        max_length=20, choices=SlaAction.choices, default=SlaAction.NONE
    )
    breach_action = models.CharField(
        max_length=20, choices=SlaAction.choices, default=SlaAction.NONE
    )
    escalation_team = models.ForeignKey(
        Team, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["plan_id", "severity"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "severity"],
                name="cases_sla_target_unique",
                violation_error_message="This plan already has a target for this severity.",
            ),
            models.UniqueConstraint(
                fields=["severity"],
                condition=models.Q(plan__isnull=True),
                name="cases_sla_default_target_unique",
                violation_error_message="There is already a default target for this severity.",
            ),
            models.CheckConstraint(
                condition=models.Q(warning_percent__gte=1) & models.Q(warning_percent__lte=99),
                name="cases_sla_warning_percent_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plan or 'Default'} · severity {self.severity}"

    def clean(self) -> None:
        escalates = SlaAction.ESCALATE in (self.warning_action, self.breach_action)
        if escalates and self.escalation_team_id is None:
            raise ValidationError({"escalation_team": "Choose the team to escalate to."})


class SlaClock(models.Model):
    """One running target of a case: its due time, warning time, and what became of it.

    ``due_at`` and ``warn_at`` are recomputed whenever a pause ends, so a clock that waited
    on the customer is due later by exactly the paused business time.
    """

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="clocks")
    kind = models.CharField(max_length=20, choices=ClockKind.choices)
    target = models.ForeignKey(SlaTarget, on_delete=models.PROTECT, related_name="+")
    target_minutes = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    due_at = models.DateTimeField(null=True, blank=True)  # led by stopped_at's index
    warn_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    warned_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [models.Index(fields=["stopped_at", "due_at"])]

    def __str__(self) -> str:
        return f"{self.kind} of case {self.case_id}"

    @property
    def is_running(self) -> bool:
        return self.stopped_at is None


class CasePause(models.Model):
    """A span while the case waited on the customer: SLA clocks do not run."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="pauses")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["started_at", "id"]

    def __str__(self) -> str:
        return f"pause of case {self.case_id} from {self.started_at:%Y-%m-%d %H:%M}"


class RunningTimer(models.Model):
    """An agent's started timer on a case; stopping it logs the elapsed time.

    Kept on the server so it survives page reloads and follows the agent across tabs.
    One timer per agent at a time.
    """

    agent = models.OneToOneField(User, on_delete=models.CASCADE, related_name="running_timer")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="running_timers")
    started_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"timer of {self.agent_id} on case {self.case_id}"
