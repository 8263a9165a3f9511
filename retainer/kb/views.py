"""The knowledge base's pages: the console (articles with their revisions and diffs,
categories) for staff, and the public help centre (``/help/``) for everyone.

Console mutations are POSTs that redirect back with a message; a form refused by its
check is shown again with the errors beside the fields (status 400). The help centre
reads only through ``kb.access.articles_readable_by`` and ``kb.search.search_articles``:
an article a visitor may not read is a 404, exactly like one that does not exist.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from retainer.accounts.access import customer_contact, request_user
from retainer.accounts.views import contact_required, staff_required
from retainer.cases.access import access_case
from retainer.cases.actions import check_open_case
from retainer.cases.forms.portal import NewCaseForm
from retainer.cases.models import Case
from retainer.contracts.choices import Channel
from retainer.kb import actions, checks, selectors
from retainer.kb.access import (
    access_article,
    access_article_by_slug,
    access_staff_article,
    articles_readable_by,
    articles_visible_to,
)
from retainer.kb.choices import SuggestionKind
from retainer.kb.forms import (
    ArticleFilterForm,
    ArticleForm,
    CategoryForm,
    FeedbackForm,
    HelpSearchForm,
    SolvedForm,
    SuggestionsForm,
)
from retainer.kb.models import (
    Article,
    ArticleFeedback,
    ArticleRevision,
    CaseArticle,
    Category,
    KbEvent,
)
from retainer.kb.search import search_articles
from retainer.lib.converters import parse_id
from retainer.lib.errors import Conflict, DomainError, NotPermitted, add_to_form, report
from retainer.lib.sanitize import clean_line

HELP_LIST_LIMIT = 200
#: Articles the case page's search shows.
CASE_SEARCH_LIMIT = 5
#: Linked cases listed on an article's console page (the latest first).
LINKED_CASES_SHOWN = 50


def _require(authorize: Callable[..., None], *args: Any) -> None:
    """Run an ``authorize_*`` rule of ``checks``: a refusal is the 403 page."""
    try:
        authorize(*args)
    except NotPermitted as exc:
        raise PermissionDenied(exc.detail) from exc


def _filtered(request: HttpRequest, form: ArticleFilterForm) -> Any:
    articles = articles_visible_to(request_user(request))
    if not form.is_valid():
        return articles, ""
    values = form.cleaned_data
    for name in ("status", "visibility", "product", "category"):
        if values.get(name):
            articles = articles.filter(**{name: values[name]})
    if values.get("needs_review"):
        articles = selectors.articles_needing_review(articles)
    return articles, values.get("q", "").strip()


@require_safe
@staff_required
def article_list(request: HttpRequest) -> HttpResponse:
    """Every article in any status, filtered by status, visibility, product, category
    and text (ranked by the one search function when text is given)."""
    user = request_user(request)
    _require(checks.authorize_view, user)
    form = ArticleFilterForm(request.GET)
    articles, q = _filtered(request, form)
    hits = (
        search_articles(user, q, include_unpublished=True, within=articles, limit=50) if q else None
    )
    page = None
    if hits is None:
        listed = selectors.with_review_flag(selectors.articles_for_list(articles)).order_by(
            "-updated_at", "-id"
        )
        page = Paginator(listed, 25).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    flagged = set()
    if hits:
        flagged = set(
            selectors.articles_needing_review(
                Article.objects.filter(pk__in=[h.article.pk for h in hits])
            ).values_list("pk", flat=True)
        )
    context = {
        "form": form,
        "page": page,
        "hits": hits,
        "flagged": flagged,
        "query": query.urlencode(),
        "review_days": settings.RETAINER_KB_REVIEW_DAYS,
    }
    return render(request, "kb/article_list.html", context, status=200 if form.is_valid() else 400)


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required
def article_new(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    _require(checks.authorize_create_article, user)
    form = ArticleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            article = checks.check_create_article(user, **form.cleaned_data)
        except (DomainError, ValidationError) as exc:
            add_to_form(form, exc)
        else:
            messages.success(request, "Draft saved.")
            return redirect("kb:article_detail", pk=article.pk)
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "kb/article_form.html", {"form": form, "article": None}, status=status)


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required
def article_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Drafts: ``kb.change_article``; published or archived: also ``kb.publish_article``."""
    user = request_user(request)
    article = access_staff_article(user, pk)
    _require(checks.authorize_edit_article, user, article)
    form = ArticleForm(request.POST or None, initial=ArticleForm.initial_for(article))
    if request.method == "POST" and form.is_valid():
        try:
            checks.check_edit_article(user, article, **form.cleaned_data)
        except (DomainError, ValidationError) as exc:
            add_to_form(form, exc)
        else:
            messages.success(request, "Article saved.")
            return redirect("kb:article_detail", pk=article.pk)
    status = 400 if form.is_bound and form.errors else 200
    context = {"form": form, "article": article}
    return render(request, "kb/article_form.html", context, status=status)


@require_safe
@staff_required
def article_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    _require(checks.authorize_view, user)
    article = selectors.article_with_relations(pk=access_staff_article(user, pk).pk)
    context = {
        "article": article,
        "revisions": list(selectors.revisions_for_article(article=article)[:100]),
        "events": KbEvent.objects.filter(article=article).select_related("actor")[:50],
        "stats": selectors.article_stats(article=article),
        "case_links": list(
            CaseArticle.objects.filter(article=article)
            .select_related("case", "linked_by")
            .order_by("-linked_at", "-id")[:LINKED_CASES_SHOWN]
        ),
        "case_link_count": CaseArticle.objects.filter(article=article).count(),
        "needs_review": selectors.articles_needing_review(
            Article.objects.filter(pk=article.pk)
        ).exists(),
        "review_days": settings.RETAINER_KB_REVIEW_DAYS,
    }
    return render(request, "kb/article_detail.html", context)


def _move(request: HttpRequest, pk: int, check: Callable[..., Article], done: str) -> HttpResponse:
    user = request_user(request)
    article = access_staff_article(user, pk)
    try:
        check(user, article)
    except (DomainError, ValidationError) as exc:
        report(request, exc)
    else:
        messages.success(request, done)
    return redirect("kb:article_detail", pk=article.pk)


@require_POST
@staff_required
def article_publish(request: HttpRequest, pk: int) -> HttpResponse:
    return _move(request, pk, checks.check_publish_article, "Published.")


@require_POST
@staff_required
def article_archive(request: HttpRequest, pk: int) -> HttpResponse:
    return _move(request, pk, checks.check_archive_article, "Archived.")


def _revision(revisions: list[ArticleRevision], raw: str | None, default: int) -> ArticleRevision:
    by_number = {r.number: r for r in revisions}
    number = int(raw) if raw and raw.isascii() and raw.isdigit() and len(raw) < 9 else default
    if number not in by_number:
        raise Http404
    return by_number[number]


@require_safe
@staff_required
def article_diff(request: HttpRequest, pk: int) -> HttpResponse:
    """Two revisions side by side as a line diff (``?from=1&to=3``; by default the
    latest against the one before)."""
    user = request_user(request)
    _require(checks.authorize_view, user)
    article = access_staff_article(user, pk)
    revisions = list(selectors.revisions_for_article(article=article))
    if not revisions:
        raise Http404
    latest = revisions[0].number
    new = _revision(revisions, request.GET.get("to"), latest)
    old = _revision(revisions, request.GET.get("from"), max(new.number - 1, 1))
    context = {
        "article": article,
        "old": old,
        "new": new,
        "lines": selectors.diff_revisions(old, new),
        "revisions": revisions,
    }
    return render(request, "kb/article_diff.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required
def category_list(request: HttpRequest) -> HttpResponse:
    """The categories; POST adds one (``kb.add_category`` and ``kb.change_category``)."""
    user = request_user(request)
    # The same permissions as the API's POST: adding needs no read permission of its own.
    _require(
        checks.authorize_categories if request.method == "POST" else checks.authorize_view, user
    )
    form = CategoryForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            checks.check_save_category(user, None, **form.cleaned_data)
        except (DomainError, ValidationError) as exc:
            add_to_form(form, exc)
        else:
            messages.success(request, "Category added.")
            return redirect("kb:category_list")
    categories = selectors.categories_with_counts(Article.objects.all())
    others = Category.objects.exclude(pk__in=[c.pk for c in categories])
    context = {"categories": [*categories, *others], "form": form}
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "kb/category_list.html", context, status=status)


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required
def category_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    _require(checks.authorize_categories, user)
    category = Category.objects.filter(pk=pk).first()
    if category is None:
        raise Http404
    initial = {"name": category.name, "description": category.description}
    form = CategoryForm(request.POST or None, initial={**initial, "position": category.position})
    if request.method == "POST" and form.is_valid():
        try:
            checks.check_save_category(user, category, **form.cleaned_data)
        except (DomainError, ValidationError) as exc:
            add_to_form(form, exc)
        else:
            messages.success(request, "Category saved.")
            return redirect("kb:category_list")
    status = 400 if form.is_bound and form.errors else 200
    context = {"form": form, "category": category}
    return render(request, "kb/category_form.html", context, status=status)


# --- The help centre -------------------------------------------------------------------------


@require_safe
def help_home(request: HttpRequest) -> HttpResponse:
    """Categories and the articles the visitor may read; with ``?q=`` the search results
    (one search function, access applied before ranking); ``?category=<id>`` narrows."""
    readable = articles_readable_by(request.user)
    form = HelpSearchForm(request.GET)
    q = clean_line(form.cleaned_data["q"]) if form.is_valid() else ""
    category = request.GET.get("category", "")
    if category.isascii() and category.isdigit() and len(category) < 10:
        readable = readable.filter(category_id=int(category))
    hits = None
    if q:
        try:
            hits = search_articles(request.user, q, limit=20, within=readable)
        except DomainError as exc:
            add_to_form(form, exc)
    context = {
        "form": form,
        "q": q,
        "hits": hits,
        "categories": selectors.categories_with_counts(articles_readable_by(request.user)),
        "articles": selectors.articles_for_list(readable).order_by("category__position", "title")[
            :HELP_LIST_LIMIT
        ],
        "category": category,
    }
    return render(request, "kb/help_home.html", context, status=400 if form.errors else 200)


def _visitor(request: HttpRequest) -> str:
    """The reader, for one answer and one view a day: the signed-in user, else the
    browser's session (its session key, or its CSRF cookie, which every POST carries)."""
    key = request.session.session_key or request.COOKIES.get(settings.CSRF_COOKIE_NAME)
    return checks.visitor_key(request.user, key)


def _suggestion_token(request: HttpRequest) -> str:
    """The suggestion session an article was opened from (``?suggestion=``), for a
    customer contact; empty otherwise."""
    raw = request.GET.get("suggestion", "")
    if customer_contact(request.user) is None:
        return ""
    try:
        return checks.session_token(raw)
    except DomainError:
        return ""


def _render_article(
    request: HttpRequest, article: Article, form: FeedbackForm, status: int = 200
) -> HttpResponse:
    answered = ArticleFeedback.objects.filter(article=article, visitor=_visitor(request)).exists()
    context = {
        "article": article,
        "feedback_form": form,
        "answered": answered,
        "suggestion": _suggestion_token(request),
    }
    return render(request, "kb/help_article.html", context, status=status)


@require_safe
def help_article(request: HttpRequest, slug: str) -> HttpResponse:
    """One article, with "Was this helpful?"; opened from a suggestion of the new-case
    form (``?suggestion=<session>``), also "This solved my problem". Nothing is written
    here: the page counts its view with a POST (``help_article_view``) once loaded."""
    article = access_article_by_slug(request.user, slug)
    return _render_article(request, article, FeedbackForm())


@require_POST
def help_article_view(request: HttpRequest, slug: str) -> HttpResponse:
    """Count a view (once per reader, article and day); with ``suggestion``, also the
    click from the new-case form's suggestions. Answers 204 whatever the outcome."""
    article = access_article_by_slug(request.user, slug)
    actions.do_record_view(article, visitor=_visitor(request))
    raw = request.POST.get("suggestion", "")
    if raw and customer_contact(request.user) is not None:
        # A stale or foreign session: the view still counts, the click does not.
        with contextlib.suppress(DomainError):
            checks.check_record_suggestion(
                request.user, raw, kind=SuggestionKind.CLICK, article=article
            )
    return HttpResponse(status=204)


@require_POST
def help_article_feedback(request: HttpRequest, slug: str) -> HttpResponse:
    """ "Was this helpful?": one answer per reader and article (anonymous readers: per
    browser session, public articles only); a second answer is refused with a message."""
    article = access_article_by_slug(request.user, slug)
    form = FeedbackForm(request.POST)
    if form.is_valid():
        try:
            checks.check_feedback(
                request.user, article, visitor=_visitor(request), **form.cleaned_data
            )
        except Conflict as exc:
            report(request, exc)
        except (DomainError, ValidationError) as exc:
            add_to_form(form, exc)
        else:
            messages.success(request, "Thank you for your feedback.")
    if form.errors:
        return _render_article(request, article, form, status=400)
    return redirect("kb:help_article", slug=article.slug)


# --- Suggestions while a contact writes a new case --------------------------------------------


@require_POST
@contact_required
def suggestions(request: HttpRequest) -> HttpResponse:
    """Up to five articles for what the contact is writing (the new-case form posts the
    subject and description as they type): the fragment of the suggestions box, and the
    form's submit button switched to ``suggestion_case_new`` once something was shown."""
    form = SuggestionsForm(request.POST)
    if not form.is_valid():
        return render(request, "kb/partials/suggestions.html", {"form": form}, status=400)
    values = form.cleaned_data
    try:
        session, hits = checks.check_suggest(request_user(request), **values)
    except DomainError as exc:
        add_to_form(form, exc)
        return render(request, "kb/partials/suggestions.html", {"form": form}, status=400)
    context = {
        "hits": hits,
        "token": session.token,
        "showed": bool(hits) or checks.showed_suggestions(session),
        "typed": bool((values["subject"] + values["description"]).strip()),
    }
    return render(request, "kb/partials/suggestions.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
@contact_required
def suggestion_solved(request: HttpRequest) -> HttpResponse:
    """POST: "This solved my problem" for an article the session suggested: no case is
    opened, the deflection is recorded; then (GET) the confirmation."""
    if request.method != "POST":
        return render(request, "kb/suggestion_solved.html")
    form = SolvedForm(request.POST)
    if not form.is_valid():
        return render(request, "kb/suggestion_solved.html", {"form": form}, status=400)
    user = request_user(request)
    article = access_article(user, form.cleaned_data["article"])
    try:
        checks.check_record_suggestion(
            user, form.cleaned_data["session"], kind=SuggestionKind.SOLVED, article=article
        )
    except (DomainError, ValidationError) as exc:
        add_to_form(form, exc)
        return render(request, "kb/suggestion_solved.html", {"form": form}, status=400)
    return redirect("kb:suggestion_solved")


@require_POST
@contact_required
def suggestion_case_new(request: HttpRequest) -> HttpResponse:
    """The new-case form's submit once suggestions were shown: opens the case exactly as
    ``portal:case_new`` does (the same form and check), then records "opened the case
    anyway" in the form's suggestion session. A stale or foreign session never stops
    the case; it only goes unrecorded."""
    user = request_user(request)
    form = NewCaseForm(request.POST)
    raw = request.POST.get("suggestion_session", "")
    if form.is_valid():
        try:
            case = check_open_case(
                user,
                contact=request.contact,  # type: ignore[attr-defined]
                channel=Channel.WEB,
                **form.cleaned_data,
            )
        except (DomainError, ValidationError) as exc:
            add_to_form(form, exc)
        else:
            with contextlib.suppress(DomainError):
                checks.check_record_suggestion(user, raw, kind=SuggestionKind.OPENED, case=case)
            return redirect("portal:case_detail", public_id=case.public_id)
    token = raw if isinstance(raw, str) and checks.TOKEN.fullmatch(raw) else None
    context = {
        "form": form,
        "suggestion_session": token,
        "suggestion_formaction": reverse("kb:suggestion_case_new") if token else "",
    }
    return render(request, "portal/case_new.html", context, status=400)


# --- Articles on a case (the console's case page) ---------------------------------------------


def _case_for_links(request: HttpRequest, public_id: str) -> Case:
    user = request_user(request)
    case = access_case(user, public_id, for_write=True)
    _require(checks.authorize_link_articles, user)
    return case


@require_safe
@staff_required
def case_article_search(request: HttpRequest, public_id: str) -> HttpResponse:
    """The case page's article search (an htmx fragment): published articles matching
    ``q``, each with *Link* and *Insert link*; a query too long is a 400 with its reason."""
    case = _case_for_links(request, public_id)
    query = request.GET.get("q", "")
    try:
        hits = search_articles(request_user(request), query, limit=CASE_SEARCH_LIMIT)
    except DomainError as exc:
        return render(
            request, "kb/partials/case_article_hits.html", {"error": exc.detail}, status=400
        )
    linked = set(CaseArticle.objects.filter(case=case).values_list("article_id", flat=True))
    context = {
        "case": case,
        "hits": hits,
        "query": query,
        "linked": linked,
        "base_url": settings.RETAINER_BASE_URL.rstrip("/"),
    }
    return render(request, "kb/partials/case_article_hits.html", context)


def _linked_redirect(case: Case) -> HttpResponse:
    return redirect(f"{reverse('console:case_page', args=[case.public_id])}#knowledge")


@require_POST
@staff_required
def case_article_link(request: HttpRequest, public_id: str) -> HttpResponse:
    case = _case_for_links(request, public_id)
    user = request_user(request)
    article_id = parse_id(request.POST.get("article", ""))
    if article_id is None:
        messages.error(request, "Choose an article to link.")
        return _linked_redirect(case)
    article = access_staff_article(user, article_id)
    try:
        checks.check_link_article(user, case, article)
    except (DomainError, ValidationError) as exc:
        report(request, exc)
    else:
        messages.success(request, f"“{article.title}” is linked to {case.reference}.")
    return _linked_redirect(case)


@require_POST
@staff_required
def case_article_unlink(request: HttpRequest, public_id: str, pk: int) -> HttpResponse:
    case = _case_for_links(request, public_id)
    user = request_user(request)
    article = access_staff_article(user, pk)
    if checks.check_unlink_article(user, case, article):
        messages.success(request, f"“{article.title}” is no longer linked to {case.reference}.")
    return _linked_redirect(case)


@require_POST
@staff_required
def article_from_case(request: HttpRequest, public_id: str) -> HttpResponse:
    """Write a draft from a resolved case and open it for editing."""
    case = _case_for_links(request, public_id)
    try:
        article = checks.check_draft_from_case(request_user(request), case)
    except (DomainError, ValidationError) as exc:
        report(request, exc)
        return _linked_redirect(case)
    messages.success(request, f"A draft was written from {case.reference}: finish it and publish.")
    return redirect("kb:article_edit", pk=article.pk)
