"""Sales and the handoff to service: leads, the opportunity pipeline and its stages,
interactions with customers, and the onboarding plan a won deal starts.

Everything points at people, organizations, plans and contracts with ``PROTECT``: a lead
is disqualified rather than deleted, and a won opportunity keeps what sales knew.
"""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from retainer.accounts.models import Contact, Organization, Team, User, phone_validator
from retainer.catalog.models import Product
from retainer.contracts.choices import Tier
from retainer.contracts.models import Contract, SupportPlan
from retainer.lib.limits import EMAIL_MAX_LENGTH, SUBJECT_MAX_LENGTH
from retainer.lib.money import AmountField, CurrencyField, validate_currency, validate_non_negative
from retainer.success.choices import (
    CourseLevel,
    EnrollmentStatus,
    InteractionKind,
    LeadSource,
    LeadStatus,
    OpportunityStatus,
    Perception,
    StageKind,
    SuccessEventType,
)


class Stage(models.Model):
    """A column of the pipeline, in ``order``, with the probability (0–100 %) that a deal
    there is won. Exactly one stage is the won stage and one the lost stage; deals reach
    them only by being won or lost."""

    name = models.CharField(max_length=60, unique=True)
    order = models.PositiveSmallIntegerField(unique=True)
    probability = models.PositiveSmallIntegerField(
        help_text="Win probability in percent, 0 to 100.",
        validators=[
            MinValueValidator(0, "A probability is at least 0 percent."),
            MaxValueValidator(100, "A probability is at most 100 percent."),
        ],
    )
    kind = models.CharField(max_length=10, choices=StageKind.choices, default=StageKind.OPEN)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["order"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(probability__lte=100),
                name="success_stage_probability_at_most_100",
                violation_error_message="A probability is at most 100 percent.",
            ),
            models.UniqueConstraint(
                fields=["kind"],
                condition=~models.Q(kind=StageKind.OPEN),
                name="success_stage_one_won_one_lost",
                violation_error_message="There is already a stage of this kind.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.probability} %)"


class Lead(models.Model):
    """Someone who may buy, as sales first hears of them. Converting it creates (or
    finds) the organization and contact from these fields, so nobody types them twice."""

    source = models.CharField(max_length=20, choices=LeadSource.choices, default=LeadSource.WEB)
    status = models.CharField(max_length=20, choices=LeadStatus.choices, default=LeadStatus.NEW)
    owner = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="owned_leads",
        limit_choices_to={"is_staff": True},
    )
    company = models.CharField(max_length=200)
    contact_name = models.CharField(max_length=200)
    email = models.EmailField(max_length=EMAIL_MAX_LENGTH)
    phone = models.CharField(max_length=30, blank=True, validators=[phone_validator])
    currency = CurrencyField(
        default="EUR",
        validators=[validate_currency],
        help_text="The currency the customer would be invoiced in.",
    )
    notes = models.TextField(blank=True)
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="leads"
    )
    contact = models.ForeignKey(
        Contact, on_delete=models.PROTECT, null=True, blank=True, related_name="leads"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    converted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "-created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status=LeadStatus.CONVERTED)
                | models.Q(organization__isnull=False, contact__isnull=False),
                name="success_lead_converted_has_organization",
                violation_error_message="A converted lead names its organization and contact.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.contact_name} ({self.company})"


class Opportunity(models.Model):
    """A deal in the pipeline: what would be sold (products, the proposed support plan
    and tier), for how much, and what the customer expects from it. Winning it hands it
    to service (contract, success owner, team, onboarding plan)."""

    name = models.CharField(max_length=SUBJECT_MAX_LENGTH)
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="opportunities"
    )
    contact = models.ForeignKey(
        Contact, on_delete=models.PROTECT, null=True, blank=True, related_name="opportunities"
    )
    lead = models.ForeignKey(
        Lead, on_delete=models.PROTECT, null=True, blank=True, related_name="opportunities"
    )
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="opportunities")
    status = models.CharField(
        max_length=10, choices=OpportunityStatus.choices, default=OpportunityStatus.OPEN
    )
    amount = AmountField(default=0, validators=[validate_non_negative])
    currency = CurrencyField(default="EUR", validators=[validate_currency])
    expected_close_date = models.DateField(null=True, blank=True)
    products = models.ManyToManyField(Product, blank=True, related_name="opportunities")
    plan = models.ForeignKey(
        SupportPlan,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="opportunities",
        help_text="The support plan proposed; winning sells a contract on it.",
    )
    tier = models.CharField(max_length=10, choices=Tier.choices, blank=True)
    owner = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="owned_opportunities",
        limit_choices_to={"is_staff": True},
    )
    expected_outcomes = models.JSONField(
        default=list, blank=True, help_text="What the customer expects to achieve, one per item."
    )
    lost_reason = models.TextField(blank=True)
    success_owner = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="success_opportunities",
        help_text="The customer-success owner assigned at the handoff.",
    )
    team = models.ForeignKey(
        Team, on_delete=models.PROTECT, null=True, blank=True, related_name="opportunities"
    )
    contracts = models.ManyToManyField(Contract, blank=True, related_name="opportunities")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "opportunities"
        indexes = [models.Index(fields=["status", "stage"])]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status=OpportunityStatus.LOST) | ~models.Q(lost_reason=""),
                name="success_opportunity_lost_has_reason",
                violation_error_message="A lost opportunity says why.",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Interaction(models.Model):
    """A call, meeting, e-mail or note, on the timeline of the organization, contact,
    lead and opportunity it names (at least one)."""

    kind = models.CharField(max_length=10, choices=InteractionKind.choices)
    summary = models.CharField(max_length=SUBJECT_MAX_LENGTH)
    body = models.TextField(blank=True)
    occurred_at = models.DateTimeField(default=timezone.now)
    author = models.ForeignKey(User, on_delete=models.PROTECT, related_name="interactions")
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="interactions"
    )
    contact = models.ForeignKey(
        Contact, on_delete=models.PROTECT, null=True, blank=True, related_name="interactions"
    )
    lead = models.ForeignKey(
        Lead, on_delete=models.PROTECT, null=True, blank=True, related_name="interactions"
    )
    opportunity = models.ForeignKey(
        Opportunity, on_delete=models.PROTECT, null=True, blank=True, related_name="interactions"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "-occurred_at"]),
            models.Index(fields=["lead", "-occurred_at"]),
            models.Index(fields=["opportunity", "-occurred_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(organization__isnull=False)
                | models.Q(contact__isnull=False)
                | models.Q(lead__isnull=False)
                | models.Q(opportunity__isnull=False),
                name="success_interaction_has_subject",
                violation_error_message="An interaction is about an organization, a contact, "
                "a lead or an opportunity.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.summary}"


class OnboardingTemplate(models.Model):
    """The steps a new customer goes through (kickoff, installation, training, go-live),
    each due a number of days after the handoff."""

    name = models.CharField(max_length=100, unique=True)
    is_default = models.BooleanField(default=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=models.Q(is_default=True),
                name="success_one_default_onboarding_template",
            )
        ]

    def __str__(self) -> str:
        return self.name


class OnboardingTemplateStep(models.Model):
    template = models.ForeignKey(OnboardingTemplate, on_delete=models.CASCADE, related_name="steps")
    order = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=SUBJECT_MAX_LENGTH)
    due_after_days = models.PositiveSmallIntegerField(
        help_text="Days after the handoff the step is due."
    )

    class Meta:
        ordering = ["template", "order"]
        constraints = [
            models.UniqueConstraint(
                fields=["template", "order"], name="success_template_step_order_unique"
            )
        ]

    def __str__(self) -> str:
        return self.title


class OnboardingPlan(models.Model):
    """One customer's onboarding, made from a template when its opportunity was won."""

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="onboarding_plans"
    )
    opportunity = models.OneToOneField(
        Opportunity, on_delete=models.PROTECT, related_name="onboarding_plan"
    )
    template = models.ForeignKey(OnboardingTemplate, on_delete=models.PROTECT, related_name="plans")
    success_owner = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="onboarding_plans"
    )
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="onboarding_plans")
    starts_on = models.DateField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Onboarding of {self.organization_id and self.organization}"


class OnboardingStep(models.Model):
    plan = models.ForeignKey(OnboardingPlan, on_delete=models.PROTECT, related_name="steps")
    order = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=SUBJECT_MAX_LENGTH)
    due_date = models.DateField()
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["plan", "order"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "order"], name="success_step_order_unique")
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_done(self) -> bool:
        return self.done_at is not None


class SuccessEvent(models.Model):
    """Append-only history of leads, opportunities, interactions and onboarding.

    Written only through ``retainer.lib.events.record`` with the typed events of
    ``success/events.py``, so every row has its outbox message."""

    type = models.CharField(max_length=40, choices=SuccessEventType.choices)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    lead = models.ForeignKey(
        Lead, on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    opportunity = models.ForeignKey(
        Opportunity, on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    onboarding_plan = models.ForeignKey(
        OnboardingPlan, on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.type} at {self.created_at:%Y-%m-%d %H:%M}"


class License(models.Model):
    """Seats of a product sold to an organization for a term. Usage is reported per month
    (``LicenseUsage``); adoption is what ``success/adoption.py`` computes from it."""

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="licenses"
    )
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="licenses")
    edition = models.CharField(max_length=60, help_text="The edition sold, e.g. Enterprise.")
    seats = models.PositiveIntegerField(
        validators=[MinValueValidator(1, "A license has at least one seat.")]
    )
    starts_on = models.DateField()
    ends_on = models.DateField()
    allow_overuse = models.BooleanField(
        default=False, help_text="Whether usage above the seats sold may be reported."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["organization", "product", "-starts_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(seats__gte=1),
                name="success_license_has_seats",
                violation_error_message="A license has at least one seat.",
            ),
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")),
                name="success_license_term_ordered",
                violation_error_message="A license ends on or after its start.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product_id and self.product} {self.edition} × {self.seats}"


class LicenseUsage(models.Model):
    """What a license was used for in one month (``period`` is the month's first day):
    seats in use, and users on basic and on advanced features. A new report for the same
    month replaces these figures (the previous ones stay in the event history)."""

    license = models.ForeignKey(License, on_delete=models.PROTECT, related_name="usages")
    period = models.DateField(help_text="The first day of the month reported.")
    seats_in_use = models.PositiveIntegerField()
    basic_users = models.PositiveIntegerField(default=0)
    advanced_users = models.PositiveIntegerField(default=0)
    reported_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["license", "-period"]
        constraints = [
            models.UniqueConstraint(
                fields=["license", "period"], name="success_license_usage_one_per_period"
            )
        ]

    def __str__(self) -> str:
        return f"{self.period:%Y-%m}: {self.seats_in_use} seats in use"


class SuccessPlan(models.Model):
    """What an organization wants to achieve with us, agreed with it: goals, each with
    weighted milestones, and an optional return-on-investment record. One per
    organization; its realization is ``success/realization.py``."""

    organization = models.OneToOneField(
        Organization, on_delete=models.PROTECT, related_name="success_plan"
    )
    owner = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="success_plans",
        limit_choices_to={"is_staff": True},
        help_text="The success manager who keeps the plan.",
    )
    summary = models.TextField(blank=True)
    roi_investment = AmountField(
        null=True,
        blank=True,
        validators=[validate_non_negative],
        help_text="What the customer invested.",
    )
    roi_return = AmountField(
        null=True, blank=True, validators=[validate_non_negative], help_text="What it returned."
    )
    roi_currency = CurrencyField(blank=True, validators=[validate_currency])
    roi_note = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["organization__name"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(roi_investment__isnull=True, roi_return__isnull=True)
                    | ~models.Q(roi_currency="")
                ),
                name="success_plan_roi_has_currency",
                violation_error_message="An ROI record names its currency.",
            )
        ]

    def __str__(self) -> str:
        return f"Success plan of {self.organization_id and self.organization}"

    @property
    def has_roi(self) -> bool:
        return self.roi_investment is not None or self.roi_return is not None


class SuccessGoal(models.Model):
    """One outcome the customer agreed to pursue, measured by its milestones."""

    plan = models.ForeignKey(SuccessPlan, on_delete=models.PROTECT, related_name="goals")
    title = models.CharField(max_length=SUBJECT_MAX_LENGTH)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["plan", "created_at", "id"]

    def __str__(self) -> str:
        return self.title


class Milestone(models.Model):
    """A step towards a goal, weighing ``weight`` (a whole number, at least 1) in the
    plan's realization; done on ``completed_on``."""

    goal = models.ForeignKey(SuccessGoal, on_delete=models.PROTECT, related_name="milestones")
    title = models.CharField(max_length=SUBJECT_MAX_LENGTH)
    weight = models.PositiveIntegerField(
        default=1, validators=[MinValueValidator(1, "A milestone weighs at least 1.")]
    )
    owner = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        related_name="milestones",
        limit_choices_to={"is_staff": True},
    )
    due_date = models.DateField()
    completed_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["goal", "due_date", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(weight__gte=1),
                name="success_milestone_weight_at_least_1",
                violation_error_message="A milestone weighs at least 1.",
            )
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_done(self) -> bool:
        return self.completed_on is not None


class PerceptionSurvey(models.Model):
    """One success-perception question sent to one contact of an organization, answered
    once through its signed link: positive, neutral, or none/negative."""

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="perception_surveys"
    )
    contact = models.ForeignKey(
        Contact, on_delete=models.PROTECT, related_name="perception_surveys"
    )
    sent_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, related_name="+")
    sent_at = models.DateTimeField(default=timezone.now)
    answer = models.CharField(max_length=10, choices=Perception.choices, blank=True)
    comment = models.TextField(blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-sent_at", "-id"]
        indexes = [models.Index(fields=["organization", "-sent_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(answer="", answered_at__isnull=True)
                | (~models.Q(answer="") & models.Q(answered_at__isnull=False)),
                name="success_survey_answer_has_time",
                violation_error_message="An answered survey has its answer and its time.",
            )
        ]

    def __str__(self) -> str:
        return f"Perception survey {self.pk} to {self.contact_id and self.contact}"

    @property
    def is_answered(self) -> bool:
        return self.answered_at is not None


# --- Proficiency: courses, sessions, enrollments ---------------------------------------------


class Course(models.Model):
    """A training course on a product. Completing it gives the contact a training record
    named ``name`` (``contracts.TrainingRecord``), which trained-only plans require by
    that name; it counts for ``validity_months`` (0: it never expires)."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="courses")
    name = models.CharField(
        max_length=120,
        unique=True,
        help_text="The course's name, as trained-only plans require it.",
    )
    level = models.CharField(max_length=10, choices=CourseLevel.choices, default=CourseLevel.BASIC)
    duration_hours = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1, "A course lasts at least one hour.")]
    )
    validity_months = models.PositiveSmallIntegerField(
        default=0, help_text="How long a completion counts, in months; 0: it never expires."
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(duration_hours__gte=1),
                name="success_course_has_duration",
                violation_error_message="A course lasts at least one hour.",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class TrainingSession(models.Model):
    """One date of a course, at a place or online, for at most ``capacity`` contacts
    (enrollments that are not cancelled take a seat)."""

    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="sessions")
    starts_at = models.DateTimeField()
    location = models.CharField(max_length=200, blank=True, help_text="Where it takes place.")
    online_link = models.URLField(max_length=500, blank=True, help_text="Or the online link.")
    capacity = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1, "A session has room for at least one contact.")]
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["starts_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(capacity__gte=1),
                name="success_session_has_capacity",
                violation_error_message="A session has room for at least one contact.",
            ),
            models.CheckConstraint(
                condition=~models.Q(location="", online_link=""),
                name="success_session_has_place",
                violation_error_message="Give the session a location or an online link.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.course_id and self.course} on {self.starts_at:%Y-%m-%d %H:%M}"


class Enrollment(models.Model):
    """A contact's seat in a session, once per session; completing it writes (or renews)
    the contact's training record of the course."""

    session = models.ForeignKey(
        TrainingSession, on_delete=models.PROTECT, related_name="enrollments"
    )
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="enrollments")
    status = models.CharField(
        max_length=12, choices=EnrollmentStatus.choices, default=EnrollmentStatus.ENROLLED
    )
    completed_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["session__starts_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "contact"],
                name="success_enrollment_once_per_session",
                violation_error_message="This contact is already enrolled in this session.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contact_id and self.contact} in {self.session_id and self.session}"
