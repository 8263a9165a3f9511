"""Who may read which articles. Every door — the help centre, the console, the API and
search — filters through these helpers before it reads, ranks or counts anything.

- Anonymous visitors read published ``public`` articles.
- A signed-in (active) customer contact reads published ``public`` and ``customers``
  articles, and ``plans`` articles listing a tier of one of their organization's
  active contracts (``selectors.entitled_tiers``).
- Vendor staff read every published article, ``internal`` ones included; in the
  console and the API they also see drafts and archived articles.
- Nobody else reads drafts or archived articles. An article a user may not read is a
  404, exactly like one that does not exist.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from retainer.accounts.access import customer_contact, is_vendor_staff
from retainer.kb.choices import ArticleStatus, Visibility
from retainer.kb.models import Article
from retainer.kb.selectors import entitled_tiers

PUBLIC_ID_MAX_LENGTH = 32


def articles_readable_by(user: Any) -> QuerySet[Article]:
    """Published articles ``user`` (possibly anonymous) may read."""
    published = Article.objects.filter(status=ArticleStatus.PUBLISHED)
    if is_vendor_staff(user):
        return published
    contact = customer_contact(user)
    if contact is None:
        return published.filter(visibility=Visibility.PUBLIC)
    allowed = Q(visibility__in=[Visibility.PUBLIC, Visibility.CUSTOMERS])
    for tier in sorted(entitled_tiers(organization_id=contact.organization_id)):
        allowed |= Q(visibility=Visibility.PLANS, plan_tiers__contains=f",{tier},")
    return published.filter(allowed)


def articles_visible_to(user: Any) -> QuerySet[Article]:
    """What ``user`` may list in the console and the API: staff see every article in any
    status; everyone else what they may read."""
    if is_vendor_staff(user):
        return Article.objects.all()
    return articles_readable_by(user)


def access_article(user: Any, public_id: str) -> Article:
    """The article with ``public_id`` if ``user`` may see it, else 404. Whether they may
    change it is the check function's question (403)."""
    if not isinstance(public_id, str) or not 0 < len(public_id) <= PUBLIC_ID_MAX_LENGTH:
        raise Http404
    try:
        return articles_visible_to(user).get(public_id=public_id)
    except Article.DoesNotExist:
        raise Http404 from None


def access_article_by_slug(user: Any, slug: str) -> Article:
    """The help centre's article: readable (published, visible) or 404."""
    try:
        return articles_readable_by(user).select_related("category", "product").get(slug=slug)
    except Article.DoesNotExist:
        raise Http404 from None


def access_staff_article(user: Any, pk: int) -> Article:
    """An article for the console (staff only, any status; others 404)."""
    if not is_vendor_staff(user):
        raise Http404
    try:
        return Article.objects.get(pk=pk)
    except Article.DoesNotExist:
        raise Http404 from None
