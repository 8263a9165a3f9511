import django_filters
from django.db.models import Q, QuerySet

from retainer.cases.choices import CaseStatus, Severity
from retainer.cases.models import Case
from retainer.contracts.choices import Outcome


class CaseFilter(django_filters.FilterSet):
    """Shared by the console queue and the API list."""

    status = django_filters.MultipleChoiceFilter(choices=CaseStatus.choices)
    severity = django_filters.MultipleChoiceFilter(choices=Severity.choices)
    entitlement = django_filters.MultipleChoiceFilter(choices=Outcome.choices)
    unassigned = django_filters.BooleanFilter(field_name="assignee", lookup_expr="isnull")
    q = django_filters.CharFilter(method="search", label="Subject or reference")

    class Meta:
        model = Case
        fields = [
            "organization",
            "product",
            "assignee",
            "queue",
            "channel",
            "type",
            "root_cause",
            "defect",
        ]

    def search(self, queryset: QuerySet[Case], name: str, value: str) -> QuerySet[Case]:
        value = value.strip()
        reference = value.upper().removeprefix("RT-")
        if reference.isdigit():
            from retainer.cases.models import REFERENCE_OFFSET

            return queryset.filter(
                Q(pk=int(reference) - REFERENCE_OFFSET) | Q(subject__icontains=value)
            )
        return queryset.filter(subject__icontains=value)
