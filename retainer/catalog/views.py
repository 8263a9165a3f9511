"""The catalog's pages: the public "Scope of Support" page, generated from the scope
policies, and the console's catalog (products, their releases and scope policy, and the
service offerings for out-of-scope work). Every staff role reads the console's catalog;
writing it needs the permission the API asks for, checked by ``catalog.checks``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.forms import BaseForm, model_to_dict
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from retainer.accounts.access import request_user
from retainer.accounts.views import staff_required
from retainer.catalog import actions, checks, selectors
from retainer.catalog.access import access_offering, access_product, access_release
from retainer.catalog.choices import OfferingKind, ScopeReason
from retainer.catalog.filters import OfferingFilter, ProductFilter
from retainer.catalog.forms import (
    OfferingActiveForm,
    OfferingForm,
    ProductForm,
    ReleaseForm,
    ScopePolicyForm,
)
from retainer.catalog.models import Product, Release, ScopePolicy, ServiceOffering
from retainer.catalog.scope import OFFERING_FOR_REASON, supported_releases
from retainer.lib.errors import DomainError, NotPermitted, add_to_form, report

# What falls outside standard support, in the words of the published page.
OUT_OF_SCOPE = [
    (ScopeReason.RELEASE_TOO_OLD, "Releases older than the supported ones"),
    (ScopeReason.RELEASE_END_OF_SUPPORT, "Releases past their end-of-support date"),
    (ScopeReason.ENVIRONMENT_UNSUPPORTED, "Environments not listed as supported"),
    (ScopeReason.MODIFIED_SOURCE, "Modified source code (where not supported)"),
    (ScopeReason.THIRD_PARTY, "Third-party integrations (where not supported)"),
]


@require_safe
def scope_of_support(request: HttpRequest) -> HttpResponse:
    """Per product: the rules, releases with their dates and status, environments, and the
    services offered instead of support for what is out of scope."""
    today = timezone.localdate()
    general = list(selectors.general_offerings())
    products = [
        _product_entry(product, today, general) for product in selectors.products_with_scope()
    ]
    return render(
        request,
        "catalog/scope_of_support.html",
        {"products": products, "today": today, "general_offerings": general},
    )


def _product_entry(
    product: Product, today: dt.date, general: list[ServiceOffering]
) -> dict[str, Any]:
    policy = getattr(product, "scope_policy", None)
    releases = list(product.releases.all())
    if policy is not None:
        facts = selectors.policy_facts(policy)
        _, supported = supported_releases(
            [selectors.release_facts(r) for r in releases],
            facts,
            today,
        )
        supported_ids = {r.id for r in supported}
    else:
        supported_ids = {r.pk for r in releases if r.ga_date <= today}
    offerings = list(product.offerings.all())
    by_kind: dict[str, ServiceOffering] = {}
    for offering in [*offerings, *general]:  # the product's own offering first
        by_kind.setdefault(offering.kind, offering)
    instead = []
    for reason, text in OUT_OF_SCOPE:
        if policy is None and reason in (ScopeReason.MODIFIED_SOURCE, ScopeReason.THIRD_PARTY):
            continue
        if reason == ScopeReason.MODIFIED_SOURCE and policy and policy.modified_source_supported:
            continue
        if reason == ScopeReason.THIRD_PARTY and policy and policy.third_party_supported:
            continue
        kind = OFFERING_FOR_REASON[reason]
        instead.append((text, OfferingKind(kind).label, by_kind.get(kind)))
    return {
        "product": product,
        "policy": policy,
        "environments": list(policy.supported_environments.all()) if policy else [],
        "releases": [(r, r.pk in supported_ids) for r in releases],
        "offerings": offerings,
        "instead": instead,
    }


# --- The console's catalog ------------------------------------------------------------------

FORM_METHODS = ["GET", "HEAD", "POST"]


def _authorize(rule: Callable[..., None], *args: Any, **kwargs: Any) -> None:
    """Run an ``authorize_*`` rule of ``checks``: its refusal is the 403 page, before the
    form is read."""
    try:
        rule(*args, **kwargs)
    except NotPermitted as exc:
        raise PermissionDenied(exc.detail) from exc


def _query_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _form_page(
    request: HttpRequest,
    form: BaseForm,
    *,
    template: str,
    context: dict[str, Any],
    save: Callable[[dict[str, Any]], str],
    message: str,
) -> HttpResponse:
    """GET shows ``form``. POST saves its values with ``save`` (a ``check_*`` call that
    returns where to go next) and redirects there; a form the check refuses is shown
    again with the refusal beside its fields, with status 400."""
    if form.is_bound and form.is_valid():
        try:
            next_url = save(dict(form.cleaned_data))
        except (DomainError, ValidationError) as exc:
            add_to_form(form, exc)
        else:
            messages.success(request, message)
            return redirect(next_url)
    status = 400 if form.is_bound else 200
    return render(request, template, {**context, "form": form}, status=status)


def _bound(request: HttpRequest, form_class: type[BaseForm], initial: dict[str, Any]) -> Any:
    return form_class(request.POST) if request.method == "POST" else form_class(initial=initial)


@require_safe
@staff_required
def product_list(request: HttpRequest) -> HttpResponse:
    """Products with their newest release and policy, filtered by name or code, status
    and currency."""
    _authorize(checks.authorize_view, request_user(request))
    filterset = ProductFilter(request.GET, queryset=selectors.products_for_console())
    page = Paginator(filterset.qs, 25).get_page(request.GET.get("page"))
    context = {"filter": filterset, "page": page, "query": _query_without_page(request)}
    return render(request, "catalog/product_list.html", context)


@require_safe
@staff_required
def product_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One product: its facts, its releases (supported or not today), its scope policy
    and the services offered for it, as the published page says them."""
    user = request_user(request)
    _authorize(checks.authorize_view, user)
    product = selectors.product_with_scope(pk=access_product(user, pk).pk)
    today = timezone.localdate()
    entry = _product_entry(product, today, list(selectors.general_offerings()))
    return render(
        request, "catalog/product_detail.html", {"product": product, "entry": entry, "today": today}
    )


@require_http_methods(FORM_METHODS)
@staff_required
def product_new(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    _authorize(checks.authorize_save, user, Product, creating=True)

    def save(values: dict[str, Any]) -> str:
        product = checks.check_save_product(user, None, **values)
        return reverse("catalog:product_detail", args=[product.pk])

    form = _bound(request, ProductForm, {})
    context = {"title": "New product", "action": reverse("catalog:product_new")}
    return _form_page(
        request,
        form,
        template="catalog/product_form.html",
        context=context,
        save=save,
        message="Product created.",
    )


@require_http_methods(FORM_METHODS)
@staff_required
def product_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    _authorize(checks.authorize_save, user, Product, creating=False)
    product = access_product(user, pk)

    def save(values: dict[str, Any]) -> str:
        checks.check_save_product(user, product, **values)
        return reverse("catalog:product_detail", args=[product.pk])

    form = _bound(request, ProductForm, model_to_dict(product, fields=actions.PRODUCT_FIELDS))
    context = {
        "title": f"Edit {product.name}",
        "product": product,
        "action": reverse("catalog:product_edit", args=[product.pk]),
    }
    return _form_page(
        request,
        form,
        template="catalog/product_form.html",
        context=context,
        save=save,
        message="Product saved.",
    )


def _release_values(values: dict[str, Any]) -> dict[str, Any]:
    """An empty order is left out: a new release goes on top, an edited one keeps its own."""
    if values.get("order") is None:
        values.pop("order", None)
    return values


@require_http_methods(FORM_METHODS)
@staff_required
def release_new(request: HttpRequest, product_pk: int) -> HttpResponse:
    user = request_user(request)
    _authorize(checks.authorize_save, user, Release, creating=True)
    product = access_product(user, product_pk)

    def save(values: dict[str, Any]) -> str:
        checks.check_save_release(user, None, product=product, **_release_values(values))
        return reverse("catalog:product_detail", args=[product.pk])

    context = {
        "title": f"New release of {product.name}",
        "product": product,
        "action": reverse("catalog:release_new", args=[product.pk]),
    }
    return _form_page(
        request,
        _bound(request, ReleaseForm, {}),
        template="catalog/release_form.html",
        context=context,
        save=save,
        message="Release added.",
    )


@require_http_methods(FORM_METHODS)
@staff_required
def release_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    _authorize(checks.authorize_save, user, Release, creating=False)
    release = access_release(user, pk)
    product = release.product

    def save(values: dict[str, Any]) -> str:
        checks.check_save_release(user, release, **_release_values(values))
        return reverse("catalog:product_detail", args=[product.pk])

    initial = model_to_dict(release, fields=["version", "order", "ga_date", "end_of_support_date"])
    context = {
        "title": f"Edit {product.name} {release.version}",
        "product": product,
        "action": reverse("catalog:release_edit", args=[release.pk]),
    }
    return _form_page(
        request,
        _bound(request, ReleaseForm, initial),
        template="catalog/release_form.html",
        context=context,
        save=save,
        message="Release saved.",
    )


@require_http_methods(FORM_METHODS)
@staff_required
def scope_policy_edit(request: HttpRequest, product_pk: int) -> HttpResponse:
    """The product's published scope of support, created on first save."""
    user = request_user(request)
    _authorize(checks.authorize_save, user, ScopePolicy, creating=True)
    product = access_product(user, product_pk)
    policy = ScopePolicy.objects.filter(product=product).first()

    def save(values: dict[str, Any]) -> str:
        checks.check_save_scope_policy(user, policy, product=product, **values)
        return reverse("catalog:product_detail", args=[product.pk])

    initial: dict[str, Any] = {
        "supported_previous_releases": 2,
        "honour_end_of_support_dates": True,
    }
    if policy is not None:
        initial = model_to_dict(policy, fields=[*actions.POLICY_FIELDS, "supported_environments"])
    context = {
        "title": f"Scope of support for {product.name}",
        "product": product,
        "action": reverse("catalog:scope_policy_edit", args=[product.pk]),
    }
    return _form_page(
        request,
        _bound(request, ScopePolicyForm, initial),
        template="catalog/scope_policy_form.html",
        context=context,
        save=save,
        message="Scope of support saved and published.",
    )


@require_safe
@staff_required
def offering_list(request: HttpRequest) -> HttpResponse:
    """Service offerings, filtered by name, kind, product and status, priced in their
    currency."""
    _authorize(checks.authorize_view, request_user(request))
    filterset = OfferingFilter(request.GET, queryset=selectors.offerings_for_console())
    page = Paginator(filterset.qs, 25).get_page(request.GET.get("page"))
    context = {
        "filter": filterset,
        "page": page,
        "query": _query_without_page(request),
        "products": Product.objects.order_by("name").only("pk", "name"),
        "kinds": OfferingKind.choices,
    }
    return render(request, "catalog/offering_list.html", context)


@require_http_methods(FORM_METHODS)
@staff_required
def offering_new(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    _authorize(checks.authorize_save, user, ServiceOffering, creating=True)

    def save(values: dict[str, Any]) -> str:
        checks.check_save_offering(user, None, **values)
        return reverse("catalog:offering_list")

    context = {"title": "New service offering", "action": reverse("catalog:offering_new")}
    return _form_page(
        request,
        _bound(request, OfferingForm, {}),
        template="catalog/offering_form.html",
        context=context,
        save=save,
        message="Service offering created.",
    )


@require_http_methods(FORM_METHODS)
@staff_required
def offering_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    _authorize(checks.authorize_save, user, ServiceOffering, creating=False)
    offering = access_offering(user, pk)

    def save(values: dict[str, Any]) -> str:
        checks.check_save_offering(user, offering, **values)
        return reverse("catalog:offering_list")

    initial = model_to_dict(offering, fields=actions.OFFERING_FIELDS)
    context = {
        "title": f"Edit {offering.name}",
        "offering": offering,
        "action": reverse("catalog:offering_edit", args=[offering.pk]),
    }
    return _form_page(
        request,
        _bound(request, OfferingForm, initial),
        template="catalog/offering_form.html",
        context=context,
        save=save,
        message="Service offering saved.",
    )


@require_POST
@staff_required
def offering_active(request: HttpRequest, pk: int) -> HttpResponse:
    """Withdraw an offering or offer it again, then back to the list."""
    user = request_user(request)
    _authorize(checks.authorize_save, user, ServiceOffering, creating=False)
    offering = access_offering(user, pk)
    form = OfferingActiveForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(form.errors.as_data())
        active = form.cleaned_data["active"]
        checks.check_set_offering_active(user, offering, active=active)
    except (DomainError, ValidationError) as exc:
        report(request, exc)
    else:
        messages.success(request, f"{'Offered' if active else 'Withdrew'} {offering.name}.")
    return redirect("catalog:offering_list")
