"""The suggestions box of the portal's new-case form, as a tag: the form's page (in the
cases app, which never imports the knowledge base) includes it with
``{% load kb_suggestions %}{% suggestion_box %}``."""

from __future__ import annotations

from typing import Any

from django import template

from retainer.kb.checks import new_session_token

register = template.Library()


@register.inclusion_tag("kb/partials/suggestion_box.html", takes_context=True)
def suggestion_box(context: template.Context) -> dict[str, Any]:
    """The box with a new suggestion session (one per showing of the form), or the one
    the page was shown with again (``suggestion_session``, after a refused submit)."""
    return {
        "token": context.get("suggestion_session") or new_session_token(),
        "csrf_token": context.get("csrf_token"),
    }
