"""Filters of the article list in the API (the console's list uses the same fields)."""

import django_filters

from retainer.kb.models import Article


class ArticleFilter(django_filters.FilterSet):
    class Meta:
        model = Article
        fields = ["status", "visibility", "product", "category"]
