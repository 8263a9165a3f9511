"""Sign-in, the role-based landing page, the staff console's organization pages and the
customer portal's home."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_safe

from retainer.accounts import selectors
from retainer.accounts.access import access_organization, customer_contact, is_vendor_staff
from retainer.accounts.demo import demo_logins
from retainer.accounts.filters import OrganizationFilter
from retainer.accounts.forms import LoginForm
from retainer.lib.auth import request_user
from retainer.lib.htmx import is_htmx


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["demo_logins"] = demo_logins() if settings.MODE == "demo" else []
        return context


def staff_required(view: Any) -> Any:
    @login_required
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not is_vendor_staff(request.user):
            raise Http404
        return view(request, *args, **kwargs)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


def contact_required(view: Any) -> Any:
    @login_required
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        contact = customer_contact(request.user)
        if contact is None:
            raise Http404
        request.contact = contact  # type: ignore[attr-defined]
        return view(request, *args, **kwargs)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


@require_safe
@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Send each role to its own home: staff to the console, contacts to the portal."""
    if is_vendor_staff(request.user):
        return redirect("accounts:console_home")
    if customer_contact(request.user) is not None:
        return redirect("accounts:portal_home")
    return render(request, "accounts/no_access.html", status=403)


@require_safe
@staff_required
def console_home(request: HttpRequest) -> HttpResponse:
    """The staff console's organization list with search and filters."""
    filterset = OrganizationFilter(request.GET, queryset=selectors.organizations_for_console())
    page = Paginator(filterset.qs, 25).get_page(request.GET.get("page"))
    template = (
        "accounts/partials/organization_rows.html"
        if is_htmx(request)
        else "accounts/console_home.html"
    )
    return render(request, template, {"filter": filterset, "page": page})


@require_safe
@staff_required
def organization_detail(request: HttpRequest, pk: int) -> HttpResponse:
    organization = access_organization(request_user(request), pk)
    return render(
        request,
        "accounts/organization_detail.html",
        {
            "organization": organization,
            "contacts": selectors.contacts_for_organization(organization=organization),
            "events": organization.events.select_related("actor", "contact")[:20],
        },
    )


@require_safe
@contact_required
def portal_home(request: HttpRequest) -> HttpResponse:
    """The customer's own organization: who can open cases on its behalf."""
    contact = request.contact  # type: ignore[attr-defined]
    organization = contact.organization
    return render(
        request,
        "accounts/portal_home.html",
        {
            "contact": contact,
            "organization": organization,
            "contacts": selectors.contacts_for_organization(
                organization=organization, active_only=True
            ),
        },
    )
