"""The typed events of the knowledge base (history: ``KbEvent``).

The row's ``article`` or ``category`` column says what the event is about. Article
events carry no text (the revision holds it): a customer reads the title and status only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from retainer.kb.choices import KbEventType
from retainer.lib.events import Event


@dataclass(frozen=True, kw_only=True)
class KbEventBase(Event):
    """A change to the knowledge base (a ``KbEvent`` row)."""

    history = "kb.kbevent"


@dataclass(frozen=True, kw_only=True)
class ArticleCreated(KbEventBase):
    """An article was written (as a draft), with its first revision."""

    name = "article.created"
    type = KbEventType.ARTICLE_CREATED
    customer_fields = frozenset({"title"})

    title: str
    visibility: str
    revision: int


@dataclass(frozen=True, kw_only=True)
class ArticleEdited(KbEventBase):
    """An article was changed; text changes wrote the revision ``revision``."""

    name = "article.edited"
    type = KbEventType.ARTICLE_EDITED
    customer_fields = frozenset({"title"})

    title: str
    changes: dict[str, dict[str, Any]]
    revision: int | None = None


@dataclass(frozen=True, kw_only=True)
class ArticlePublished(KbEventBase):
    """An article was published (its publisher is recorded as its reviewer)."""

    name = "article.published"
    type = KbEventType.ARTICLE_PUBLISHED
    customer_fields = frozenset({"title", "visibility"})

    title: str
    visibility: str


@dataclass(frozen=True, kw_only=True)
class ArticleArchived(KbEventBase):
    """An article was archived: nobody but staff reads it any more."""

    name = "article.archived"
    type = KbEventType.ARTICLE_ARCHIVED
    customer_fields = frozenset({"title"})

    title: str


@dataclass(frozen=True, kw_only=True)
class CategorySaved(KbEventBase):
    """A help-centre category was created or changed."""

    name = "category.saved"
    type = KbEventType.CATEGORY_SAVED
    customer_fields = frozenset({"category_name"})

    category_name: str
    created: bool = False
    changes: dict[str, dict[str, Any]]


@dataclass(frozen=True, kw_only=True)
class ArticleLinked(KbEventBase):
    """An agent linked the article to a case (``drafted``: the article was written from
    that case)."""

    name = "article.linked"
    type = KbEventType.ARTICLE_LINKED

    case: int
    reference: str
    drafted: bool = False


@dataclass(frozen=True, kw_only=True)
class ArticleUnlinked(KbEventBase):
    """An agent removed the article's link to a case."""

    name = "article.unlinked"
    type = KbEventType.ARTICLE_UNLINKED

    case: int
    reference: str
