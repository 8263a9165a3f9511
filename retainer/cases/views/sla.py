"""SLA settings in the console: business-hours calendars and the targets per plan and
severity, with what a warning or a breach does. Every staff role reads them; managers and
admins change them (the ``cases.*_businesscalendar`` and ``cases.*_slatarget``
permissions, checked by ``cases.actions.settings``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import F
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_safe

from retainer.accounts.access import request_user
from retainer.accounts.views import staff_required
from retainer.cases import actions
from retainer.cases.forms.sla import WEEKDAYS, CalendarForm, SlaTargetForm, calendar_days
from retainer.cases.models import BusinessCalendar, SlaTarget
from retainer.lib.errors import DomainError, add_to_form


@require_safe
@staff_required
def sla_settings(request: HttpRequest) -> HttpResponse:
    """The calendars (hours per weekday, holidays) and every target, defaults first."""
    calendars = list(BusinessCalendar.objects.all())
    targets = SlaTarget.objects.select_related("plan", "calendar", "escalation_team").order_by(
        F("plan__code").asc(nulls_first=True), "plan__version", "severity"
    )
    return render(
        request,
        "console/sla_settings.html",
        {
            "calendars": [(calendar, calendar_days(calendar)) for calendar in calendars],
            "targets": targets,
        },
    )


def _authorized(request: HttpRequest, authorize: Callable[[Any], None]) -> None:
    """Refuse an actor without the permission (403) before the form is read."""
    try:
        authorize(request_user(request))
    except DomainError as exc:
        raise PermissionDenied(exc.detail) from exc


def _form_page(
    request: HttpRequest,
    form: Any,
    save: Callable[[dict[str, Any]], Any],
    template: str,
    context: dict[str, Any],
) -> HttpResponse:
    """Show ``form``; on a valid POST ``save`` its cleaned values and go back to the
    settings, else show the refusal beside its field (400)."""
    if request.method == "POST" and form.is_valid():
        try:
            saved = save(form.cleaned_data)
        except (DomainError, ValidationError) as exc:
            add_to_form(form, exc)
        else:
            messages.success(request, f"Saved {saved}.")
            return redirect("console:sla_settings")
    status = 400 if form.is_bound else 200
    return render(request, template, {"form": form, **context}, status=status)


def _calendar(pk: int) -> BusinessCalendar:
    try:
        return BusinessCalendar.objects.get(pk=pk)
    except BusinessCalendar.DoesNotExist:
        raise Http404 from None


def _target(pk: int) -> SlaTarget:
    try:
        return SlaTarget.objects.select_related("plan").get(pk=pk)
    except SlaTarget.DoesNotExist:
        raise Http404 from None


def _calendar_page(request: HttpRequest, calendar: BusinessCalendar | None) -> HttpResponse:
    user = request_user(request)
    _authorized(request, lambda actor: actions.authorize_save_calendar(actor, calendar))
    if request.method == "POST":
        form = CalendarForm(request.POST)
    else:
        form = CalendarForm.for_calendar(calendar) if calendar else CalendarForm()

    def save(_: dict[str, Any]) -> BusinessCalendar:
        return actions.check_save_calendar(user, calendar, **form.calendar_fields())

    context = {"calendar": calendar, "weekdays": WEEKDAYS}
    return _form_page(request, form, save, "console/sla_calendar_form.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required
def calendar_new(request: HttpRequest) -> HttpResponse:
    return _calendar_page(request, None)


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required
def calendar_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _calendar_page(request, _calendar(pk))


def _target_page(request: HttpRequest, target: SlaTarget | None) -> HttpResponse:
    user = request_user(request)
    _authorized(request, lambda actor: actions.authorize_save_sla_target(actor, target))
    if request.method == "POST":
        form = SlaTargetForm(request.POST)
    else:
        form = SlaTargetForm.for_target(target) if target else SlaTargetForm()

    def save(data: dict[str, Any]) -> SlaTarget:
        return actions.check_save_sla_target(user, target, **data)

    context = {"target": target}
    return _form_page(request, form, save, "console/sla_target_form.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required
def sla_target_new(request: HttpRequest) -> HttpResponse:
    return _target_page(request, None)


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required
def sla_target_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _target_page(request, _target(pk))
