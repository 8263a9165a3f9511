"""Who may change the knowledge base, and how raw input becomes an action's arguments:
one rule per operation, whatever the door (the console or the API).

- ``kb.add_article`` writes a new draft (agents, managers, admins);
- ``kb.change_article`` edits a draft;
- ``kb.publish_article`` publishes, archives, and edits an article that is no longer a
  draft (managers, admins): what customers read has been reviewed by one of them, and
  the publisher is recorded as the article's reviewer;
- ``kb.add_category`` / ``kb.change_category`` manage the help centre's categories.

A refusal is ``NotPermitted`` (403) or ``InvalidInput``/``Conflict``/``ValidationError``
with the field it is about; nothing is written before every check has passed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from retainer.accounts.access import is_vendor_staff
from retainer.accounts.models import User
from retainer.kb import actions
from retainer.kb.choices import TRANSITIONS, ArticleStatus
from retainer.kb.models import TAGS_MAX_LENGTH, Article, Category, stored_tiers
from retainer.lib.errors import Conflict, InvalidInput, NotPermitted
from retainer.lib.sanitize import clean_line, strip_invisible_controls

# Control characters other than tab and line breaks: never part of an article's text.
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def require_staff_permission(actor: Any, *perms: str) -> None:
    """Refuse unless ``actor`` is active vendor staff holding every one of ``perms``."""
    if not (is_vendor_staff(actor) and actor.has_perms(perms)):
        raise NotPermitted("permission_denied", "You do not have permission to do this.")


def authorize_view(actor: Any) -> None:
    require_staff_permission(actor, "kb.view_article")


def authorize_create_article(actor: Any) -> None:
    require_staff_permission(actor, "kb.add_article")


def authorize_edit_article(actor: Any, article: Article | None = None) -> None:
    """Drafts: ``kb.change_article``; a published or archived article also needs
    ``kb.publish_article``."""
    require_staff_permission(actor, "kb.change_article")
    if article is not None and article.status != ArticleStatus.DRAFT:
        require_staff_permission(actor, "kb.publish_article")


def authorize_publish(actor: Any) -> None:
    require_staff_permission(actor, "kb.publish_article")


def authorize_categories(actor: Any) -> None:
    require_staff_permission(actor, "kb.add_category", "kb.change_category")


def normalize_tags(raw: str | Iterable[str]) -> str:
    """``"VPN, Login ,vpn"`` or ``["VPN", "login"]`` → ``"vpn,login"``."""
    items = raw.split(",") if isinstance(raw, str) else list(raw)
    tags: list[str] = []
    for item in items:
        tag = clean_line(str(item), max_length=40).lower()
        if tag and tag not in tags:
            tags.append(tag)
    text = ",".join(tags)
    if len(text) > TAGS_MAX_LENGTH:
        raise InvalidInput("too_many_tags", "Too many tags for one article.", field="tags")
    return text


def article_values(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The action's ``values`` from a form's or a payload's clean data: one-line title,
    text without control characters, tags and plan tiers in their stored form. Keys not
    given are left out (a partial edit)."""
    values: dict[str, Any] = {k: v for k, v in raw.items() if k in actions.ARTICLE_FIELDS}
    if "title" in values:
        values["title"] = clean_line(values["title"] or "")
        if not values["title"]:
            raise InvalidInput("title_required", "An article needs a title.", field="title")
    if "summary" in values:
        values["summary"] = clean_line(values["summary"] or "")
    if "body" in values:
        values["body"] = _CONTROLS.sub("", strip_invisible_controls(values["body"] or ""))
    if "tags" in values:
        values["tags"] = normalize_tags(values["tags"] or "")
    if "plan_tiers" in values:
        values["plan_tiers"] = stored_tiers(values["plan_tiers"])
    return values


def check_create_article(actor: User, **raw: Any) -> Article:
    authorize_create_article(actor)
    return actions.do_create_article(values=article_values(raw), author=actor)


def check_edit_article(actor: User, article: Article, **raw: Any) -> Article:
    authorize_edit_article(actor, article)
    return actions.do_edit_article(article, values=article_values(raw), actor=actor)


def _check_move(article: Article, target: str) -> None:
    if target not in TRANSITIONS.get(article.status, frozenset()):
        raise Conflict(
            "transition_not_allowed",
            f"A {article.get_status_display().lower()} article cannot be "
            f"{ArticleStatus(target).label.lower()}.",
        )


def check_publish_article(actor: User, article: Article) -> Article:
    authorize_publish(actor)
    _check_move(article, ArticleStatus.PUBLISHED)
    if not article.title.strip() or not article.body.strip():
        raise InvalidInput(
            "article_incomplete",
            "An article needs a title and a body before it is published.",
            field="body" if article.title.strip() else "title",
        )
    return actions.do_publish_article(article, actor=actor)


def check_archive_article(actor: User, article: Article) -> Article:
    authorize_publish(actor)
    _check_move(article, ArticleStatus.ARCHIVED)
    return actions.do_archive_article(article, actor=actor)


def check_save_category(actor: User, category: Category | None, **raw: Any) -> Category:
    authorize_categories(actor)
    values = {k: v for k, v in raw.items() if k in actions.CATEGORY_FIELDS}
    if "name" in values:
        values["name"] = clean_line(values["name"] or "")
    if "description" in values:
        values["description"] = clean_line(values["description"] or "")
    return actions.do_save_category(category, values=values, actor=actor)
