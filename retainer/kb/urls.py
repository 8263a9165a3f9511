"""Pages of the knowledge base: the console (``/console/kb/…``, staff) and the public
help centre (``/help/``), and the
suggestions of the portal's new-case form (``/portal/help/suggestions/``)."""

from django.urls import path

from retainer.kb import views

app_name = "kb"

urlpatterns = [
    path("console/kb/articles/", views.article_list, name="article_list"),
    path("console/kb/articles/new/", views.article_new, name="article_new"),
    path("console/kb/articles/<id:pk>/", views.article_detail, name="article_detail"),
    path("console/kb/articles/<id:pk>/edit/", views.article_edit, name="article_edit"),
    path("console/kb/articles/<id:pk>/publish/", views.article_publish, name="article_publish"),
    path("console/kb/articles/<id:pk>/archive/", views.article_archive, name="article_archive"),
    path("console/kb/articles/<id:pk>/diff/", views.article_diff, name="article_diff"),
    path(
        "console/kb/cases/<str:public_id>/articles/",
        views.case_article_search,
        name="case_article_search",
    ),
    path(
        "console/kb/cases/<str:public_id>/articles/link/",
        views.case_article_link,
        name="case_article_link",
    ),
    path(
        "console/kb/cases/<str:public_id>/articles/<id:pk>/unlink/",
        views.case_article_unlink,
        name="case_article_unlink",
    ),
    path(
        "console/kb/cases/<str:public_id>/draft/",
        views.article_from_case,
        name="article_from_case",
    ),
    path("console/kb/categories/", views.category_list, name="category_list"),
    path("console/kb/categories/<id:pk>/edit/", views.category_edit, name="category_edit"),
    path("help/", views.help_home, name="help_home"),
    path("help/<slug:slug>/", views.help_article, name="help_article"),
    path("help/<slug:slug>/views/", views.help_article_view, name="help_article_view"),
    path("help/<slug:slug>/feedback/", views.help_article_feedback, name="help_article_feedback"),
    # Suggestions while a contact writes a new case (the portal's new-case form).
    path("portal/help/suggestions/", views.suggestions, name="suggestions"),
    path("portal/help/suggestions/solved/", views.suggestion_solved, name="suggestion_solved"),
    path("portal/help/suggestions/cases/", views.suggestion_case_new, name="suggestion_case_new"),
]
