"""Background jobs of the billing app."""

from __future__ import annotations

from django_tasks import task

from retainer.billing.models import BillingRun
from retainer.billing.run import execute_run


@task()
def run_billing_task(run_id: int) -> int:
    """Execute (or continue) billing run ``run_id``; idempotent: billed items are
    never billed again, a finished run is left as it is. Returns the items done."""
    billing_run = execute_run(BillingRun.objects.get(pk=run_id))
    return billing_run.items_done
