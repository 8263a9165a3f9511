"""Explicit input and output serializers of the billing API. Amounts are strings."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from retainer.billing import rules
from retainer.billing.choices import LineUnit
from retainer.billing.models import (
    BilledItem,
    BillingRun,
    CreditNote,
    CreditNoteLine,
    Engagement,
    EngagementMilestone,
    EngagementTimeEntry,
    Invoice,
    InvoiceLine,
    RenewalQuote,
    ServiceQuote,
)
from retainer.cases.models import Case
from retainer.lib.api import IntegerField
from retainer.lib.money import CURRENCY_CHOICES


class PeriodField(serializers.CharField):
    """A calendar month written ``YYYY-MM``."""

    def to_internal_value(self, data: Any) -> rules.Period:  # type: ignore[override]
        try:
            return rules.parse_period(str(data))
        except rules.PeriodError as exc:
            raise serializers.ValidationError(str(exc)) from None


class RunIn(serializers.Serializer):
    period = PeriodField(help_text="The month to bill, YYYY-MM (organization-local).")
    organization = IntegerField(required=False, allow_null=True)
    issue = serializers.BooleanField(default=True, help_text="Issue the invoices it creates.")


class RunOut(serializers.ModelSerializer):
    """A run and its progress: items done of the total, the rate so far and the
    estimated time left (``null`` until the first batch is written)."""

    period = serializers.DateField(format="%Y-%m")
    progress_percent = IntegerField(read_only=True)
    items_per_second = serializers.FloatField(read_only=True, allow_null=True)
    seconds_left = IntegerField(read_only=True, allow_null=True)

    class Meta:
        model = BillingRun
        fields = [
            "id",
            "period",
            "organization",
            "issue",
            "status",
            "items_total",
            "items_done",
            "progress_percent",
            "items_per_second",
            "seconds_left",
            "invoices_created",
            "lines_created",
            "error",
            "created_at",
            "started_at",
            "heartbeat_at",
            "finished_at",
        ]


class InvoiceLineOut(serializers.ModelSerializer):
    class Meta:
        model = InvoiceLine
        fields = [
            "id",
            "position",
            "kind",
            "description",
            "quantity",
            "unit",
            "minutes",
            "unit_price",
            "amount",
            "contract",
            "case",
            "period_start",
            "period_end",
            "item_count",
        ]


class InvoiceOut(serializers.ModelSerializer):
    organization_name = serializers.CharField(source="organization.name", read_only=True)

    class Meta:
        model = Invoice
        fields = [
            "id",
            "number",
            "status",
            "organization",
            "organization_name",
            "currency",
            "period_start",
            "period_end",
            "subtotal",
            "tax_label",
            "tax_rate",
            "tax_amount",
            "total",
            "issued_at",
            "due_date",
            "paid_at",
            "voided_at",
            "void_reason",
            "run",
        ]


class InvoiceDetailOut(InvoiceOut):
    lines = InvoiceLineOut(many=True, read_only=True)
    notes = serializers.CharField(read_only=True)

    class Meta(InvoiceOut.Meta):
        fields = [*InvoiceOut.Meta.fields, "notes", "lines"]


class InvoiceIn(serializers.Serializer):
    organization = IntegerField()
    period = PeriodField()
    currency = serializers.ChoiceField(choices=CURRENCY_CHOICES, required=False)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=5000)


class InvoiceChangeIn(serializers.Serializer):
    notes = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    due_date = serializers.DateField(required=False, allow_null=True)


class LineIn(serializers.Serializer):
    description = serializers.CharField(max_length=500)
    quantity = serializers.DecimalField(max_digits=14, decimal_places=4)
    unit_price = serializers.DecimalField(max_digits=14, decimal_places=4)
    currency = serializers.ChoiceField(choices=CURRENCY_CHOICES)
    unit = serializers.ChoiceField(choices=LineUnit.choices, default=LineUnit.EACH)


class VoidIn(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class PaidIn(serializers.Serializer):
    reference = serializers.CharField(required=False, allow_blank=True, max_length=120)
    paid_at = serializers.DateTimeField(required=False)


class CreditLineIn(serializers.Serializer):
    line = IntegerField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=4)


class CreditNoteIn(serializers.Serializer):
    invoice = IntegerField()
    reason = serializers.CharField(max_length=2000)
    lines = CreditLineIn(many=True, required=False, help_text="Omit to credit in full.")


class CreditNoteLineOut(serializers.ModelSerializer):
    class Meta:
        model = CreditNoteLine
        fields = ["id", "invoice_line", "description", "amount"]


class CreditNoteOut(serializers.ModelSerializer):
    invoice_number = serializers.CharField(source="invoice.number", read_only=True)
    lines = CreditNoteLineOut(many=True, read_only=True)

    class Meta:
        model = CreditNote
        fields = [
            "id",
            "number",
            "invoice",
            "invoice_number",
            "organization",
            "currency",
            "reason",
            "subtotal",
            "tax_rate",
            "tax_amount",
            "total",
            "issued_at",
            "lines",
        ]


class RenewalQuoteOut(serializers.ModelSerializer):
    class Meta:
        model = RenewalQuote
        fields = [
            "id",
            "contract",
            "organization",
            "status",
            "current_price",
            "price",
            "uplift_percent",
            "currency",
            "term_start",
            "valid_until",
            "renewal",
            "accepted_on",
            "created_at",
        ]


class GenerateQuotesIn(serializers.Serializer):
    within_days = IntegerField(min_value=1, max_value=366, default=60)


class BilledItemOut(serializers.ModelSerializer):
    """One billed source: the ledger entry (and through it the time entry or case) or the
    contract term behind an invoice line."""

    source_type = serializers.CharField(source="ledger_entry.source_type", default="")
    source_id = serializers.CharField(source="ledger_entry.source_id", default="")
    ledger_key = serializers.CharField(source="ledger_entry.key", default="")

    class Meta:
        model = BilledItem
        fields = [
            "id",
            "source_key",
            "kind",
            "line",
            "contract",
            "ledger_entry",
            "ledger_key",
            "source_type",
            "source_id",
            "quantity",
            "released_at",
        ]


# --- Professional services -----------------------------------------------------------------


class ServiceQuoteIn(serializers.Serializer):
    offering = IntegerField(min_value=1, help_text="A catalogue service offering.")
    organization = IntegerField(
        min_value=1, required=False, allow_null=True, help_text="Omit when quoting on a case."
    )
    case = serializers.CharField(
        max_length=32, required=False, allow_blank=True, help_text="The case's public id."
    )
    valid_until = serializers.DateField(required=False, allow_null=True)
    scope = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    send = serializers.BooleanField(default=False, help_text="Send it at once.")


class ServiceQuoteDeclineIn(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class ServiceQuoteCustomerOut(serializers.ModelSerializer):
    """A quote as its customer sees it: the offer, its terms and its state."""

    number = serializers.CharField(read_only=True)
    # Plain strings: the values are ``ServicePricing`` and ``ServiceQuoteStatus``.
    pricing = serializers.CharField(read_only=True)
    status = serializers.CharField(read_only=True)
    case_reference = serializers.SerializerMethodField()
    engagement = serializers.SerializerMethodField()

    class Meta:
        model = ServiceQuote
        fields = [
            "id",
            "number",
            "organization",
            "case_reference",
            "title",
            "scope",
            "pricing",
            "amount",
            "currency",
            "terms",
            "status",
            "valid_until",
            "sent_at",
            "decided_by",
            "decided_at",
            "decline_reason",
            "engagement",
        ]
        read_only_fields = fields

    def get_case_reference(self, obj: ServiceQuote) -> str | None:
        return None if obj.case_id is None else Case(pk=obj.case_id).reference

    def get_engagement(self, obj: ServiceQuote) -> int | None:
        engagement = getattr(obj, "engagement", None)
        return None if engagement is None else engagement.pk


class ServiceQuoteOut(ServiceQuoteCustomerOut):
    """The staff view: also the offering, who made it and when."""

    case = serializers.CharField(source="case.public_id", read_only=True, default=None)

    class Meta(ServiceQuoteCustomerOut.Meta):
        fields = [
            *ServiceQuoteCustomerOut.Meta.fields,
            "case",
            "offering",
            "created_by",
            "created_at",
        ]
        read_only_fields = fields


class MilestoneIn(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    amount = serializers.DecimalField(max_digits=14, decimal_places=4, min_value=Decimal("0.01"))


class MilestoneSplitIn(serializers.Serializer):
    milestones = serializers.ListField(child=MilestoneIn(), min_length=1, max_length=20)


class EngagementTimeIn(serializers.Serializer):
    minutes = IntegerField(min_value=1, max_value=24 * 60)
    work_date = serializers.DateField(required=False, allow_null=True)
    note = serializers.CharField(max_length=500, required=False, allow_blank=True)


class MilestoneOut(serializers.ModelSerializer):
    class Meta:
        model = EngagementMilestone
        fields = ["id", "position", "title", "amount", "delivered_on"]
        read_only_fields = fields


class EngagementTimeEntryOut(serializers.ModelSerializer):
    agent_name = serializers.CharField(source="agent.full_name", read_only=True)

    class Meta:
        model = EngagementTimeEntry
        fields = ["id", "work_date", "minutes", "note", "agent_name", "created_at"]
        read_only_fields = fields


class EngagementOut(serializers.ModelSerializer):
    """An engagement with its quote's pricing and its current milestones (fixed price);
    time entries are listed at ``engagements/<id>/time-entries/``."""

    quote_number = serializers.CharField(source="quote.number", read_only=True)
    title = serializers.CharField(source="quote.title", read_only=True)
    pricing = serializers.CharField(source="quote.pricing", read_only=True)
    amount = serializers.DecimalField(
        source="quote.amount", max_digits=14, decimal_places=4, read_only=True
    )
    currency = serializers.CharField(source="quote.currency", read_only=True)
    milestones = serializers.SerializerMethodField()

    class Meta:
        model = Engagement
        fields = [
            "id",
            "quote",
            "quote_number",
            "organization",
            "title",
            "pricing",
            "amount",
            "currency",
            "created_at",
            "milestones",
        ]
        read_only_fields = fields

    @extend_schema_field(MilestoneOut(many=True))
    def get_milestones(self, obj: Engagement) -> list[dict[str, Any]]:
        current = [m for m in obj.milestones.all() if m.replaced_at is None]
        return list(MilestoneOut(sorted(current, key=lambda m: m.position), many=True).data)
