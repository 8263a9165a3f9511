"""Explicit input and output shapes of the webhooks API. The secret leaves only in
``EndpointCreatedOut`` (creation, rotation): never in a list or a read."""

from __future__ import annotations

from rest_framework import serializers

from retainer.automation.models import (
    DESCRIPTION_MAX_LENGTH,
    URL_MAX_LENGTH,
    WebhookDelivery,
    WebhookEndpoint,
)


class EndpointIn(serializers.Serializer):
    url = serializers.CharField(max_length=URL_MAX_LENGTH, help_text="HTTPS, on a public address.")
    description = serializers.CharField(
        max_length=DESCRIPTION_MAX_LENGTH, required=False, allow_blank=True
    )
    event_types = serializers.ListField(
        child=serializers.CharField(max_length=80),
        max_length=200,
        help_text="Event type names (docs/events.md).",
    )


class EndpointOut(serializers.ModelSerializer):
    class Meta:
        model = WebhookEndpoint
        fields = [
            "id", "url", "description", "event_types", "active", "consecutive_failures",
            "disabled_at", "disabled_reason", "created_at",
        ]  # fmt: skip
        read_only_fields = fields


class EndpointCreatedOut(EndpointOut):
    secret = serializers.CharField(
        read_only=True, help_text="Shown once: sign-check every request with it."
    )

    class Meta(EndpointOut.Meta):
        fields = [*EndpointOut.Meta.fields, "secret"]
        read_only_fields = fields


class DeliveryOut(serializers.ModelSerializer):
    class Meta:
        model = WebhookDelivery
        fields = [
            "id", "endpoint", "event_id", "event_type", "status", "attempts", "next_attempt_at",
            "last_attempt_at", "last_status_code", "last_response_ms", "last_error", "created_at",
        ]  # fmt: skip
        read_only_fields = fields
