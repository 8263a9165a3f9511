"""Explicit input and output shapes of the knowledge base API. Customers get the
smaller ``ArticleCustomerOut`` (no author, reviewer or internal fields)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from retainer.catalog.models import Product, Release
from retainer.contracts.choices import Tier
from retainer.kb.choices import SuggestionKind, Visibility
from retainer.kb.models import (
    FEEDBACK_COMMENT_MAX_LENGTH,
    SESSION_TOKEN_MAX_LENGTH,
    SUMMARY_MAX_LENGTH,
    Article,
    ArticleRevision,
    Category,
)
from retainer.kb.search import QUERY_MAX_LENGTH, SearchHit
from retainer.lib.api import TextField
from retainer.lib.limits import SUBJECT_MAX_LENGTH


class ArticleIn(serializers.Serializer):
    title = serializers.CharField(max_length=SUBJECT_MAX_LENGTH)
    summary = serializers.CharField(max_length=SUMMARY_MAX_LENGTH, required=False, allow_blank=True)
    body = TextField(required=False, allow_blank=True, help_text="Markdown.")
    tags = serializers.ListField(
        child=serializers.CharField(max_length=40), max_length=20, required=False
    )
    category = serializers.PrimaryKeyRelatedField(
        queryset=Category.objects.all(), required=False, allow_null=True
    )
    product = serializers.PrimaryKeyRelatedField(
        queryset=Product.objects.all(), required=False, allow_null=True
    )
    release_from = serializers.PrimaryKeyRelatedField(
        queryset=Release.objects.all(), required=False, allow_null=True
    )
    release_to = serializers.PrimaryKeyRelatedField(
        queryset=Release.objects.all(), required=False, allow_null=True
    )
    visibility = serializers.ChoiceField(choices=Visibility.choices, required=False)
    plan_tiers = serializers.ListField(
        child=serializers.ChoiceField(choices=Tier.choices), max_length=len(Tier.values),
        required=False,
    )  # fmt: skip


class _ArticleBase(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id", read_only=True)
    tags = serializers.SerializerMethodField()
    category_name = serializers.SerializerMethodField()

    def get_tags(self, article: Article) -> list[str]:
        return article.tag_list

    def get_category_name(self, article: Article) -> str | None:
        return article.category.name if article.category else None


class ArticleCustomerOut(_ArticleBase):
    class Meta:
        model = Article
        fields = [
            "id", "slug", "title", "summary", "body", "tags", "category", "category_name",
            "product", "release_from", "release_to", "visibility", "published_at", "updated_at",
        ]  # fmt: skip


class ArticleStaffOut(_ArticleBase):
    plan_tiers = serializers.SerializerMethodField()

    class Meta:
        model = Article
        fields = [
            *ArticleCustomerOut.Meta.fields, "plan_tiers", "status", "author", "reviewer",
            "reviewed_at", "created_at",
        ]  # fmt: skip

    def get_plan_tiers(self, article: Article) -> list[str]:
        return article.tier_list


class RevisionOut(serializers.ModelSerializer):
    class Meta:
        model = ArticleRevision
        fields = ["number", "title", "summary", "body", "author", "created_at"]


class SearchQueryIn(serializers.Serializer):
    q = serializers.CharField(
        max_length=QUERY_MAX_LENGTH, required=False, allow_blank=True, default=""
    )
    limit = serializers.IntegerField(min_value=1, max_value=50, required=False, default=10)


class SnippetPartOut(serializers.Serializer):
    text = serializers.CharField()
    highlighted = serializers.BooleanField()


class SearchHitOut(serializers.Serializer):
    id = serializers.CharField(source="article.public_id")
    slug = serializers.CharField(source="article.slug")
    title = serializers.CharField(source="article.title")
    summary = serializers.CharField(source="article.summary")
    score = serializers.FloatField()
    snippet = serializers.SerializerMethodField()

    def get_snippet(self, hit: SearchHit) -> list[dict[str, Any]]:
        return [{"text": text, "highlighted": lit} for text, lit in hit.snippet]


class SearchOut(serializers.Serializer):
    query = serializers.CharField()
    results = SearchHitOut(many=True)


class CategoryOut(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "name", "description", "position"]


class CategoryIn(serializers.Serializer):
    name = serializers.CharField(max_length=80)
    description = serializers.CharField(
        max_length=SUMMARY_MAX_LENGTH, required=False, allow_blank=True
    )
    position = serializers.IntegerField(min_value=0, max_value=32767, required=False)


class FeedbackIn(serializers.Serializer):
    helpful = serializers.BooleanField()
    comment = serializers.CharField(
        max_length=FEEDBACK_COMMENT_MAX_LENGTH, required=False, allow_blank=True, default=""
    )


class FeedbackOut(serializers.Serializer):
    article = serializers.CharField(source="article.public_id", read_only=True)
    helpful = serializers.BooleanField(read_only=True)
    comment = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)


class DeflectionEventIn(serializers.Serializer):
    """One fact of a suggestion session the caller's own client showed: ``impression``
    (``articles`` shown), ``click`` or ``solved`` (one ``article``), or ``opened`` (the
    ``case`` opened anyway)."""

    session = serializers.CharField(max_length=SESSION_TOKEN_MAX_LENGTH)
    kind = serializers.ChoiceField(choices=SuggestionKind.choices)
    article = serializers.CharField(max_length=SESSION_TOKEN_MAX_LENGTH, required=False)
    articles = serializers.ListField(
        child=serializers.CharField(max_length=SESSION_TOKEN_MAX_LENGTH),
        max_length=5,
        required=False,
    )
    case = serializers.CharField(max_length=40, required=False)


class DeflectionEventOut(serializers.Serializer):
    session = serializers.CharField(read_only=True)
    kind = serializers.CharField(read_only=True)
    recorded = serializers.BooleanField(read_only=True, help_text="False: already recorded.")
