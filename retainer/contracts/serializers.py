"""Explicit input and output shapes of the contracts API.

Allowance quantities are integers in the contract's unit: incidents, or minutes for
hour-based contracts. Money is a decimal string with its currency.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from retainer.accounts.models import Contact, Organization
from retainer.catalog.models import Environment, Product, Release
from retainer.contracts.choices import (
    AllowanceUnit,
    AuthorizationPolicy,
    Channel,
    DecrementPoint,
    ExhaustionPolicy,
    Outcome,
    PriceBasis,
    QuantityUnit,
    SourceType,
    ThresholdKind,
    Tier,
)
from retainer.contracts.models import (
    NAME_MAX_LENGTH,
    Contract,
    ContractEvent,
    EntitlementDecision,
    LedgerEntry,
    SupportPlan,
    TrainingRecord,
)
from retainer.lib.api import IntegerField
from retainer.lib.events import Audience, parse
from retainer.lib.money import CURRENCY_CHOICES


def amount(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=14, decimal_places=4, **kwargs)


class TermsIn(serializers.Serializer):
    """Plan terms; every field is optional and falls back to the preset's default."""

    tier = serializers.ChoiceField(choices=Tier.choices, required=False, allow_blank=True)
    unit = serializers.ChoiceField(choices=AllowanceUnit.choices, required=False)
    quantity = IntegerField(required=False, help_text="Incidents, or minutes.")
    term_months = IntegerField(required=False, allow_null=True)
    term_days = IntegerField(required=False, allow_null=True)
    decrement_point = serializers.ChoiceField(choices=DecrementPoint.choices, required=False)
    exhaustion_policy = serializers.ChoiceField(choices=ExhaustionPolicy.choices, required=False)
    overage_rate = amount(required=False, help_text="Per hour, or per incident.")
    low_balance_kind = serializers.ChoiceField(choices=ThresholdKind.choices, required=False)
    low_balance_threshold = IntegerField(
        required=False,
        help_text="Incidents, or hours (not minutes) for hour contracts; or a percent.",
    )
    rollover_cap = IntegerField(required=False, allow_null=True)
    allowance_expires = serializers.BooleanField(required=False)
    channels = serializers.ListField(
        child=serializers.ChoiceField(choices=Channel.choices), required=False
    )
    authorization_policy = serializers.ChoiceField(
        choices=AuthorizationPolicy.choices, required=False
    )
    max_named_contacts = IntegerField(required=False, allow_null=True)
    required_course = serializers.CharField(required=False, allow_blank=True, max_length=120)
    price_basis = serializers.ChoiceField(choices=PriceBasis.choices, required=False)
    price_amount = amount(required=False)
    price_percent = amount(required=False)
    named_engineer_price = amount(required=False)
    extra_contact_price = amount(required=False)
    uplift_percent = amount(required=False)
    currency = serializers.ChoiceField(choices=CURRENCY_CHOICES, required=False)
    includes_updates = serializers.BooleanField(required=False)


class PlanIn(serializers.Serializer):
    code = serializers.SlugField(max_length=60)
    name = serializers.CharField(max_length=120)
    preset = serializers.CharField(max_length=20)
    products = serializers.PrimaryKeyRelatedField(
        queryset=Product.objects.all(), many=True, required=False
    )
    terms = TermsIn(required=False)


class PlanVersionIn(serializers.Serializer):
    name = serializers.CharField(max_length=120, required=False)
    products = serializers.PrimaryKeyRelatedField(
        queryset=Product.objects.all(), many=True, required=False
    )
    terms = TermsIn(required=False)


class PlanOut(serializers.ModelSerializer):
    class Meta:
        model = SupportPlan
        fields = [
            "id",
            "code",
            "version",
            "name",
            "tier",
            "tier_rank",
            "preset",
            "unit",
            "currency",
            "is_current",
            "previous",
            "products",
            "terms",
            "created_at",
        ]


class ContractIn(serializers.Serializer):
    organization = serializers.PrimaryKeyRelatedField(
        queryset=Organization.objects.filter(is_active=True)
    )
    preset = serializers.CharField(max_length=40)
    plan = serializers.PrimaryKeyRelatedField(
        queryset=SupportPlan.objects.all(), required=False, allow_null=True
    )
    start_date = serializers.DateField()
    end_date = serializers.DateField(required=False, allow_null=True)
    purchase_date = serializers.DateField(required=False, allow_null=True)
    purchase_price = amount(required=False, allow_null=True, min_value=Decimal(0))
    covered_products = serializers.PrimaryKeyRelatedField(
        queryset=Product.objects.all(), many=True, required=False
    )
    named_contacts = serializers.PrimaryKeyRelatedField(
        queryset=Contact.objects.filter(is_active=True), many=True, required=False
    )
    named_engineer = serializers.BooleanField(required=False)
    extra_named_contacts = IntegerField(required=False, min_value=0)
    reference = serializers.CharField(required=False, allow_blank=True, max_length=60)
    name = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=NAME_MAX_LENGTH,
        help_text="Empty: “<organization> — <plan or kind> <start year>”.",
    )
    terms = TermsIn(required=False)


class ContractOut(serializers.ModelSerializer):
    class Meta:
        model = Contract
        fields = [
            "id",
            "name",
            "organization",
            "plan",
            "preset",
            "unit",
            "status",
            "start_date",
            "end_date",
            "purchase_date",
            "purchase_price",
            "price",
            "currency",
            "balance",
            "low_balance_at",
            "low_balance_warned",
            "named_engineer",
            "extra_named_contacts",
            "named_contacts",
            "covered_products",
            "term_number",
            "previous",
            "reference",
            "terms",
            "created_at",
        ]


class CancelIn(serializers.Serializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True)


def quantity_unit() -> serializers.ChoiceField:
    return serializers.ChoiceField(
        choices=QuantityUnit.choices,
        required=False,
        help_text="What quantity counts; default: the ledger's unit (incidents, or minutes).",
    )


class TopUpIn(serializers.Serializer):
    quantity = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0.01"),
        help_text="Incidents, or minutes (hours with unit=hours).",
    )
    unit = quantity_unit()
    price = amount(required=False, allow_null=True)
    currency = serializers.ChoiceField(choices=CURRENCY_CHOICES, required=False)
    key = serializers.CharField(max_length=255, required=False)


class ConsumeIn(serializers.Serializer):
    quantity = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0.01"),
        help_text="Incidents, or minutes (hours with unit=hours).",
    )
    unit = quantity_unit()
    source_type = serializers.ChoiceField(choices=SourceType.choices)
    source_id = serializers.CharField(max_length=64, required=False, allow_blank=True)
    key = serializers.CharField(
        max_length=255,
        required=False,
        help_text="Derived from the source, e.g. case:<id>:incident or time-entry:<id>:v<n>.",
    )


class ReverseIn(serializers.Serializer):
    reverses_key = serializers.CharField(max_length=255)
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True)


class LedgerEntryOut(serializers.ModelSerializer):
    case: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="public_id",
        read_only=True,
        allow_null=True,
        help_text=(
            "The case it was drawn for (its public id), if any; null as well for a "
            "colleague's case when the organization does not share cases."
        ),
    )

    class Meta:
        model = LedgerEntry
        fields = [
            "id",
            "contract",
            "kind",
            "quantity",
            "overage_quantity",
            "overage_rate",
            "price",
            "currency",
            "balance_after",
            "key",
            "source_type",
            "source_id",
            "case",
            "time_entry",
            "reason",
            "reverses",
            "actor",
            "created_at",
        ]

    def to_representation(self, instance: LedgerEntry) -> dict[str, Any]:
        data = super().to_representation(instance)
        contact_id = self.context.get("own_requests_of")
        case = instance.case
        if contact_id is not None and case is not None and case.contact_id != contact_id:
            data["case"] = None  # a colleague's case this contact may not know of
        return data


class MovementOut(serializers.Serializer):
    entry = LedgerEntryOut()
    replayed = serializers.BooleanField()
    balance = IntegerField()


class BalanceOut(serializers.Serializer):
    contract = IntegerField()
    unit = serializers.CharField()
    balance = IntegerField()
    granted = IntegerField()
    consumed = IntegerField()
    overage = IntegerField()
    low_balance_at = IntegerField(allow_null=True)
    low_balance_warned = serializers.BooleanField()
    ledger_sum = IntegerField()


class ContractEventOut(serializers.ModelSerializer):
    """A history row; ``data`` is what the reader's audience may see of the payload
    (``context["audience"]``, customers by default)."""

    data = serializers.SerializerMethodField()  # type: ignore[assignment]

    class Meta:
        model = ContractEvent
        fields = ["id", "type", "created_at", "actor", "plan", "contract", "decision", "data"]

    def get_data(self, row: ContractEvent) -> dict[str, Any]:
        event = parse(row)
        if event is None:
            return {}
        return event.visible_to(self.context.get("audience", Audience.CUSTOMER))


class DecisionRequestIn(serializers.Serializer):
    contact = serializers.PrimaryKeyRelatedField(queryset=Contact.objects.all())
    product = serializers.PrimaryKeyRelatedField(queryset=Product.objects.all())
    channel = serializers.ChoiceField(choices=Channel.choices)
    date = serializers.DateField(required=False)
    release = serializers.PrimaryKeyRelatedField(
        queryset=Release.objects.all(), required=False, allow_null=True
    )
    environment = serializers.PrimaryKeyRelatedField(
        queryset=Environment.objects.all(), required=False, allow_null=True
    )
    modified_source = serializers.BooleanField(required=False, default=False)
    third_party = serializers.BooleanField(required=False, default=False)


class DecisionRecordIn(DecisionRequestIn):
    source_type = serializers.ChoiceField(choices=SourceType.choices)
    source_id = serializers.CharField(max_length=64, required=False, allow_blank=True)


class ConsideredOut(serializers.Serializer):
    contract = IntegerField()
    eligible = serializers.BooleanField()
    reason = serializers.CharField()
    billable = serializers.BooleanField()


class OfferingBrief(serializers.Serializer):
    id = IntegerField()
    kind = serializers.CharField()
    name = serializers.CharField()
    price = amount()
    currency = serializers.CharField()
    unit = serializers.CharField()


class DecisionOut(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=Outcome.choices)
    reason = serializers.CharField()
    sentence = serializers.CharField()
    contract = IntegerField(allow_null=True)
    considered = ConsideredOut(many=True)
    offering_kind = serializers.CharField(allow_blank=True)
    offering = OfferingBrief(allow_null=True)
    scope_findings = serializers.ListField(child=serializers.CharField())


@extend_schema_field({"type": "string", "nullable": True})
class DecisionCase(serializers.Field):
    """The public id of the case a decision was taken for (``context["case_ids"]``:
    ``{source_id: public_id}``), or null."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, row: EntitlementDecision) -> str | None:
        if row.source_type != SourceType.CASE:
            return None
        return self.context.get("case_ids", {}).get(row.source_id)


class CustomerDecisionOut(serializers.ModelSerializer):
    """What a customer may read of a decision: an allow-list. What was considered, the
    facts, and who overrode it and why are staff-only."""

    outcome = serializers.CharField(source="effective_outcome", read_only=True)
    case = DecisionCase()

    class Meta:
        model = EntitlementDecision
        fields = ["id", "case", "outcome", "reason", "sentence", "decided_on", "created_at"]


class EntitlementDecisionOut(serializers.ModelSerializer):
    effective_outcome = serializers.CharField(read_only=True)
    case = DecisionCase()

    class Meta:
        model = EntitlementDecision
        fields = [
            "id",
            "source_type",
            "source_id",
            "case",
            "organization",
            "contact",
            "product",
            "channel",
            "decided_on",
            "outcome",
            "reason",
            "offering_kind",
            "sentence",
            "contract",
            "considered",
            "facts",
            "override_outcome",
            "override_contract",
            "override_reason",
            "overridden_by",
            "overridden_at",
            "effective_outcome",
            "created_at",
        ]


class OverrideIn(serializers.Serializer):
    new_outcome = serializers.ChoiceField(choices=Outcome.choices)
    contract = serializers.PrimaryKeyRelatedField(
        queryset=Contract.objects.all(), required=False, allow_null=True
    )
    reason = serializers.CharField(max_length=1000)


class TrainingIn(serializers.Serializer):
    contact = serializers.PrimaryKeyRelatedField(queryset=Contact.objects.all())
    course = serializers.CharField(max_length=120)
    completed_on = serializers.DateField()


class TrainingOut(serializers.ModelSerializer):
    class Meta:
        model = TrainingRecord
        fields = [
            "id",
            "contact",
            "course",
            "completed_on",
            "expires_on",
            "certificate",
            "created_at",
        ]
        read_only_fields = fields
