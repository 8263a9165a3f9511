"""Defects in the console: the list with filters, a new defect, and one defect with the
cases linked to it, where an agent links another case or marks it fixed in a release.
The permissions are the API's (``cases.add_defect``, ``cases.change_defect``; linking a
case is a change of the case, ``cases.change_case``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from retainer.accounts.access import request_user
from retainer.accounts.views import staff_required
from retainer.cases import actions, workflow
from retainer.cases.access import access_defect, cases_visible_to
from retainer.cases.forms.defects import DefectFilterForm, DefectForm, FixReleaseForm, LinkCaseForm
from retainer.cases.models import Case, Defect
from retainer.lib.errors import DomainError, add_to_form, report

DEFECTS_PER_PAGE = 25


def _filtered(defects: QuerySet[Defect], form: DefectFilterForm) -> QuerySet[Defect]:
    if not form.is_valid():
        return defects.none()
    data = form.cleaned_data
    if data["status"]:
        defects = defects.filter(status=data["status"])
    if data["product"] is not None:
        defects = defects.filter(product=data["product"])
    q = data["q"].strip()
    if q:
        number = q.upper().removeprefix("DEF-")
        by_id = Q(pk=int(number)) if number.isdigit() and len(number) < 12 else Q()
        defects = defects.filter(Q(title__icontains=q) | by_id)
    return defects


@require_safe
@staff_required
def defect_list(request: HttpRequest) -> HttpResponse:
    """Defects, newest first, with how many open cases wait on each; filtered by status,
    product and a search (title, or ``DEF-12``)."""
    form = DefectFilterForm(request.GET)
    defects = (
        _filtered(Defect.objects.select_related("product", "fix_release"), form)
        .annotate(
            open_cases=Count("cases", filter=Q(cases__status__in=workflow.ACTIVE)),
            all_cases=Count("cases"),
        )
        .order_by("-id")
    )
    page = Paginator(defects, DEFECTS_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "console/defect_list.html",
        {"form": form, "page": page, "query": query.urlencode()},
    )


def _authorized(request: HttpRequest, authorize: Callable[[Any], None]) -> None:
    """Refuse an actor without the permission (403) before the form is read."""
    try:
        authorize(request_user(request))
    except DomainError as exc:
        raise PermissionDenied(exc.detail) from exc


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required
def defect_new(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    _authorized(request, actions.authorize_add_defect)
    form = DefectForm(request.POST or None, initial={"product": request.GET.get("product")})
    if request.method == "POST" and form.is_valid():
        try:
            defect = actions.check_create_defect(user, **form.cleaned_data)
        except (DomainError, ValidationError) as exc:
            add_to_form(form, exc)
        else:
            messages.success(request, f"{defect} recorded.")
            return redirect("console:defect_detail", pk=defect.pk)
    status = 400 if form.is_bound else 200
    return render(request, "console/defect_new.html", {"form": form}, status=status)


@require_safe
@staff_required
def defect_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The defect, its affected and fix releases, and the cases linked to it."""
    user = request_user(request)
    defect = access_defect(user, pk)
    cases = (
        cases_visible_to(user)
        .filter(defect=defect)
        .select_related("organization", "contact", "assignee")
        .order_by("-id")
    )
    return render(
        request,
        "console/defect_detail.html",
        {
            "defect": defect,
            "affected": defect.affected_releases.order_by("order"),
            "cases": cases,
            "fix_form": FixReleaseForm(defect=defect, initial={"release": defect.fix_release_id}),
            "link_form": LinkCaseForm(),
        },
    )


@require_POST
@staff_required
def defect_fix(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark the defect fixed in a release of its product: every linked open case gets a
    ``fix_available`` event (the same check as ``POST /api/v1/defects/<id>/fix-release/``)."""
    user = request_user(request)
    defect = access_defect(user, pk)
    _authorized(request, actions.authorize_change_defect)
    form = FixReleaseForm(request.POST, defect=defect)
    try:
        if not form.is_valid():
            raise ValidationError(form.errors.as_data())
        release = form.cleaned_data["release"]
        contacts = actions.check_set_defect_fix_release(user, defect, release=release)
    except (DomainError, ValidationError) as exc:
        report(request, exc)
    else:
        messages.success(
            request,
            f"Fixed in {release.version}: {len(contacts)} requester(s) of open cases to tell.",
        )
    return redirect("console:defect_detail", pk=defect.pk)


def _case_by_row_id(user: Any, row_id: int) -> Case:
    case = cases_visible_to(user).filter(pk=row_id).first()
    if case is None:
        raise ValidationError({"reference": "No case has this reference."})
    return case


@require_POST
@staff_required
def defect_link(request: HttpRequest, pk: int) -> HttpResponse:
    """Link a case, named by its reference, to this defect (``check_link_defect``, as the
    case page's *Linked defect* does)."""
    user = request_user(request)
    defect = access_defect(user, pk)
    _authorized(request, actions.authorize_link_defect)
    form = LinkCaseForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(form.errors.as_data())
        case = _case_by_row_id(user, form.cleaned_data["reference"])
        actions.check_link_defect(user, case, defect)
    except (DomainError, ValidationError) as exc:
        report(request, exc)
    else:
        messages.success(request, f"{case.reference} linked.")
    return redirect("console:defect_detail", pk=defect.pk)
