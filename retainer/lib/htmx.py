"""HTMX helpers: one URL, one view, two renderings (full page or fragment)."""

from __future__ import annotations

from django.http import HttpRequest, QueryDict


def is_htmx(request: HttpRequest) -> bool:
    """True for an HTMX request that wants a fragment (not a boosted full-page load)."""
    details = getattr(request, "htmx", None)
    return bool(details) and not getattr(details, "boosted", False)


def without_blanks(query: QueryDict) -> QueryDict:
    """The query without empty values, so a form's "Any" option (``?severity=``) means no
    filter rather than an invalid choice."""
    cleaned = query.copy()
    for key in list(cleaned):
        values = [value for value in cleaned.getlist(key) if value != ""]
        if values:
            cleaned.setlist(key, values)
        else:
            del cleaned[key]
    return cleaned
