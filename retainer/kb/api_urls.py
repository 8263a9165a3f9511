from django.urls import path

from retainer.kb import api

urlpatterns = [
    path("kb/articles/", api.ArticleList.as_view(), name="article_list"),
    path("kb/articles/<str:article_id>/", api.ArticleDetail.as_view(), name="article_detail"),
    path(
        "kb/articles/<str:article_id>/publish/",
        api.ArticlePublish.as_view(),
        name="article_publish",
    ),
    path(
        "kb/articles/<str:article_id>/archive/",
        api.ArticleArchive.as_view(),
        name="article_archive",
    ),
    path(
        "kb/articles/<str:article_id>/revisions/",
        api.ArticleRevisions.as_view(),
        name="article_revisions",
    ),
    path(
        "kb/articles/<str:article_id>/feedback/",
        api.ArticleFeedbackCreate.as_view(),
        name="article_feedback",
    ),
    path("kb/deflection-events/", api.DeflectionEventCreate.as_view(), name="deflection_events"),
    path("kb/search/", api.ArticleSearch.as_view(), name="article_search"),
    path("kb/categories/", api.CategoryList.as_view(), name="category_list"),
]
