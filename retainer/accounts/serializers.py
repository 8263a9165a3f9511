"""Explicit input and output shapes of the accounts API."""

from rest_framework import serializers

from retainer.accounts.choices import ContactRole
from retainer.accounts.models import Contact, Organization
from retainer.accounts.selectors import staff_people
from retainer.lib.limits import EMAIL_MAX_LENGTH
from retainer.lib.money import CURRENCY_CHOICES
from retainer.lib.timezones import TIME_ZONE_CHOICES


class NoInput(serializers.Serializer):
    """The body of a request that takes no input: any field in it is refused."""


class OrganizationOut(serializers.ModelSerializer):
    domains = serializers.SerializerMethodField()

    class Meta:
        model = Organization
        fields = [
            "id",
            "name",
            "domains",
            "time_zone",
            "currency",
            "account_owner",
            "is_active",
            "created_at",
        ]

    def get_domains(self, obj: Organization) -> list[str]:
        return [d.domain for d in obj.domains.all()]


class OrganizationIn(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    domains = serializers.ListField(child=serializers.CharField(max_length=253), required=False)
    time_zone = serializers.ChoiceField(choices=TIME_ZONE_CHOICES, required=False)
    currency = serializers.ChoiceField(choices=CURRENCY_CHOICES, required=False)
    account_owner = serializers.PrimaryKeyRelatedField(
        queryset=staff_people(), required=False, allow_null=True
    )


class ContactOut(serializers.ModelSerializer):
    has_portal_login = serializers.SerializerMethodField()

    class Meta:
        model = Contact
        fields = [
            "id",
            "organization",
            "full_name",
            "email",
            "phone",
            "role",
            "is_active",
            "has_portal_login",
        ]

    def get_has_portal_login(self, obj: Contact) -> bool:
        return obj.user_id is not None


class ContactIn(serializers.Serializer):
    organization = serializers.PrimaryKeyRelatedField(
        queryset=Organization.objects.filter(is_active=True)
    )
    full_name = serializers.CharField(max_length=200)
    email = serializers.EmailField(max_length=EMAIL_MAX_LENGTH)
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True)
    role = serializers.ChoiceField(choices=ContactRole.choices, required=False)


class ContactUpdateIn(serializers.Serializer):
    full_name = serializers.CharField(max_length=200, required=False)
    email = serializers.EmailField(max_length=EMAIL_MAX_LENGTH, required=False)
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True)
    role = serializers.ChoiceField(choices=ContactRole.choices, required=False)
