"""Console pages of imports, for admins: the runs with their progress and rejected rows,
and a CSV file imported (or checked, in a dry run) from the browser. A django-helpdesk
database is imported with ``manage.py import_helpdesk``; its run shows here as it goes."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_safe

from retainer.accounts.access import request_user
from retainer.accounts.views import staff_required
from retainer.imports.actions import import_csv
from retainer.imports.csv_import import KINDS
from retainer.imports.forms import CsvImportForm
from retainer.imports.models import ImportRun
from retainer.lib.errors import DomainError, add_to_form


def _require(request: HttpRequest, permission: str) -> None:
    if not request_user(request).has_perm(permission):
        raise PermissionDenied


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required
def run_list(request: HttpRequest) -> HttpResponse:
    _require(request, "imports.view_importrun")
    form = CsvImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        _require(request, "imports.add_importrun")
        if form.is_valid():
            try:
                run = import_csv(
                    form.cleaned_data["kind"],
                    form.cleaned_data["file"],
                    name=form.cleaned_data["source"],
                    dry_run=form.cleaned_data["dry_run"],
                    actor=request_user(request),
                )
            except DomainError as exc:
                add_to_form(form, exc)
            else:
                if run.rejected_count:
                    messages.error(request, f"{run.rejected_count} rows rejected: see below.")
                else:
                    messages.success(
                        request, "Checked: nothing rejected." if run.dry_run else "Imported."
                    )
                return redirect("imports:run_detail", run.pk)
    runs = ImportRun.objects.select_related("started_by")[:50]
    status = 400 if form.is_bound and form.errors else 200
    context = {"runs": runs, "form": form, "kinds": KINDS}
    return render(request, "imports/run_list.html", context, status=status)


@require_safe
@staff_required
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, "imports.view_importrun")
    run = get_object_or_404(ImportRun, pk=pk)
    return render(request, "imports/run_detail.html", {"run": run})
