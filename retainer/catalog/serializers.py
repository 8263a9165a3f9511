"""Explicit input and output shapes of the catalog API."""

from decimal import Decimal
from typing import Any

from rest_framework import serializers

from retainer.catalog.choices import EnvironmentKind, OfferingKind, PriceUnit
from retainer.catalog.models import Environment, Product, Release, ScopePolicy, ServiceOffering
from retainer.catalog.selectors import catalog
from retainer.lib.api import IntegerField
from retainer.lib.limits import TEXT_MAX_LENGTH
from retainer.lib.money import CURRENCY_CHOICES

_CATALOG_MODELS: dict[str, type[Product | Release | Environment]] = {
    "products": Product,
    "releases": Release,
    "environments": Environment,
}


class CatalogRowField(serializers.PrimaryKeyRelatedField):
    """A product, release or environment by id, looked up in the process's copy of the
    catalog (``selectors.catalog()``) rather than with a query: intake reads three."""

    def __init__(self, kind: str, **kwargs: Any) -> None:
        self.kind = kind
        super().__init__(queryset=_CATALOG_MODELS[kind].objects.all(), **kwargs)

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, bool) or not isinstance(data, (int, str)):
            self.fail("incorrect_type", data_type=type(data).__name__)
        try:
            pk = int(data)
        except ValueError:
            self.fail("incorrect_type", data_type=type(data).__name__)
        row = getattr(catalog(), self.kind).get(pk)
        if row is None:
            self.fail("does_not_exist", pk_value=data)
        return row


def money_field(**kwargs: Any) -> serializers.DecimalField:
    """A non-negative amount with the stored precision."""
    return serializers.DecimalField(max_digits=14, decimal_places=4, min_value=Decimal(0), **kwargs)


class ProductOut(serializers.ModelSerializer):
    class Meta:
        model = Product
        fields = [
            "id",
            "name",
            "code",
            "description",
            "list_price",
            "net_price",
            "currency",
            "is_active",
        ]


class ProductIn(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    code = serializers.RegexField(r"^[a-z0-9][a-z0-9-]{0,39}$", max_length=40)
    description = serializers.CharField(
        max_length=TEXT_MAX_LENGTH, required=False, allow_blank=True
    )
    list_price = money_field(required=False)
    net_price = money_field(required=False)
    currency = serializers.ChoiceField(choices=CURRENCY_CHOICES, required=False)
    is_active = serializers.BooleanField(required=False)


class ReleaseOut(serializers.ModelSerializer):
    class Meta:
        model = Release
        fields = ["id", "product", "version", "order", "ga_date", "end_of_support_date"]


class ReleaseIn(serializers.Serializer):
    version = serializers.CharField(max_length=40)
    order = IntegerField(min_value=0, required=False)
    ga_date = serializers.DateField()
    end_of_support_date = serializers.DateField(required=False, allow_null=True)


class EnvironmentOut(serializers.ModelSerializer):
    class Meta:
        model = Environment
        fields = ["id", "name", "version", "kind", "is_active"]


class EnvironmentIn(serializers.Serializer):
    name = serializers.CharField(max_length=80)
    version = serializers.CharField(max_length=40, required=False, allow_blank=True)
    kind = serializers.ChoiceField(choices=EnvironmentKind.choices, required=False)
    is_active = serializers.BooleanField(required=False)


class ScopePolicyOut(serializers.ModelSerializer):
    class Meta:
        model = ScopePolicy
        fields = [
            "product",
            "supported_previous_releases",
            "honour_end_of_support_dates",
            "supported_environments",
            "modified_source_supported",
            "third_party_supported",
            "notes",
        ]


class ScopePolicyIn(serializers.Serializer):
    supported_previous_releases = IntegerField(
        min_value=0, max_value=100, allow_null=True, required=False
    )
    honour_end_of_support_dates = serializers.BooleanField(required=False)
    supported_environments = serializers.PrimaryKeyRelatedField(
        queryset=Environment.objects.all(), many=True, required=False
    )
    modified_source_supported = serializers.BooleanField(required=False)
    third_party_supported = serializers.BooleanField(required=False)
    notes = serializers.CharField(max_length=TEXT_MAX_LENGTH, required=False, allow_blank=True)


class OfferingOut(serializers.ModelSerializer):
    class Meta:
        model = ServiceOffering
        fields = [
            "id",
            "kind",
            "name",
            "description",
            "product",
            "price",
            "currency",
            "unit",
            "is_active",
        ]


class OfferingIn(serializers.Serializer):
    kind = serializers.ChoiceField(choices=OfferingKind.choices)
    name = serializers.CharField(max_length=120)
    description = serializers.CharField(
        max_length=TEXT_MAX_LENGTH, required=False, allow_blank=True
    )
    product = serializers.PrimaryKeyRelatedField(
        queryset=Product.objects.all(), required=False, allow_null=True
    )
    price = money_field()
    currency = serializers.ChoiceField(choices=CURRENCY_CHOICES, required=False)
    unit = serializers.ChoiceField(choices=PriceUnit.choices, required=False)
    is_active = serializers.BooleanField(required=False)


class ScopeCheckIn(serializers.Serializer):
    release = IntegerField(required=False)
    environment = IntegerField(required=False)
    date = serializers.DateField(required=False)
    modified_source = serializers.BooleanField(required=False, default=False)
    third_party = serializers.BooleanField(required=False, default=False)


class ScopeFindingOut(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    offering_kind = serializers.CharField()
    offering = OfferingOut(allow_null=True)


class ScopeCheckOut(serializers.Serializer):
    in_scope = serializers.BooleanField()
    date = serializers.DateField()
    current_release = IntegerField(allow_null=True)
    supported_releases = serializers.ListField(child=IntegerField())
    findings = ScopeFindingOut(many=True)
