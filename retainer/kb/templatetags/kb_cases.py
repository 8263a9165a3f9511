"""The case page's knowledge block, as a tag: the case page (in the cases app, which never
imports the knowledge base) shows it with ``{% load kb_cases %}{% case_articles case %}``."""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings

from retainer.kb.checks import DRAFTABLE
from retainer.kb.models import CaseArticle

register = template.Library()


@register.inclusion_tag("kb/partials/case_articles.html", takes_context=True)
def case_articles(context: template.Context, case: Any) -> dict[str, Any]:
    """The articles linked to ``case`` (one query); for staff who may change the case,
    the search that links more, *Unlink*, and *Write an article from this case* once it is
    resolved."""
    request = context.get("request")
    user = getattr(request, "user", None)
    may_link = user is not None and user.has_perms(["kb.view_article", "cases.change_case"])
    may_write = may_link and user is not None and user.has_perm("kb.add_article")
    links = CaseArticle.objects.filter(case=case).select_related("article")
    return {
        "case": case,
        "links": list(links),
        "may_link": may_link,
        "may_draft": may_write and case.status in DRAFTABLE,
        "csrf_token": context.get("csrf_token"),
        "base_url": settings.RETAINER_BASE_URL.rstrip("/"),
    }
