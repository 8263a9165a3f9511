"""REST API of the knowledge base: articles (staff write them with the permissions of
``kb/checks.py``; everyone signed in reads what ``kb.access`` lets them), their
revisions (staff), categories, and the one search function."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from retainer.accounts.access import customer_contact, is_vendor_staff, request_user
from retainer.cases.access import access_case
from retainer.kb import checks
from retainer.kb.access import access_article, articles_readable_by, articles_visible_to
from retainer.kb.choices import SuggestionKind
from retainer.kb.filters import ArticleFilter
from retainer.kb.models import Article, ArticleRevision, Category
from retainer.kb.search import search_articles
from retainer.kb.serializers import (
    ArticleCustomerOut,
    ArticleIn,
    ArticleStaffOut,
    CategoryIn,
    CategoryOut,
    DeflectionEventIn,
    DeflectionEventOut,
    FeedbackIn,
    FeedbackOut,
    RevisionOut,
    SearchOut,
    SearchQueryIn,
)
from retainer.lib.api import by_audience, validated
from retainer.lib.errors import NotFound, NotPermitted
from retainer.lib.idempotency import IDEMPOTENCY_PARAMETER, idempotent

ARTICLE_OUT = by_audience(ArticleStaffOut, ArticleCustomerOut)


def _out(user: Any, article: Article) -> dict[str, Any]:
    serializer = ArticleStaffOut if is_vendor_staff(user) else ArticleCustomerOut
    return dict(serializer(article).data)


class ArticleList(generics.ListAPIView):
    queryset = Article.objects.none()  # the real one depends on the user
    serializer_class = ArticleStaffOut
    filterset_class = ArticleFilter

    def get_queryset(self) -> QuerySet[Article]:
        return articles_visible_to(self.request.user).select_related("category")

    def get_serializer_class(self) -> Any:
        return ArticleStaffOut if is_vendor_staff(self.request.user) else ArticleCustomerOut

    @extend_schema(responses=by_audience(ArticleStaffOut, ArticleCustomerOut, many=True))
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=ArticleIn, responses={201: ArticleStaffOut}, parameters=[IDEMPOTENCY_PARAMETER]
    )
    @idempotent
    def post(self, request: Request) -> Response:
        actor = request_user(request)
        checks.authorize_create_article(actor)
        article = checks.check_create_article(actor, **validated(ArticleIn, request.data))
        return Response(ArticleStaffOut(article).data, status=status.HTTP_201_CREATED)


class ArticleDetail(APIView):
    @extend_schema(responses=ARTICLE_OUT)
    def get(self, request: Request, article_id: str) -> Response:
        return Response(_out(request.user, access_article(request.user, article_id)))

    @extend_schema(request=ArticleIn, responses=ArticleStaffOut)
    def patch(self, request: Request, article_id: str) -> Response:
        actor = request_user(request)
        article = access_article(actor, article_id)
        checks.authorize_edit_article(actor, article)
        values = validated(ArticleIn, request.data, partial=True)
        article = checks.check_edit_article(actor, article, **values)
        return Response(ArticleStaffOut(article).data)


class ArticlePublish(APIView):
    @extend_schema(request=None, responses=ArticleStaffOut)
    def post(self, request: Request, article_id: str) -> Response:
        actor = request_user(request)
        checks.authorize_publish(actor)
        article = checks.check_publish_article(actor, access_article(actor, article_id))
        return Response(ArticleStaffOut(article).data)


class ArticleArchive(APIView):
    @extend_schema(request=None, responses=ArticleStaffOut)
    def post(self, request: Request, article_id: str) -> Response:
        actor = request_user(request)
        checks.authorize_publish(actor)
        article = checks.check_archive_article(actor, access_article(actor, article_id))
        return Response(ArticleStaffOut(article).data)


class ArticleRevisions(generics.ListAPIView):
    """Every revision of an article, newest first (staff: ``kb.view_article``)."""

    queryset = ArticleRevision.objects.none()
    serializer_class = RevisionOut

    def get_queryset(self) -> QuerySet[ArticleRevision]:
        user = request_user(self.request)
        article = access_article(user, self.kwargs["article_id"])
        if not is_vendor_staff(user):
            # Revisions are the editors' working text: customers never see them.
            raise NotFound("not_found", "Not found.")
        checks.authorize_view(user)
        return ArticleRevision.objects.filter(article=article).select_related("author")


class ArticleSearch(APIView):
    """The one search function: the articles the caller may read, best first, with
    highlighted snippets. A query over 500 characters is a 400 ``query_too_long``."""

    @extend_schema(
        parameters=[
            OpenApiParameter("q", str, required=False, description="Words to look for."),
            OpenApiParameter("limit", int, required=False, description="1–50, default 10."),
        ],
        responses=SearchOut,
    )
    def get(self, request: Request) -> Response:
        params = validated(SearchQueryIn, request.query_params.dict(), refuse_unknown=False)
        hits = search_articles(request.user, params["q"], limit=params["limit"])
        return Response(SearchOut({"query": params["q"], "results": hits}).data)


class CategoryList(generics.ListAPIView):
    queryset = Category.objects.all()
    serializer_class = CategoryOut
    pagination_class = None

    @extend_schema(request=CategoryIn, responses={201: CategoryOut})
    def post(self, request: Request) -> Response:
        actor = request_user(request)
        checks.authorize_categories(actor)
        values = validated(CategoryIn, request.data)
        category = checks.check_save_category(actor, None, **values)
        return Response(CategoryOut(category).data, status=status.HTTP_201_CREATED)


class ArticleFeedbackCreate(APIView):
    """ "Was this helpful?" on a published article the caller may read: one answer per
    person and article (a second is a 409 ``feedback_already_given``)."""

    @extend_schema(request=FeedbackIn, responses={201: FeedbackOut})
    def post(self, request: Request, article_id: str) -> Response:
        actor = request_user(request)
        article = access_article(actor, article_id)
        values = validated(FeedbackIn, request.data)
        feedback = checks.check_feedback(
            actor, article, visitor=checks.visitor_key(actor, None), **values
        )
        return Response(FeedbackOut(feedback).data, status=status.HTTP_201_CREATED)


class DeflectionEventCreate(APIView):
    """Facts of a suggestion session shown by the caller's own client (customer contacts):
    impressions, a click, "solved", or the case opened anyway. Idempotent: a fact already
    recorded answers ``recorded: false`` and writes nothing."""

    @extend_schema(request=DeflectionEventIn, responses={200: DeflectionEventOut})
    def post(self, request: Request) -> Response:
        actor = request_user(request)
        if customer_contact(actor) is None:
            raise NotPermitted("permission_denied", "Suggestions are for customer contacts.")
        values = validated(DeflectionEventIn, request.data)
        kind = values["kind"]
        readable = articles_readable_by(actor)
        if kind == SuggestionKind.IMPRESSION:
            ids = values.get("articles") or ([values["article"]] if values.get("article") else [])
            shown = list(readable.filter(public_id__in=ids))
            if len(shown) != len(set(ids)) or not shown:
                raise NotFound("not_found", "No such article.")
            checks.check_impressions(actor, values["session"], shown)
            recorded = True
        else:
            article = case = None
            if kind == SuggestionKind.OPENED:
                case = access_case(actor, values.get("case") or "-")
            else:
                article = readable.filter(public_id=values.get("article") or "").first()
                if article is None:
                    raise NotFound("not_found", "No such article.")
            recorded = checks.check_record_suggestion(
                actor, values["session"], kind=kind, article=article, case=case
            )
        out = {"session": values["session"], "kind": kind, "recorded": recorded}
        return Response(DeflectionEventOut(out).data)
