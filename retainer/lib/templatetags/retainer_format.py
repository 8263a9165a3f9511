"""Display helpers: durations, money, lookups. Formatting only; no data is computed here."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django import template

from retainer.lib.money import CURRENCY_EXPONENTS, round_amount

register = template.Library()

#: Currencies written with a symbol before the amount (``€540.00``); every other one is
#: written with its code and a space (``CHF 99.00``), which no reader can mistake.
CURRENCY_SYMBOLS: dict[str, str] = {
    "EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥", "INR": "₹", "KRW": "₩",
}  # fmt: skip


@register.filter
def hours(minutes: int | None) -> str:
    """Integer minutes as ``h:mm`` (``-1:30`` for a negative balance)."""
    if minutes is None:
        return "—"
    sign = "-" if minutes < 0 else ""
    whole, rest = divmod(abs(int(minutes)), 60)
    return f"{sign}{whole}:{rest:02d}"


@register.filter
def get_item(mapping: dict[Any, Any], key: Any) -> Any:
    return mapping.get(key) if hasattr(mapping, "get") else None


@register.filter
def percent_of(part: int | None, whole: int | None) -> int:
    """``part`` as a whole percentage of ``whole``, clamped to 0–100 (for bars)."""
    if not part or not whole or whole <= 0:
        return 0
    return max(0, min(100, round(100 * part / whole)))


@register.filter
def get_list(query: Any, key: str) -> list[str]:
    """All values of ``key`` in a QueryDict (for multi-value filters)."""
    return list(query.getlist(key)) if hasattr(query, "getlist") else []


@register.filter
def money(amount: Decimal | int | str | None, currency: str | None) -> str:
    """``amount`` in ``currency``'s format: its symbol or code, thousands separated, the
    currency's minor unit (``€1,234.50``, ``CHF 99.00``, ``¥1,235``, ``-$5.00``).

    Stored amounts carry four decimals; this shows them at the currency's minor unit
    (half away from zero, as ``lib.money.round_amount``). Line amounts and totals are
    already rounded, so nothing changes for them. An empty amount is ``—``.
    """
    if amount is None or amount == "":
        return "—"
    try:
        value = Decimal(str(amount))
    except (InvalidOperation, ValueError):
        return str(amount)
    code = (currency or "").upper()
    if code in CURRENCY_EXPONENTS:
        value = round_amount(value, code)
    else:
        value = value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    sign = "-" if value < 0 else ""
    digits = f"{abs(value):,}"
    symbol = CURRENCY_SYMBOLS.get(code)
    if symbol:
        return f"{sign}{symbol}{digits}"
    return f"{sign}{code} {digits}".strip()
