"""Background jobs of the billing app."""

from __future__ import annotations

import logging

from django_tasks import task

from retainer.billing.models import BillingRun
from retainer.billing.run import execute_run
from retainer.lib.errors import Conflict

logger = logging.getLogger(__name__)


@task()
def run_billing_task(run_id: int) -> int:
    """Execute (or continue) billing run ``run_id``; idempotent: billed items are
    never billed again, a finished run is left as it is, and a run another process is
    executing right now (the command, a second job) is left to it. Returns the items
    done."""
    billing_run = BillingRun.objects.get(pk=run_id)
    try:
        billing_run = execute_run(billing_run)
    except Conflict as exc:
        logger.info("Billing run %s not started: %s", run_id, exc.detail)
    return billing_run.items_done
