"""Display helpers: durations, lookups. Formatting only; no data is computed here."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


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
