import django_filters
from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet

from retainer.cases.choices import CaseStatus, Severity
from retainer.cases.models import Case
from retainer.cases.search import search_cases
from retainer.contracts.choices import Outcome
from retainer.lib.fulltext import QUERY_MAX_LENGTH

#: How many of the best matches the ``q`` filter keeps (then sorted like the list).
SEARCH_MATCHES = 200


class CaseFilter(django_filters.FilterSet):
    """Shared by the console queue and the API list."""

    # No DISTINCT: these filter the case table itself, never a to-many join.
    status = django_filters.MultipleChoiceFilter(choices=CaseStatus.choices, distinct=False)
    severity = django_filters.MultipleChoiceFilter(choices=Severity.choices, distinct=False)
    entitlement = django_filters.MultipleChoiceFilter(choices=Outcome.choices, distinct=False)
    unassigned = django_filters.BooleanFilter(field_name="assignee", lookup_expr="isnull")
    q = django_filters.CharFilter(
        method="search",
        label="Search",
        max_length=QUERY_MAX_LENGTH,
        help_text="Words of the subject, description, messages or organization; or a reference.",
    )

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
        """The ``SEARCH_MATCHES`` best matches of ``cases.search.search_cases`` among the
        rows the other filters left (what the requesting user may see, notes for staff
        only); the list keeps its own order."""
        if not value.strip():
            return queryset
        request = getattr(self, "request", None)
        user = getattr(request, "user", None) or AnonymousUser()
        hits = search_cases(user, value, filters=queryset, limit=SEARCH_MATCHES)
        return queryset.filter(pk__in=[hit.case.pk for hit in hits])
