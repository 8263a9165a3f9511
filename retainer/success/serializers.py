"""Explicit input and output shapes of the sales and customer-success API. Money is a
decimal string with its currency; text inputs are bounded (``lib.limits``)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from retainer.accounts.models import Contact, Organization, Team, User
from retainer.catalog.models import Product
from retainer.contracts.choices import Tier
from retainer.contracts.models import SupportPlan, TrainingRecord
from retainer.lib.api import IntegerField, TextField
from retainer.lib.limits import EMAIL_MAX_LENGTH, SUBJECT_MAX_LENGTH
from retainer.lib.money import CURRENCY_CHOICES
from retainer.success.choices import (
    CourseLevel,
    InteractionKind,
    LeadSource,
    LeadStatus,
    StageKind,
)
from retainer.success.models import (
    Course,
    Enrollment,
    Interaction,
    Lead,
    LicenseUsage,
    Milestone,
    OnboardingPlan,
    OnboardingStep,
    OnboardingTemplate,
    Opportunity,
    PerceptionSurvey,
    Stage,
    TrainingSession,
)


def _staff() -> serializers.PrimaryKeyRelatedField:
    return serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_staff=True, is_service_account=False),
        required=False,
        allow_null=True,
    )


def amount(**kwargs: object) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=14, decimal_places=4, **kwargs)  # type: ignore[arg-type]


# --- Leads ---------------------------------------------------------------------------------


class LeadIn(serializers.Serializer):
    company = serializers.CharField(max_length=200)
    contact_name = serializers.CharField(max_length=200)
    email = serializers.EmailField(max_length=EMAIL_MAX_LENGTH)
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True)
    source = serializers.ChoiceField(choices=LeadSource.choices, required=False)  # type: ignore[assignment]
    status = serializers.ChoiceField(
        choices=LeadStatus.choices,
        required=False,
        help_text="Not `converted`: a lead is converted by converting it.",
    )
    owner = _staff()
    currency = serializers.ChoiceField(choices=CURRENCY_CHOICES, required=False)
    notes = TextField(required=False, allow_blank=True)


class LeadOut(serializers.ModelSerializer):
    class Meta:
        model = Lead
        fields = [
            "id",
            "source",
            "status",
            "owner",
            "company",
            "contact_name",
            "email",
            "phone",
            "currency",
            "notes",
            "organization",
            "contact",
            "created_at",
            "converted_at",
        ]


class ConvertIn(serializers.Serializer):
    open_opportunity = serializers.BooleanField(
        required=False, default=True, help_text="Also open an opportunity in the first stage."
    )


class ConvertOut(serializers.Serializer):
    lead = LeadOut(read_only=True)
    organization = serializers.IntegerField(read_only=True)
    contact = serializers.IntegerField(read_only=True)
    opportunity = serializers.IntegerField(read_only=True, allow_null=True)


# --- Stages --------------------------------------------------------------------------------


class StageIn(serializers.Serializer):
    name = serializers.CharField(max_length=60)
    order = IntegerField(min_value=0, max_value=32767)
    probability = IntegerField(
        min_value=0, max_value=100, help_text="Win probability in percent, 0 to 100."
    )
    kind = serializers.ChoiceField(choices=StageKind.choices, required=False)
    is_active = serializers.BooleanField(required=False)


class StageOut(serializers.ModelSerializer):
    class Meta:
        model = Stage
        fields = ["id", "name", "order", "probability", "kind", "is_active"]


# --- Opportunities -------------------------------------------------------------------------


class OpportunityIn(serializers.Serializer):
    name = serializers.CharField(max_length=SUBJECT_MAX_LENGTH)
    organization = serializers.PrimaryKeyRelatedField(queryset=Organization.objects.all())
    contact = serializers.PrimaryKeyRelatedField(
        queryset=Contact.objects.all(), required=False, allow_null=True
    )
    stage = serializers.PrimaryKeyRelatedField(queryset=Stage.objects.all(), required=False)
    amount = amount(required=False, min_value=0)
    currency = serializers.ChoiceField(choices=CURRENCY_CHOICES, required=False)
    expected_close_date = serializers.DateField(required=False, allow_null=True)
    products = serializers.PrimaryKeyRelatedField(
        queryset=Product.objects.all(), many=True, required=False
    )
    plan = serializers.PrimaryKeyRelatedField(
        queryset=SupportPlan.objects.all(), required=False, allow_null=True
    )
    tier = serializers.ChoiceField(choices=Tier.choices, required=False, allow_blank=True)
    owner = _staff()
    expected_outcomes = serializers.ListField(
        child=serializers.CharField(max_length=SUBJECT_MAX_LENGTH * 5),
        required=False,
        max_length=50,
    )


class OpportunityChangeIn(OpportunityIn):
    """The fields of an open opportunity that change (not its organization or stage:
    moving has its own operation)."""

    organization = None  # type: ignore[assignment]
    stage = None  # type: ignore[assignment]


class OpportunityOut(serializers.ModelSerializer):
    stage_name = serializers.CharField(source="stage.name", read_only=True)
    probability = serializers.IntegerField(source="stage.probability", read_only=True)
    onboarding_plan = serializers.SerializerMethodField()

    class Meta:
        model = Opportunity
        fields = [
            "id",
            "name",
            "organization",
            "contact",
            "lead",
            "stage",
            "stage_name",
            "probability",
            "status",
            "amount",
            "currency",
            "expected_close_date",
            "products",
            "plan",
            "tier",
            "owner",
            "expected_outcomes",
            "lost_reason",
            "success_owner",
            "team",
            "contracts",
            "onboarding_plan",
            "created_at",
            "closed_at",
        ]

    def get_onboarding_plan(self, opportunity: Opportunity) -> int | None:
        plan = OnboardingPlan.objects.filter(opportunity=opportunity).values_list("pk", flat=True)
        return plan.first()


class MoveIn(serializers.Serializer):
    stage = serializers.PrimaryKeyRelatedField(queryset=Stage.objects.all())


class WinIn(serializers.Serializer):
    success_owner = serializers.PrimaryKeyRelatedField(queryset=User.objects.all())
    team = serializers.PrimaryKeyRelatedField(queryset=Team.objects.all())
    template = serializers.PrimaryKeyRelatedField(
        queryset=OnboardingTemplate.objects.all(), required=False, allow_null=True
    )
    start_date = serializers.DateField(required=False, allow_null=True)


class LoseIn(serializers.Serializer):
    reason = TextField()


# --- Interactions and onboarding -------------------------------------------------------------


class InteractionIn(serializers.Serializer):
    kind = serializers.ChoiceField(choices=InteractionKind.choices)
    summary = serializers.CharField(max_length=SUBJECT_MAX_LENGTH)
    body = TextField(required=False, allow_blank=True)
    occurred_at = serializers.DateTimeField(required=False, allow_null=True)
    organization = serializers.PrimaryKeyRelatedField(
        queryset=Organization.objects.all(), required=False, allow_null=True
    )
    contact = serializers.PrimaryKeyRelatedField(
        queryset=Contact.objects.all(), required=False, allow_null=True
    )
    lead = serializers.PrimaryKeyRelatedField(
        queryset=Lead.objects.all(), required=False, allow_null=True
    )
    opportunity = serializers.PrimaryKeyRelatedField(
        queryset=Opportunity.objects.all(), required=False, allow_null=True
    )


class InteractionOut(serializers.ModelSerializer):
    class Meta:
        model = Interaction
        fields = [
            "id",
            "kind",
            "summary",
            "body",
            "occurred_at",
            "author",
            "organization",
            "contact",
            "lead",
            "opportunity",
            "created_at",
        ]


class OnboardingStepOut(serializers.ModelSerializer):
    done = serializers.BooleanField(source="is_done", read_only=True)

    class Meta:
        model = OnboardingStep
        fields = ["id", "order", "title", "due_date", "done", "done_at", "done_by"]


class OnboardingPlanOut(serializers.ModelSerializer):
    template_name = serializers.CharField(source="template.name", read_only=True)
    steps = OnboardingStepOut(many=True, read_only=True)

    class Meta:
        model = OnboardingPlan
        fields = [
            "id",
            "organization",
            "opportunity",
            "template",
            "template_name",
            "success_owner",
            "team",
            "starts_on",
            "steps",
            "created_at",
        ]


class StepDoneIn(serializers.Serializer):
    done = serializers.BooleanField(help_text="true: done now; false: open again.")


# --- Licenses and usage ------------------------------------------------------------------------


class LicenseIn(serializers.Serializer):
    organization = serializers.PrimaryKeyRelatedField(
        queryset=Organization.objects.filter(is_active=True)
    )
    product = serializers.PrimaryKeyRelatedField(queryset=Product.objects.filter(is_active=True))
    edition = serializers.CharField(max_length=60)
    seats = IntegerField(min_value=1)
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()
    allow_overuse = serializers.BooleanField(required=False, default=False)


class UsageIn(serializers.Serializer):
    period = serializers.DateField(help_text="Any day of the month reported.")
    seats_in_use = IntegerField(min_value=0)
    basic_users = IntegerField(min_value=0, required=False, default=0)
    advanced_users = IntegerField(min_value=0, required=False, default=0)


class UsageOut(serializers.ModelSerializer):
    class Meta:
        model = LicenseUsage
        fields = ["period", "seats_in_use", "basic_users", "advanced_users", "reported_at"]
        read_only_fields = fields


def percent_out() -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=4, decimal_places=1, read_only=True, allow_null=True)


class LicenseOut(serializers.Serializer):
    """A license with its latest reported month and adoption (``flagged``: its
    organization's seat-weighted adoption is below the threshold)."""

    id = serializers.IntegerField(source="license.pk", read_only=True)
    organization = serializers.IntegerField(source="license.organization_id", read_only=True)
    product = serializers.IntegerField(source="license.product_id", read_only=True)
    product_name = serializers.CharField(source="license.product.name", read_only=True)
    edition = serializers.CharField(source="license.edition", read_only=True)
    seats = serializers.IntegerField(source="license.seats", read_only=True)
    starts_on = serializers.DateField(source="license.starts_on", read_only=True)
    ends_on = serializers.DateField(source="license.ends_on", read_only=True)
    allow_overuse = serializers.BooleanField(source="license.allow_overuse", read_only=True)
    latest = UsageOut(read_only=True, allow_null=True)
    adoption_pct = percent_out()
    basic_pct = percent_out()
    advanced_pct = percent_out()
    flagged = serializers.BooleanField(read_only=True)


# --- Success plans, the perception survey and health ------------------------------------------


class PlanMilestoneOut(serializers.ModelSerializer):
    owner_name = serializers.CharField(source="owner.full_name", read_only=True)
    done = serializers.BooleanField(source="is_done", read_only=True)

    class Meta:
        model = Milestone
        fields = ["id", "goal", "title", "weight", "owner", "owner_name", "due_date", "done"]
        fields += ["completed_on"]
        read_only_fields = fields


class GoalOut(serializers.Serializer):
    id = serializers.IntegerField(source="goal.pk", read_only=True)
    title = serializers.CharField(source="goal.title", read_only=True)
    description = serializers.CharField(source="goal.description", read_only=True)
    realization_pct = serializers.DecimalField(
        source="realization.pct", max_digits=4, decimal_places=1, read_only=True, allow_null=True
    )
    milestones = PlanMilestoneOut(many=True, read_only=True)


class RoiOut(serializers.Serializer):
    investment = amount(source="roi_investment", read_only=True, allow_null=True)
    return_ = amount(source="roi_return", read_only=True, allow_null=True)
    currency = serializers.CharField(source="roi_currency", read_only=True)
    note = serializers.CharField(source="roi_note", read_only=True)

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["return"] = fields.pop("return_")
        return fields


class SuccessPlanOut(serializers.Serializer):
    """A plan with its goals, milestones and realization (completed weight ÷ total
    weight, ``null`` without milestones); ``roi`` is ``null`` when none is recorded."""

    id = serializers.IntegerField(source="plan.pk", read_only=True)
    organization = serializers.IntegerField(source="plan.organization_id", read_only=True)
    owner = serializers.IntegerField(source="plan.owner_id", read_only=True, allow_null=True)
    summary = serializers.CharField(source="plan.summary", read_only=True)
    realization_pct = serializers.DecimalField(
        source="realization.pct", max_digits=4, decimal_places=1, read_only=True, allow_null=True
    )
    done_weight = serializers.IntegerField(source="realization.done_weight", read_only=True)
    total_weight = serializers.IntegerField(source="realization.total_weight", read_only=True)
    roi = serializers.SerializerMethodField()
    goals = GoalOut(many=True, read_only=True)

    @extend_schema_field(RoiOut(allow_null=True))
    def get_roi(self, view: Any) -> dict[str, Any] | None:
        return RoiOut(view.plan).data if view.plan.has_roi else None


class SuccessPlanIn(serializers.Serializer):
    owner = _staff()
    summary = TextField(required=False, allow_blank=True)
    roi_investment = amount(required=False, allow_null=True, min_value=0)
    roi_return = amount(required=False, allow_null=True, min_value=0)
    roi_currency = serializers.CharField(
        max_length=3, required=False, allow_blank=True, help_text="ISO code, e.g. EUR."
    )
    roi_note = TextField(required=False, allow_blank=True)


class SuccessPlanCreateIn(SuccessPlanIn):
    organization = serializers.PrimaryKeyRelatedField(
        queryset=Organization.objects.filter(is_active=True)
    )


class GoalIn(serializers.Serializer):
    title = serializers.CharField(max_length=SUBJECT_MAX_LENGTH)
    description = TextField(required=False, allow_blank=True)


class PlanMilestoneIn(serializers.Serializer):
    title = serializers.CharField(max_length=SUBJECT_MAX_LENGTH)
    weight = IntegerField(
        min_value=1,
        help_text="A whole number, at least 1.",
        error_messages={"min_value": "A milestone weighs at least 1."},
    )
    owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_staff=True, is_active=True, is_service_account=False)
    )
    due_date = serializers.DateField()


class PlanMilestoneDoneIn(serializers.Serializer):
    done = serializers.BooleanField(help_text="true: done; false: open again.")
    completed_on = serializers.DateField(
        required=False, allow_null=True, help_text="The day it was done; default today."
    )


class SurveyIn(serializers.Serializer):
    organization = serializers.PrimaryKeyRelatedField(
        queryset=Organization.objects.filter(is_active=True)
    )
    contact = serializers.PrimaryKeyRelatedField(
        queryset=Contact.objects.filter(is_active=True),
        required=False,
        allow_null=True,
        help_text="Empty: every active customer admin of the organization.",
    )


class SurveyOut(serializers.ModelSerializer):
    """A survey; ``link`` is the signed link to hand the contact (``null`` once
    answered)."""

    link = serializers.SerializerMethodField()

    class Meta:
        model = PerceptionSurvey
        fields = ["id", "organization", "contact", "sent_at", "answer", "comment"]
        fields += ["answered_at", "link"]
        read_only_fields = fields

    def get_link(self, survey: PerceptionSurvey) -> str | None:
        return self.context.get("links", {}).get(survey.pk)


class HealthScoreLineOut(serializers.Serializer):
    key = serializers.CharField(read_only=True)
    component = serializers.CharField(source="label", read_only=True)
    value = serializers.CharField(read_only=True)
    points = serializers.DecimalField(
        max_digits=4, decimal_places=1, read_only=True, allow_null=True
    )
    weight = serializers.IntegerField(read_only=True)
    why = serializers.CharField(read_only=True)


class PerceptionOut(serializers.Serializer):
    answered = serializers.IntegerField(read_only=True)
    positive_pct = percent_out()
    neutral_pct = percent_out()
    negative_pct = percent_out()


class HealthScoreOut(serializers.Serializer):
    """An organization's health score (``null``: no data) and each line of it."""

    organization = serializers.IntegerField(source="organization.pk", read_only=True)
    organization_name = serializers.CharField(source="organization.name", read_only=True)
    score = serializers.IntegerField(source="health.score", read_only=True, allow_null=True)
    flagged = serializers.BooleanField(source="health.flagged", read_only=True)
    lines = HealthScoreLineOut(source="health.lines", many=True, read_only=True)


# --- Proficiency ------------------------------------------------------------------------------


class CourseIn(serializers.Serializer):
    product = serializers.PrimaryKeyRelatedField(queryset=Product.objects.filter(is_active=True))
    name = serializers.CharField(max_length=120)
    level = serializers.ChoiceField(choices=CourseLevel.choices, required=False)
    duration_hours = IntegerField(min_value=1, max_value=1000)
    validity_months = IntegerField(
        min_value=0, max_value=240, required=False, help_text="0: a completion never expires."
    )
    is_active = serializers.BooleanField(required=False)


class CourseOut(serializers.ModelSerializer):
    product_name = serializers.CharField(source="product.name", read_only=True)

    class Meta:
        model = Course
        fields = [
            "id",
            "product",
            "product_name",
            "name",
            "level",
            "duration_hours",
            "validity_months",
            "is_active",
            "created_at",
        ]
        read_only_fields = fields


class TrainingSessionIn(serializers.Serializer):
    course = serializers.PrimaryKeyRelatedField(queryset=Course.objects.all())
    starts_at = serializers.DateTimeField()
    capacity = IntegerField(min_value=1, max_value=1000)
    location = serializers.CharField(max_length=200, required=False, allow_blank=True)
    online_link = serializers.URLField(max_length=500, required=False, allow_blank=True)


class TrainingSessionOut(serializers.ModelSerializer):
    course_name = serializers.CharField(source="course.name", read_only=True)
    seats_taken = serializers.IntegerField(source="taken", read_only=True)

    class Meta:
        model = TrainingSession
        fields = [
            "id",
            "course",
            "course_name",
            "starts_at",
            "location",
            "online_link",
            "capacity",
            "seats_taken",
        ]
        read_only_fields = fields


class EnrollIn(serializers.Serializer):
    email = serializers.EmailField(
        max_length=EMAIL_MAX_LENGTH, help_text="The e-mail address of an active contact."
    )


class EnrollmentOut(serializers.ModelSerializer):
    course = serializers.IntegerField(source="session.course_id", read_only=True)
    course_name = serializers.CharField(source="session.course.name", read_only=True)
    starts_at = serializers.DateTimeField(source="session.starts_at", read_only=True)
    contact_name = serializers.CharField(source="contact.full_name", read_only=True)
    organization = serializers.IntegerField(source="contact.organization_id", read_only=True)

    class Meta:
        model = Enrollment
        fields = [
            "id",
            "session",
            "course",
            "course_name",
            "starts_at",
            "contact",
            "contact_name",
            "organization",
            "status",
            "completed_on",
            "created_at",
        ]
        read_only_fields = fields


class CompleteIn(serializers.Serializer):
    completed_on = serializers.DateField(
        required=False, help_text="Default: the session's day. Not in the future."
    )


class CertificateOut(serializers.ModelSerializer):
    """A contact's training record, with whether it counts today (``current``)."""

    contact_name = serializers.CharField(source="contact.full_name", read_only=True)
    current = serializers.SerializerMethodField()

    class Meta:
        model = TrainingRecord
        fields = [
            "id",
            "contact",
            "contact_name",
            "course",
            "completed_on",
            "expires_on",
            "certificate",
            "current",
        ]
        read_only_fields = fields

    def get_current(self, record: TrainingRecord) -> bool:
        return record.is_current(timezone.localdate())
