"""Filters of the console's catalog lists: products and service offerings."""

import django_filters
from django.db.models import Q, QuerySet

from retainer.catalog.choices import OfferingKind
from retainer.catalog.models import Product, ServiceOffering
from retainer.lib.money import CURRENCY_CHOICES

ACTIVE_CHOICES = [("true", "Active"), ("false", "Inactive")]


def _active(queryset: QuerySet, name: str, value: str) -> QuerySet:
    return queryset.filter(is_active=value == "true")


class ProductFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Name or code contains")
    is_active = django_filters.ChoiceFilter(
        choices=ACTIVE_CHOICES, method=_active, label="Status", empty_label="Any"
    )
    currency = django_filters.ChoiceFilter(choices=CURRENCY_CHOICES, empty_label="Any")

    class Meta:
        model = Product
        fields = ["q", "is_active", "currency"]

    def search(self, queryset: QuerySet[Product], name: str, value: str) -> QuerySet[Product]:
        value = value.strip()
        return queryset.filter(Q(name__icontains=value) | Q(code__icontains=value))


class OfferingFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Name contains")
    kind = django_filters.ChoiceFilter(choices=OfferingKind.choices, empty_label="Any")
    product = django_filters.CharFilter(method="for_product", label="Product")
    is_active = django_filters.ChoiceFilter(
        choices=ACTIVE_CHOICES, method=_active, label="Status", empty_label="Any"
    )

    class Meta:
        model = ServiceOffering
        fields = ["q", "kind", "product", "is_active"]

    def search(
        self, queryset: QuerySet[ServiceOffering], name: str, value: str
    ) -> QuerySet[ServiceOffering]:
        return queryset.filter(name__icontains=value.strip())

    def for_product(
        self, queryset: QuerySet[ServiceOffering], name: str, value: str
    ) -> QuerySet[ServiceOffering]:
        """``general``: offered for every product; a product id: that product's own."""
        if value == "general":
            return queryset.filter(product__isnull=True)
        if value.isdigit() and len(value) < 12:
            return queryset.filter(product_id=int(value))
        return queryset.none()
