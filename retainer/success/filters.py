"""One ``FilterSet`` per listable model, shared by the console's lists and the API."""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet

from retainer.success.models import Interaction, Lead, OnboardingPlan, Opportunity


class LeadFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Company, name or e-mail")

    class Meta:
        model = Lead
        fields = ["status", "source", "owner", "organization"]

    def search(self, queryset: QuerySet[Lead], name: str, value: str) -> QuerySet[Lead]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(company__icontains=value)
            | Q(contact_name__icontains=value)
            | Q(email__icontains=value)
        )


class OpportunityFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Name or organization")
    closes_before = django_filters.DateFilter(
        field_name="expected_close_date", lookup_expr="lte", label="Closes by"
    )

    class Meta:
        model = Opportunity
        fields = ["status", "stage", "owner", "organization", "plan"]

    def search(
        self, queryset: QuerySet[Opportunity], name: str, value: str
    ) -> QuerySet[Opportunity]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(organization__name__icontains=value))


class InteractionFilter(django_filters.FilterSet):
    class Meta:
        model = Interaction
        fields = ["kind", "organization", "contact", "lead", "opportunity", "author"]


class OnboardingPlanFilter(django_filters.FilterSet):
    class Meta:
        model = OnboardingPlan
        fields = ["organization", "success_owner", "team"]
