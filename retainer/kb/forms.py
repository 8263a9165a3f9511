"""Forms of the knowledge base: the console's article and category forms, and the help
centre's search box. Bounds come from the model and ``lib.limits``."""

from __future__ import annotations

from typing import Any

from django import forms

from retainer.catalog.models import Product, Release
from retainer.contracts.choices import Tier
from retainer.kb.choices import ArticleStatus, Visibility
from retainer.kb.models import (
    FEEDBACK_COMMENT_MAX_LENGTH,
    SESSION_TOKEN_MAX_LENGTH,
    SUMMARY_MAX_LENGTH,
    TAGS_MAX_LENGTH,
    Article,
    Category,
)
from retainer.kb.search import QUERY_MAX_LENGTH
from retainer.lib.limits import SUBJECT_MAX_LENGTH, TEXT_MAX_LENGTH


class ArticleForm(forms.Form):
    title = forms.CharField(label="Title", max_length=SUBJECT_MAX_LENGTH)
    summary = forms.CharField(
        label="Summary", max_length=SUMMARY_MAX_LENGTH, required=False,
        help_text="One or two sentences shown in lists and search results.",
    )  # fmt: skip
    body = forms.CharField(
        label="Body", widget=forms.Textarea(attrs={"rows": 18}), max_length=TEXT_MAX_LENGTH,
        required=False, help_text="Markdown. Needed before the article is published.",
    )  # fmt: skip
    category = forms.ModelChoiceField(
        label="Category", queryset=Category.objects.all(), required=False
    )
    tags = forms.CharField(
        label="Tags", max_length=TAGS_MAX_LENGTH, required=False, help_text="Comma-separated."
    )
    product = forms.ModelChoiceField(
        label="Product", queryset=Product.objects.all(), required=False
    )
    release_from = forms.ModelChoiceField(
        label="From release", queryset=Release.objects.select_related("product"), required=False
    )
    release_to = forms.ModelChoiceField(
        label="To release", queryset=Release.objects.select_related("product"), required=False
    )
    visibility = forms.ChoiceField(
        label="Visibility", choices=Visibility.choices, initial=Visibility.INTERNAL
    )
    plan_tiers = forms.MultipleChoiceField(
        label="Plan tiers", choices=Tier.choices, required=False,
        widget=forms.CheckboxSelectMultiple, help_text="For plans visibility.",
    )  # fmt: skip

    @classmethod
    def initial_for(cls, article: Article) -> dict[str, Any]:
        return {
            "title": article.title,
            "summary": article.summary,
            "body": article.body,
            "category": article.category_id,
            "tags": ", ".join(article.tag_list),
            "product": article.product_id,
            "release_from": article.release_from_id,
            "release_to": article.release_to_id,
            "visibility": article.visibility,
            "plan_tiers": article.tier_list,
        }


class CategoryForm(forms.Form):
    name = forms.CharField(label="Name", max_length=80)
    description = forms.CharField(
        label="Description", max_length=SUMMARY_MAX_LENGTH, required=False
    )
    position = forms.IntegerField(label="Position", min_value=0, max_value=32767, initial=0)


class ArticleFilterForm(forms.Form):
    """The console list's filters (unknown values are ignored, not errors)."""

    q = forms.CharField(label="Text", max_length=QUERY_MAX_LENGTH, required=False)
    status = forms.ChoiceField(
        label="Status", choices=[("", "Any"), *ArticleStatus.choices], required=False
    )
    visibility = forms.ChoiceField(
        label="Visibility", choices=[("", "Any"), *Visibility.choices], required=False
    )
    product = forms.ModelChoiceField(
        label="Product", queryset=Product.objects.all(), required=False, empty_label="Any"
    )
    category = forms.ModelChoiceField(
        label="Category", queryset=Category.objects.all(), required=False, empty_label="Any"
    )
    needs_review = forms.BooleanField(label="Needs review", required=False)


class HelpSearchForm(forms.Form):
    q = forms.CharField(label="Search the help centre", max_length=QUERY_MAX_LENGTH, required=False)


class FeedbackForm(forms.Form):
    """ "Was this helpful?": yes or no (two buttons) and an optional plain-text comment."""

    helpful = forms.TypedChoiceField(
        label="Was this helpful?",
        choices=[("yes", "Yes"), ("no", "No")],
        coerce=lambda value: value == "yes",
    )
    comment = forms.CharField(
        label="Anything we should add or fix? (optional)",
        max_length=FEEDBACK_COMMENT_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class SuggestionsForm(forms.Form):
    """What the new-case form sends while the contact types (bounds: the case's own)."""

    session = forms.CharField(max_length=SESSION_TOKEN_MAX_LENGTH)
    subject = forms.CharField(max_length=SUBJECT_MAX_LENGTH, required=False)
    description = forms.CharField(max_length=TEXT_MAX_LENGTH, required=False)


class SolvedForm(forms.Form):
    """ "This solved my problem": the session and the article (its public id)."""

    session = forms.CharField(max_length=SESSION_TOKEN_MAX_LENGTH)
    article = forms.CharField(max_length=SESSION_TOKEN_MAX_LENGTH)
