import django_filters
from django.db.models import QuerySet

from retainer.contracts.choices import SourceType
from retainer.contracts.models import Contract, EntitlementDecision, LedgerEntry, SupportPlan
from retainer.contracts.selectors import case_source_ids


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
    case = django_filters.CharFilter(
        method="filter_case", label="The public id of the case the decision was taken for"
    )

    class Meta:
        model = EntitlementDecision
        fields = ["organization", "outcome", "source_type", "source_id", "contract"]

    def filter_case(
        self, queryset: QuerySet[EntitlementDecision], name: str, value: str
    ) -> QuerySet[EntitlementDecision]:
        return queryset.filter(source_type=SourceType.CASE, source_id__in=case_source_ids(value))
