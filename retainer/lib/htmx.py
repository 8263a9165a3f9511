"""HTMX helpers: one URL, one view, two renderings (full page or fragment)."""

from __future__ import annotations

from django.http import HttpRequest


def is_htmx(request: HttpRequest) -> bool:
    """True for an HTMX request that wants a fragment (not a boosted full-page load)."""
    details = getattr(request, "htmx", None)
    return bool(details) and not getattr(details, "boosted", False)
