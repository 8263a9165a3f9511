import django_filters
from django.db.models import Q, QuerySet

from retainer.accounts.models import Contact, Organization


class OrganizationFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Name or domain contains")
    domain = django_filters.CharFilter(field_name="domains__domain", lookup_expr="iexact")

    class Meta:
        model = Organization
        fields = ["is_active", "account_owner", "currency"]

    def search(
        self, queryset: QuerySet[Organization], name: str, value: str
    ) -> QuerySet[Organization]:
        return queryset.filter(
            Q(name__icontains=value) | Q(domains__domain__icontains=value)
        ).distinct()


class ContactFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Name or e-mail contains")

    class Meta:
        model = Contact
        fields = ["organization", "is_active", "role"]

    def search(self, queryset: QuerySet[Contact], name: str, value: str) -> QuerySet[Contact]:
        return queryset.filter(Q(full_name__icontains=value) | Q(email__icontains=value))
