"""The case page's e-mail block, as a tag, so the cases app (a lower layer) shows each
e-mail sent for a case and its delivery status without importing the channel:
``{% load mail %}{% case_mail case %}``."""

from __future__ import annotations

from typing import Any

from django import template
from django.db.models import OuterRef, Subquery
from django.db.models.functions import Lower
from django.utils.translation import ngettext

from retainer.lib.templatetags.retainer_format import hours
from retainer.mail.access import outbound_visible_to
from retainer.mail.models import BouncingAddress

register = template.Library()


@register.inclusion_tag("mail/partials/case_mail.html", takes_context=True)
def case_mail(context: template.Context, case: Any) -> dict[str, Any]:
    """The e-mails sent for ``case`` that the signed-in user may see, oldest first, with
    their status, last error and headers, and whether their address bounced after they
    were sent (one query; none for a user without the permission)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    sent: list[Any] = []
    if user is not None:
        bounce = BouncingAddress.objects.filter(address=Lower(OuterRef("to")))
        rows = outbound_visible_to(user).filter(case=case).defer("text", "html")
        rows = rows.annotate(bounced=Subquery(bounce.values("last_bounced_at")[:1]))
        sent = list(rows.order_by("created_at", "id"))
    for row in sent:  # a sent e-mail whose address bounced afterwards shows as bounced
        row.bounced_at = (
            row.bounced if row.sent_at and row.bounced and row.bounced >= row.sent_at else None
        )
    return {
        "case": case,
        "sent": sent,
        "perms": context.get("perms"),
        "csrf_token": context.get("csrf_token"),
    }


@register.filter
def allowance(balance: int, unit: str) -> str:
    """A balance in its unit, in the active language: ``2:30 h`` for hours (stored as
    minutes), ``3 incidents`` otherwise."""
    if unit == "hours":
        return f"{hours(balance)} h"
    return ngettext("%(count)d incident", "%(count)d incidents", balance) % {"count": balance}
