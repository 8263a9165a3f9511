"""Filters of the delivery log, shared by the API list."""

from __future__ import annotations

import django_filters

from retainer.automation.choices import DeliveryStatus
from retainer.automation.models import WebhookDelivery


class DeliveryFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=DeliveryStatus.choices)
    event_type = django_filters.CharFilter(max_length=80)

    class Meta:
        model = WebhookDelivery
        fields = ["status", "event_type"]
