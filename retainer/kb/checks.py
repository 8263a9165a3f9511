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

import hashlib
import re
import secrets
from collections.abc import Iterable, Mapping
from typing import Any

from retainer.accounts.access import customer_contact, is_vendor_staff
from retainer.accounts.models import User
from retainer.cases.choices import CaseStatus
from retainer.cases.models import Case
from retainer.kb import actions
from retainer.kb.choices import TRANSITIONS, ArticleStatus, SuggestionKind
from retainer.kb.models import (
    FEEDBACK_COMMENT_MAX_LENGTH,
    TAGS_MAX_LENGTH,
    Article,
    ArticleFeedback,
    CaseArticle,
    Category,
    SuggestionSession,
    stored_tiers,
)
from retainer.kb.search import QUERY_MAX_LENGTH, SearchHit, search_articles
from retainer.lib.errors import Conflict, InvalidInput, NotFound, NotPermitted
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


# --- Articles on cases ---------------------------------------------------------------------

#: Case states a draft may be written from: the problem and its answer are known.
DRAFTABLE = frozenset({CaseStatus.RESOLVED, CaseStatus.CLOSED})


def authorize_link_articles(actor: Any) -> None:
    """Linking articles to cases: staff who read articles and change cases."""
    require_staff_permission(actor, "kb.view_article", "cases.change_case")


def check_link_article(actor: User, case: Case, article: Article) -> CaseArticle:
    authorize_link_articles(actor)
    if article.status == ArticleStatus.ARCHIVED:
        raise Conflict("article_archived", "An archived article cannot be linked to a case.")
    return actions.do_link_article(case, article, actor=actor)


def check_unlink_article(actor: User, case: Case, article: Article) -> bool:
    authorize_link_articles(actor)
    return actions.do_unlink_article(case, article, actor=actor)


def check_draft_from_case(actor: User, case: Case) -> Article:
    authorize_link_articles(actor)
    authorize_create_article(actor)
    if case.status not in DRAFTABLE:
        raise Conflict(
            "case_not_resolved",
            "Write an article from a case once it is resolved: its answer is known then.",
        )
    return actions.do_draft_article_from_case(case, actor=actor)


def check_save_category(actor: User, category: Category | None, **raw: Any) -> Category:
    authorize_categories(actor)
    values = {k: v for k, v in raw.items() if k in actions.CATEGORY_FIELDS}
    if "name" in values:
        values["name"] = clean_line(values["name"] or "")
    if "description" in values:
        values["description"] = clean_line(values["description"] or "")
    return actions.do_save_category(category, values=values, actor=actor)


# --- Deflection, feedback and views ----------------------------------------------------------

#: At most this many articles are suggested while a contact writes a new case.
SUGGESTION_LIMIT = 5
TOKEN = re.compile(r"[A-Za-z0-9_-]{16,32}")


def new_session_token() -> str:
    """A suggestion session's id: 22 URL-safe characters, 128 random bits."""
    return secrets.token_urlsafe(16)


def session_token(raw: Any) -> str:
    """A well-formed session token, else ``InvalidInput`` on ``session``."""
    if not isinstance(raw, str) or not TOKEN.fullmatch(raw):
        raise InvalidInput(
            "invalid_session", "This suggestion session is not valid.", field="session"
        )
    return raw


def session_of(actor: Any, raw: Any) -> SuggestionSession | None:
    """The suggestion session ``raw`` if it exists; another person's session is
    ``NotFound``, exactly like a malformed one."""
    try:
        token = session_token(raw)
    except InvalidInput:
        raise NotFound("not_found", "No such suggestion session.") from None
    session = SuggestionSession.objects.filter(token=token).first()
    if session is not None and session.contact_id != getattr(actor, "pk", None):
        raise NotFound("not_found", "No such suggestion session.")
    return session


def suggestion_query(subject: str, description: str) -> str:
    """The words to search for: the subject, then the description, cut at a word so that
    the query stays within the search's limit."""
    text = clean_line(f"{subject or ''} {description or ''}")
    if len(text) <= QUERY_MAX_LENGTH:
        return text
    return text[:QUERY_MAX_LENGTH].rsplit(" ", 1)[0] + " "


def check_suggest(
    actor: Any, *, session: Any, subject: str, description: str
) -> tuple[SuggestionSession, list[SearchHit]]:
    """The articles to suggest for a new case being written (at most ``SUGGESTION_LIMIT``,
    through the one search function: only what the contact may read) and the session,
    which records them as shown. Customer contacts only."""
    if customer_contact(actor) is None:
        raise NotPermitted("permission_denied", "Suggestions are for customer contacts.")
    token = session_token(session)
    session_of(actor, token)  # another contact's session: 404
    text = suggestion_query(subject, description)
    hits = search_articles(actor, text, limit=SUGGESTION_LIMIT) if text.strip() else []
    record = actions.do_record_suggestions(
        token=token, contact=actor, articles=[hit.article for hit in hits]
    )
    return record, hits


def showed_suggestions(session: SuggestionSession | None) -> bool:
    return session is not None and session.records.filter(kind=SuggestionKind.IMPRESSION).exists()


def check_record_suggestion(
    actor: Any, raw_session: Any, *, kind: str, article: Article | None = None, case: Any = None
) -> bool:
    """Record a click, "solved" or "opened anyway" in the actor's session ``raw_session``.
    A click and "solved" name an article the actor may read (the caller accessed it) that
    the session showed; "opened" a case of theirs, and counts only in a session that
    showed suggestions. True when the fact is new."""
    if kind not in SuggestionKind.values or kind == SuggestionKind.IMPRESSION:
        raise InvalidInput("invalid_kind", "Record a click, solved or opened.", field="kind")
    session = session_of(actor, raw_session)
    if session is None:
        raise NotFound("not_found", "No such suggestion session.")
    if kind == SuggestionKind.OPENED:
        if case is None:
            raise InvalidInput("case_required", "Name the case that was opened.", field="case")
        if not showed_suggestions(session):
            return False
        return actions.do_record_suggestion(session, kind=kind, case=case)
    if (
        article is None
        or not session.records.filter(kind=SuggestionKind.IMPRESSION, article=article).exists()
    ):
        raise InvalidInput(
            "not_suggested", "This article was not suggested in this session.", field="article"
        )
    return actions.do_record_suggestion(session, kind=kind, article=article)


def visitor_key(user: Any, session_key: str | None) -> str:
    """Who gave feedback or viewed an article: ``user:<id>`` when signed in, else
    ``anon:`` and a hash of the browser session's key (never the key itself)."""
    if getattr(user, "is_authenticated", False):
        return f"user:{user.pk}"
    digest = hashlib.sha256((session_key or "").encode()).hexdigest()[:40]
    return f"anon:{digest}"


def check_feedback(
    actor: Any, article: Article, *, helpful: Any, comment: Any, visitor: str
) -> ArticleFeedback:
    """ "Was this helpful?" on a published article the caller may read (the caller
    accessed it; a draft or archived one is ``NotFound``). ``comment`` is plain text:
    control and invisible characters removed, at most ``FEEDBACK_COMMENT_MAX_LENGTH``."""
    if article.status != ArticleStatus.PUBLISHED:
        raise NotFound("not_found", "No such article.")
    if not isinstance(helpful, bool):
        raise InvalidInput("invalid", "Say yes or no.", field="helpful")
    text = _CONTROLS.sub("", strip_invisible_controls(str(comment or ""))).strip()
    if len(text) > FEEDBACK_COMMENT_MAX_LENGTH:
        raise InvalidInput(
            "comment_too_long",
            f"Write at most {FEEDBACK_COMMENT_MAX_LENGTH} characters.",
            field="comment",
        )
    user = actor if getattr(actor, "is_authenticated", False) else None
    return actions.do_record_feedback(
        article, helpful=helpful, comment=text, visitor=visitor, user=user
    )


def check_impressions(actor: Any, raw_session: Any, articles: list[Article]) -> SuggestionSession:
    """Record that the caller's client showed ``articles`` (already access-filtered) in its
    session ``raw_session``; customer contacts only."""
    if customer_contact(actor) is None:
        raise NotPermitted("permission_denied", "Suggestions are for customer contacts.")
    token = session_token(raw_session)
    session_of(actor, token)
    return actions.do_record_suggestions(token=token, contact=actor, articles=articles)
