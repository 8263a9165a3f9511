"""Forms of the SLA settings pages: a business-hours calendar and an SLA target.

They parse what people type (``09:00-12:30, 13:30-18:00`` per weekday, holidays one date
a line, durations as ``h:mm``) into the stored values; the model's ``clean()`` decides
whether the result is a calendar the clock arithmetic can run on, and its refusals are
shown beside the weekday they are about.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from retainer.accounts.models import Team
from retainer.cases.choices import Severity, SlaAction
from retainer.cases.models import BusinessCalendar, SlaTarget
from retainer.contracts.models import SupportPlan
from retainer.lib.limits import LINE_MAX_LENGTH, LIST_MAX_LENGTH
from retainer.lib.sanitize import clean_line

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

_WINDOW = re.compile(r"^\s*(\d{1,2}:\d{2})\s*[-–]\s*(\d{1,2}:\d{2})\s*$")
_HOURS_HELP = "For example 09:00-18:00, or 09:00-12:30, 13:30-18:00. Empty: closed."


def _clock_time(text: str) -> str:
    """``9:00`` → ``09:00``; ``24:00`` is the end of the day. Raises ``ValueError``."""
    hours, minutes = (int(part) for part in text.split(":"))
    if (hours, minutes) != (24, 0) and not (0 <= hours <= 23 and 0 <= minutes <= 59):
        raise ValueError(text)
    return f"{hours:02d}:{minutes:02d}"


def parse_windows(text: str) -> list[list[str]]:
    """``"09:00-12:30, 13:30-18:00"`` → ``[["09:00", "12:30"], ["13:30", "18:00"]]``."""
    windows = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        match = _WINDOW.match(part)
        try:
            if match is None:
                raise ValueError(part)
            windows.append([_clock_time(match[1]), _clock_time(match[2])])
        except ValueError:
            raise ValidationError(
                f"“{part}” is not a working window: write it as 09:00-18:00 (00:00 to 24:00).",
                code="invalid_hours",
            ) from None
    return windows


def format_windows(windows: list[list[str]] | None) -> str:
    return ", ".join(f"{start}-{end}" for start, end in windows or [])


def calendar_days(calendar: BusinessCalendar) -> list[tuple[str, str]]:
    """``[("Monday", "09:00-18:00"), …]`` for the settings page (closed days left out)."""
    hours = calendar.hours or {}
    return [
        (day.capitalize(), format_windows(hours.get(str(n))))
        for n, day in enumerate(WEEKDAYS)
        if hours.get(str(n))
    ]


class CalendarForm(forms.Form):
    name = forms.CharField(label="Name", max_length=100)
    time_zone = forms.CharField(
        label="Time zone",
        max_length=64,
        initial="UTC",
        help_text="An IANA time zone, for example Europe/Berlin.",
    )
    use_customer_time_zone = forms.BooleanField(
        label="Read the hours in the customer's time zone", required=False
    )
    always_open = forms.BooleanField(label="24×7 (the clock always runs)", required=False)
    monday = forms.CharField(
        label="Monday", required=False, max_length=LINE_MAX_LENGTH, help_text=_HOURS_HELP
    )
    tuesday = forms.CharField(label="Tuesday", required=False, max_length=LINE_MAX_LENGTH)
    wednesday = forms.CharField(label="Wednesday", required=False, max_length=LINE_MAX_LENGTH)
    thursday = forms.CharField(label="Thursday", required=False, max_length=LINE_MAX_LENGTH)
    friday = forms.CharField(label="Friday", required=False, max_length=LINE_MAX_LENGTH)
    saturday = forms.CharField(label="Saturday", required=False, max_length=LINE_MAX_LENGTH)
    sunday = forms.CharField(label="Sunday", required=False, max_length=LINE_MAX_LENGTH)
    holidays = forms.CharField(
        label="Holidays",
        required=False,
        max_length=LIST_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Local dates the clock does not run, one a line: 2026-12-25.",
    )

    @classmethod
    def for_calendar(cls, calendar: BusinessCalendar) -> CalendarForm:
        hours = calendar.hours or {}
        initial: dict[str, Any] = {
            "name": calendar.name,
            "time_zone": calendar.time_zone,
            "use_customer_time_zone": calendar.use_customer_time_zone,
            "always_open": calendar.always_open,
            "holidays": "\n".join(calendar.holidays or []),
        }
        initial.update({day: format_windows(hours.get(str(n))) for n, day in enumerate(WEEKDAYS)})
        return cls(initial=initial)

    def clean_name(self) -> str:
        return clean_line(self.cleaned_data["name"], max_length=100)

    def clean_holidays(self) -> list[str]:
        days = []
        parts = re.split(r"[\n,]", self.cleaned_data["holidays"])
        for line in filter(None, (p.strip() for p in parts)):
            try:
                days.append(dt.date.fromisoformat(line).isoformat())
            except ValueError:
                raise ValidationError(
                    f"“{line}” is not a date: write it as 2026-12-25.", code="invalid_date"
                ) from None
        return sorted(set(days))

    def clean(self) -> dict[str, Any]:
        """Each weekday parsed, then checked by the model's ``clean()`` on its own, so a
        refusal shows beside the day it is about."""
        data = super().clean() or {}
        hours: dict[str, list[list[str]]] = {}
        for n, day in enumerate(WEEKDAYS):
            if day not in data:
                continue  # already refused
            try:
                windows = parse_windows(data[day])
                BusinessCalendar(name="check", hours={"0": windows}).clean()
            except ValidationError as exc:
                self.add_error(day, exc.messages[0].replace(" on day 0", ""))
                continue
            if windows:
                hours[str(n)] = windows
        if data.get("always_open") and (hours or data.get("holidays")):
            self.add_error(
                "always_open", "A 24×7 calendar has no working hours or holidays: clear them."
            )
        data["hours"] = hours
        return data

    def calendar_fields(self) -> dict[str, Any]:
        """The cleaned values as ``do_save_calendar`` takes them."""
        data = self.cleaned_data
        return {
            "name": data["name"],
            "time_zone": data["time_zone"].strip(),
            "use_customer_time_zone": data["use_customer_time_zone"],
            "always_open": data["always_open"],
            "hours": data["hours"],
            "holidays": data["holidays"],
        }


class DurationField(forms.CharField):
    """Business time typed as ``h:mm`` (or whole hours, ``4``), cleaned to minutes."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("help_text", "Business hours as h:mm, for example 4:00 or 0:30.")
        super().__init__(max_length=10, **kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, int):
            return f"{value // 60}:{value % 60:02d}"
        return value

    def clean(self, value: Any) -> int | None:
        text = (super().clean(value) or "").strip()
        if not text:
            return None
        match = re.fullmatch(r"(\d{1,5})(?::([0-5]\d))?", text)
        minutes = int(match[1]) * 60 + int(match[2] or 0) if match else 0
        if match is None or minutes < 1:
            raise ValidationError(
                "Write a duration as h:mm, at least 0:01 (for example 4:00).", code="invalid"
            )
        return minutes


class PlanField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} (v{obj.version})"


class SlaTargetForm(forms.Form):
    plan = PlanField(
        label="Plan",
        queryset=SupportPlan.objects.order_by("code", "-version"),
        required=False,
        empty_label="Default (contracts without a plan, cases without a contract)",
    )
    severity = forms.TypedChoiceField(label="Severity", choices=Severity.choices, coerce=int)
    calendar = forms.ModelChoiceField(label="Calendar", queryset=BusinessCalendar.objects.all())
    first_response_minutes = DurationField(label="First response")
    next_response_minutes = DurationField(
        label="Next response (optional)", required=False, help_text="Empty: no next-response clock."
    )
    resolution_minutes = DurationField(label="Resolution")
    warning_percent = forms.IntegerField(
        label="Warn at (% of the target)", min_value=1, max_value=99, initial=80
    )
    warning_action = forms.ChoiceField(
        label="On warning", choices=SlaAction.choices, initial=SlaAction.NONE
    )
    breach_action = forms.ChoiceField(
        label="On breach", choices=SlaAction.choices, initial=SlaAction.NONE
    )
    escalation_team = forms.ModelChoiceField(
        label="Escalation team",
        queryset=Team.objects.filter(is_active=True),
        required=False,
        help_text="Where “Move to the escalation team” moves the case.",
    )

    @classmethod
    def for_target(cls, target: SlaTarget) -> SlaTargetForm:
        return cls(
            initial={
                "plan": target.plan_id,
                "severity": target.severity,
                "calendar": target.calendar_id,
                "first_response_minutes": target.first_response_minutes,
                "next_response_minutes": target.next_response_minutes,
                "resolution_minutes": target.resolution_minutes,
                "warning_percent": target.warning_percent,
                "warning_action": target.warning_action,
                "breach_action": target.breach_action,
                "escalation_team": target.escalation_team_id,
            }
        )
