import django_filters

from retainer.contracts.models import Contract, EntitlementDecision, LedgerEntry, SupportPlan


class PlanFilter(django_filters.FilterSet):
    class Meta:
        model = SupportPlan
        fields = ["code", "preset", "unit", "tier", "is_current"]


class ContractFilter(django_filters.FilterSet):
    ends_before = django_filters.DateFilter(field_name="end_date", lookup_expr="lte")

    class Meta:
        model = Contract
        fields = ["organization", "status", "preset", "unit", "plan"]


class LedgerEntryFilter(django_filters.FilterSet):
    class Meta:
        model = LedgerEntry
        fields = ["kind", "source_type", "source_id"]


class DecisionFilter(django_filters.FilterSet):
    class Meta:
        model = EntitlementDecision
        fields = ["organization", "outcome", "source_type", "source_id", "contract"]
