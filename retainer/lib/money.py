"""Money: ``Decimal`` amounts with an ISO 4217 currency, never floats.

Amounts are stored with four decimal places; rounding to the currency's minor unit
happens once, at invoice-line level, with ``round_amount`` (half-up, the rule most
tax authorities use for line totals).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import models

# Currencies a vendor is likely to invoice in, with their minor-unit exponent.
CURRENCY_EXPONENTS: dict[str, int] = {
    "AUD": 2, "BRL": 2, "CAD": 2, "CHF": 2, "CNY": 2, "CZK": 2, "DKK": 2, "EUR": 2,
    "GBP": 2, "HKD": 2, "HUF": 2, "INR": 2, "JPY": 0, "KRW": 0, "MXN": 2, "NOK": 2,
    "NZD": 2, "PLN": 2, "SEK": 2, "SGD": 2, "USD": 2, "ZAR": 2,
}  # fmt: skip

CURRENCY_CHOICES = [(code, code) for code in sorted(CURRENCY_EXPONENTS)]

# Stored precision: enough for per-minute rates, rounded once at the edge.
AMOUNT_MAX_DIGITS = 14
AMOUNT_DECIMAL_PLACES = 4


def validate_currency(value: str) -> None:
    if value not in CURRENCY_EXPONENTS:
        raise ValidationError(
            "%(value)s is not a supported ISO 4217 currency code.",
            code="invalid_currency",
            params={"value": value},
        )


def validate_non_negative(value: Decimal) -> None:
    if value is not None and value < 0:
        raise ValidationError("The amount cannot be negative.", code="negative_amount")


def round_amount(amount: Decimal, currency: str) -> Decimal:
    """Round to the currency's minor unit, half away from zero."""
    exponent = CURRENCY_EXPONENTS[currency]
    return amount.quantize(Decimal(1).scaleb(-exponent), rounding=ROUND_HALF_UP)


def format_money(amount: Decimal, currency: str) -> str:
    return f"{round_amount(amount, currency):,} {currency}"


class CurrencyField(models.CharField):
    """A three-letter ISO 4217 code from the supported list."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("max_length", 3)
        kwargs.setdefault("choices", CURRENCY_CHOICES)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]


class AmountField(models.DecimalField):
    """A non-negative money amount, stored with four decimal places."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("max_digits", AMOUNT_MAX_DIGITS)
        kwargs.setdefault("decimal_places", AMOUNT_DECIMAL_PLACES)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
