import re

import django_filters
from django.db.models import QuerySet

from retainer.cases.choices import CaseStatus, Severity
from retainer.cases.models import REFERENCE_OFFSET, Case
from retainer.contracts.choices import Outcome

REFERENCE = re.compile(r"(?i)RT-\d{1,12}")


class CaseFilter(django_filters.FilterSet):
    """Shared by the console queue and the API list."""

    # No DISTINCT: these filter the case table itself, never a to-many join.
    status = django_filters.MultipleChoiceFilter(choices=CaseStatus.choices, distinct=False)
    severity = django_filters.MultipleChoiceFilter(choices=Severity.choices, distinct=False)
    entitlement = django_filters.MultipleChoiceFilter(choices=Outcome.choices, distinct=False)
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
        if REFERENCE.fullmatch(value):
            # A reference finds its case directly, without scanning subjects.
            return queryset.filter(pk=int(value.upper().removeprefix("RT-")) - REFERENCE_OFFSET)
        return queryset.filter(subject__icontains=value)
