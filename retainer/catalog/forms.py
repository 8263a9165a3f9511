"""Forms of the console's catalog pages. They only parse what was typed (text, numbers,
dates, choices); the rules (code format, non-negative prices, release order, the scope
policy's release rule) are the models', checked by the ``do_save_*`` actions, so the
console, the API and the admin refuse the same input with the same message."""

from __future__ import annotations

from typing import Any

from django import forms

from retainer.catalog.choices import OfferingKind, PriceUnit
from retainer.catalog.models import Environment, Product
from retainer.lib.limits import TEXT_MAX_LENGTH
from retainer.lib.money import AMOUNT_DECIMAL_PLACES, AMOUNT_MAX_DIGITS, CURRENCY_CHOICES
from retainer.lib.sanitize import clean_line, strip_invisible_controls


def _amount(label: str, **kwargs: Any) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        max_digits=AMOUNT_MAX_DIGITS,
        decimal_places=AMOUNT_DECIMAL_PLACES,
        widget=forms.NumberInput(attrs={"step": "0.01"}),
        **kwargs,
    )


class LineField(forms.CharField):
    """One display line (a name): control, bidi and zero-width characters removed, so a
    name cannot reverse or hide what the reader sees."""

    def to_python(self, value: Any) -> str:
        return clean_line(super().to_python(value) or "")


class TextField(forms.CharField):
    """Published free text (a description, notes): bidi and zero-width controls removed,
    at most ``TEXT_MAX_LENGTH`` characters."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", TEXT_MAX_LENGTH)
        super().__init__(required=False, widget=forms.Textarea, **kwargs)

    def to_python(self, value: Any) -> str:
        return strip_invisible_controls(super().to_python(value) or "")


def _date(label: str, **kwargs: Any) -> forms.DateField:
    return forms.DateField(
        label=label, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), **kwargs
    )


class ProductForm(forms.Form):
    name = LineField(label="Name", max_length=120)
    code = forms.CharField(
        label="Code",
        max_length=40,
        help_text="Lower-case letters, digits and dashes; used in the API and in exports.",
    )
    description = TextField(label="Description")
    list_price = _amount("List price", initial=0, help_text="Licence list price.")
    net_price = _amount("Net price", initial=0, help_text="Typical price after discount.")
    currency = forms.ChoiceField(label="Currency", choices=CURRENCY_CHOICES, initial="EUR")
    is_active = forms.BooleanField(
        label="Active (published on the scope of support page)", required=False, initial=True
    )


class ReleaseForm(forms.Form):
    version = forms.CharField(label="Version", max_length=40, help_text="Such as 4.2 or 2024.1.")
    order = forms.IntegerField(
        label="Order",
        min_value=0,
        required=False,
        help_text="Higher is newer. Empty: above every existing release.",
    )
    ga_date = _date("GA date")
    end_of_support_date = _date(
        "End-of-support date", required=False, help_text="Empty: no end of support announced."
    )


class ScopePolicyForm(forms.Form):
    supported_previous_releases = forms.IntegerField(
        label="Previous releases supported",
        min_value=0,
        max_value=100,
        required=False,
        help_text="Support the current release and this many previous ones. Empty: no such rule.",
    )
    honour_end_of_support_dates = forms.BooleanField(
        label="Releases past their end-of-support date are out of scope", required=False
    )
    supported_environments = forms.ModelMultipleChoiceField(
        label="Supported environments",
        queryset=Environment.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every environment is supported.",
    )
    modified_source_supported = forms.BooleanField(
        label="Modified source code is supported", required=False
    )
    third_party_supported = forms.BooleanField(
        label="Third-party integrations are supported", required=False
    )
    notes = TextField(label="Notes", help_text="Published with the policy.")


class OfferingForm(forms.Form):
    kind = forms.ChoiceField(label="Kind", choices=OfferingKind.choices)
    name = LineField(label="Name", max_length=120)
    description = TextField(label="Description")
    product = forms.ModelChoiceField(
        label="Product",
        queryset=Product.objects.order_by("name"),
        required=False,
        empty_label="Every product",
    )
    price = _amount("Price")
    currency = forms.ChoiceField(label="Currency", choices=CURRENCY_CHOICES, initial="EUR")
    unit = forms.ChoiceField(label="Unit", choices=PriceUnit.choices, initial=PriceUnit.FIXED)
    is_active = forms.BooleanField(label="Offered", required=False, initial=True)


class OfferingActiveForm(forms.Form):
    """The deactivate / reactivate button: which one was pressed."""

    active = forms.TypedChoiceField(
        choices=[("true", "Offer"), ("false", "Withdraw")], coerce=lambda value: value == "true"
    )
