"""Explicit input and output serializers of the billing API. Amounts are strings."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from retainer.billing import rules
from retainer.billing.choices import LineUnit
from retainer.billing.models import (
    BilledItem,
    BillingRun,
    CreditNote,
    CreditNoteLine,
    Invoice,
    InvoiceLine,
    RenewalQuote,
)
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
