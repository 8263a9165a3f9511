"""IANA time zones for organizations and calendars."""

from __future__ import annotations

from zoneinfo import available_timezones

from django.core.exceptions import ValidationError

_ZONES = frozenset(available_timezones())
TIME_ZONE_CHOICES = [(zone, zone) for zone in sorted(_ZONES) if "/" in zone or zone == "UTC"]


def validate_time_zone(value: str) -> None:
    if value not in _ZONES:
        raise ValidationError(
            "%(value)s is not an IANA time zone (for example Europe/Berlin).",
            code="invalid_time_zone",
            params={"value": value},
        )
