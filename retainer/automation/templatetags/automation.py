"""The case page's macro picker, as a tag, so the cases app (a lower layer) shows
automation's macros without importing it: ``{% load automation %}{% macro_picker case %}``."""

from __future__ import annotations

from typing import Any

from django import template

from retainer.automation.access import macros_visible_to

register = template.Library()


@register.inclusion_tag("automation/partials/macro_picker.html", takes_context=True)
def macro_picker(context: template.Context, case: Any) -> dict[str, Any]:
    """The macros the signed-in user may use (shared and their own), one query."""
    request = context.get("request")
    user = getattr(request, "user", None)
    macros = list(macros_visible_to(user).only("pk", "name", "owner")) if user else []
    return {"case": case, "macros": macros}
