"""The filters every dashboard, drill-down, export and API endpoint takes (GET)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone

from retainer.accounts.models import Team
from retainer.catalog.models import Product
from retainer.contracts.choices import Tier
from retainer.lib.limits import ID_MAX
from retainer.lib.money import CURRENCY_CHOICES
from retainer.metrics.periods import DEFAULT, parse_period
from retainer.metrics.queries import Filters


class FilterForm(forms.Form):
    period = forms.CharField(
        required=False,
        max_length=20,
        initial=DEFAULT,
        help_text="2026, 2026-Q1, 2026-03 or 12m (the last 12 months).",
    )
    product = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    team = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    tier = forms.ChoiceField(required=False, choices=[("", "Any"), *Tier.choices])
    organization = forms.IntegerField(
        required=False, min_value=1, max_value=ID_MAX, label="Organization (ID)"
    )
    currency = forms.ChoiceField(required=False, choices=[("", "Most used"), *CURRENCY_CHOICES])

    def __init__(self, *args: Any, choices: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if choices:  # two queries, for the page's selects
            products = [("", "Any"), *Product.objects.values_list("pk", "name")]
            teams = [("", "Any"), *Team.objects.values_list("pk", "name")]
            self.fields["product"].choices = products  # type: ignore[attr-defined]
            self.fields["team"].choices = teams  # type: ignore[attr-defined]
        else:  # the API: any number, an unknown one simply matches nothing
            self.fields["product"] = forms.IntegerField(
                required=False, min_value=1, max_value=ID_MAX
            )
            self.fields["team"] = forms.IntegerField(required=False, min_value=1, max_value=ID_MAX)

    def clean_period(self) -> str:
        value = self.cleaned_data.get("period") or DEFAULT
        try:
            parse_period(value, today=timezone.localdate())
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None
        return value

    def filters(self) -> Filters:
        """The filters of a valid form (call ``is_valid()`` first)."""
        data = self.cleaned_data
        today = timezone.localdate()
        return Filters(
            period=parse_period(data["period"], today=today),
            today=today,
            product=data.get("product"),
            team=data.get("team"),
            tier=data.get("tier") or "",
            organization=data.get("organization"),
            currency=data.get("currency") or "",
        )
