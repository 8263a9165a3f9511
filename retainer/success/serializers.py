"""Explicit input and output shapes of the sales and customer-success API. Money is a
decimal string with its currency; text inputs are bounded (``lib.limits``)."""

from __future__ import annotations

from rest_framework import serializers

from retainer.accounts.models import Contact, Organization, Team, User
from retainer.catalog.models import Product
from retainer.contracts.choices import Tier
from retainer.contracts.models import SupportPlan
from retainer.lib.api import IntegerField, TextField
from retainer.lib.limits import EMAIL_MAX_LENGTH, SUBJECT_MAX_LENGTH
from retainer.lib.money import CURRENCY_CHOICES
from retainer.success.choices import InteractionKind, LeadSource, LeadStatus, StageKind
from retainer.success.models import (
    Interaction,
    Lead,
    LicenseUsage,
    OnboardingPlan,
    OnboardingStep,
    OnboardingTemplate,
    Opportunity,
    Stage,
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
