"""The operations page: the job worker, failed jobs and undelivered events, for admins.

Domain-free, like everything in ``lib``: it reads the job queue (``lib/jobs.py``) and the
outbox (``lib/outbox.py``), and retries what failed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe
from huey.contrib.djhuey import HUEY

from retainer.lib import jobs, outbox
from retainer.lib.health import worker_status
from retainer.lib.models import DeliveryStatus, OutboxDelivery, OutboxMessage

#: Who may see and retry the product's background work.
OPERATIONS_PERMISSION = "lib.change_outboxdelivery"
#: A job running longer than this has most likely lost its consumer (killed, or its
#: host went down); the page says so. No job of the product should take that long.
RUNNING_TOO_LONG = timedelta(minutes=30)


def operator_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed-out visitors sign in; customers get a 404 (the page does not exist for
    them); staff without the permission get a 403."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not (user.is_active and user.is_staff):
            raise Http404
        if not user.has_perm(OPERATIONS_PERMISSION):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


@require_safe
@operator_required
def operations(request: HttpRequest) -> HttpResponse:
    deliveries = (
        OutboxDelivery.objects.exclude(status=DeliveryStatus.DELIVERED)
        .select_related("message")
        .order_by("-updated_at")[:50]
    )
    failed = jobs.failed_jobs(HUEY)
    context = {
        "worker": worker_status(),
        "running_jobs": jobs.running_jobs(HUEY),
        "running_too_long": timezone.now() - RUNNING_TOO_LONG,
        "periodic_jobs": jobs.periodic_jobs(HUEY),
        "failed_jobs": failed,
        "failed_waiting": sum(job.retried_as is None for job in failed),
        "max_attempts": jobs.MAX_JOB_ATTEMPTS,
        "deliveries": deliveries,
        "pending_messages": OutboxMessage.objects.filter(dispatched_at__isnull=True).count(),
    }
    return render(request, "lib/operations.html", context)


@require_POST
@operator_required
def job_retry(request: HttpRequest, job_id: str) -> HttpResponse:
    new_id = jobs.retry_job(HUEY, job_id)
    if new_id is None:
        messages.error(request, "That job cannot be retried: it did not fail, or was retried.")
    else:
        messages.success(request, "The job was queued again.")
    return redirect("operations:home")


@require_POST
@operator_required
def delivery_retry(request: HttpRequest, pk: int) -> HttpResponse:
    delivery = OutboxDelivery.objects.filter(pk=pk, status=DeliveryStatus.FAILED).first()
    if delivery is None:
        messages.error(request, "That delivery has not failed.")
    else:
        outbox.retry_failed(delivery)
        messages.success(request, f"{delivery.subscriber} will get {delivery.message} again.")
    return redirect("operations:home")
