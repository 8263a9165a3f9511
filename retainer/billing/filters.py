import django_filters

from retainer.billing.models import (
    BillingRun,
    CreditNote,
    Engagement,
    Invoice,
    RenewalQuote,
    ServiceQuote,
)


class InvoiceFilter(django_filters.FilterSet):
    period = django_filters.DateFilter(field_name="period_start")
    issued_after = django_filters.DateFilter(field_name="issued_at", lookup_expr="date__gte")
    issued_before = django_filters.DateFilter(field_name="issued_at", lookup_expr="date__lte")

    class Meta:
        model = Invoice
        fields = ["organization", "status", "currency", "run", "number"]


class RunFilter(django_filters.FilterSet):
    class Meta:
        model = BillingRun
        fields = ["status", "organization", "period"]


class CreditNoteFilter(django_filters.FilterSet):
    class Meta:
        model = CreditNote
        fields = ["organization", "invoice"]


class RenewalQuoteFilter(django_filters.FilterSet):
    class Meta:
        model = RenewalQuote
        fields = ["status", "organization", "contract"]


class ServiceQuoteFilter(django_filters.FilterSet):
    """Services quotes by status, pricing, organization and offering (API and console)."""

    class Meta:
        model = ServiceQuote
        fields = ["status", "pricing", "organization", "offering"]


class EngagementFilter(django_filters.FilterSet):
    class Meta:
        model = Engagement
        fields = ["organization"]
