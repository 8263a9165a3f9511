"""The ``money`` template filter: an amount in its currency's format."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.template import Context, Template

from retainer.lib.templatetags.retainer_format import money


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        (Decimal("540.0000"), "EUR", "€540.00"),
        (Decimal("1234.5"), "USD", "$1,234.50"),
        (Decimal("99"), "CHF", "CHF 99.00"),
        (Decimal("1234567.891"), "GBP", "£1,234,567.89"),
        (Decimal("1234.5"), "JPY", "¥1,235"),  # no minor unit: whole yen
        (Decimal("-5"), "USD", "-$5.00"),
        (Decimal("-0.001"), "EUR", "€0.00"),  # no "negative zero"
        (Decimal("0.005"), "EUR", "€0.01"),  # half away from zero, as lib.money rounds
        (Decimal("-0.005"), "EUR", "-€0.01"),
        (12, "SEK", "SEK 12.00"),
        ("7.5", "eur", "€7.50"),
    ],
)
def test_an_amount_is_shown_in_its_currencys_format(amount, currency, shown):
    assert money(amount, currency) == shown


def test_an_empty_amount_is_a_dash_and_an_unknown_currency_keeps_its_code():
    assert money(None, "EUR") == "—"
    assert money("", "EUR") == "—"
    assert money(Decimal("3.456"), "XYZ") == "XYZ 3.46"
    assert money("not a number", "EUR") == "not a number"


def test_the_filter_is_used_in_templates_with_the_currency_as_argument():
    template = Template("{% load retainer_format %}{{ amount|money:currency }}")
    assert template.render(Context({"amount": Decimal("540"), "currency": "EUR"})) == "€540.00"
