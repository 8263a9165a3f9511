"""Constants of the knowledge base. Labels are for people; values are the data keys."""

from django.db import models


class ArticleStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"
    ARCHIVED = "archived", "Archived"


class Visibility(models.TextChoices):
    """Who may read a published article (staff read every article)."""

    PUBLIC = "public", "Public: anyone, without signing in"
    CUSTOMERS = "customers", "Customers: any signed-in contact"
    PLANS = "plans", "Plans: contacts whose organization has an active contract of a listed tier"
    INTERNAL = "internal", "Internal: vendor staff only"


class KbEventType(models.TextChoices):
    ARTICLE_CREATED = "article_created"
    ARTICLE_EDITED = "article_edited"
    ARTICLE_PUBLISHED = "article_published"
    ARTICLE_ARCHIVED = "article_archived"
    CATEGORY_SAVED = "category_saved"
    ARTICLE_LINKED = "article_linked"
    ARTICLE_UNLINKED = "article_unlinked"


class SuggestionKind(models.TextChoices):
    """What a suggestion session recorded (``SuggestionRecord.kind``): one row per fact."""

    IMPRESSION = "impression", "Shown"
    CLICK = "click", "Opened"
    SOLVED = "solved", "Solved the problem"
    OPENED = "opened", "Opened the case anyway"


# Moves between statuses: anything else is refused.
TRANSITIONS: dict[str, frozenset[str]] = {
    ArticleStatus.DRAFT: frozenset({ArticleStatus.PUBLISHED, ArticleStatus.ARCHIVED}),
    ArticleStatus.PUBLISHED: frozenset({ArticleStatus.ARCHIVED}),
    ArticleStatus.ARCHIVED: frozenset({ArticleStatus.PUBLISHED}),
}
