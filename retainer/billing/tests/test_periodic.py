"""The scheduled billing jobs declared in retainer/periodic.py do their work once."""

from __future__ import annotations

import datetime as dt

import time_machine
from django.utils import timezone

from retainer.billing import rules
from retainer.billing.actions import do_create_run
from retainer.billing.choices import RunStatus
from retainer.billing.models import RUN_STALE_AFTER, BillingRun, InvoiceLine, RenewalQuote
from retainer.billing.tests.conftest import sell
from retainer.contracts.choices import Preset
from retainer.periodic import (
    bill_previous_month_task,
    generate_renewal_quotes_task,
    resume_billing_runs_task,
)


def test_the_monthly_run_bills_the_month_that_ended_and_a_second_run_bills_nothing(
    cast, product, django_capture_on_commit_callbacks
):
    sell(cast, product, Preset.FIXED_FEE, start=dt.date(2026, 10, 5), price_amount="12000")
    with time_machine.travel(dt.datetime(2026, 11, 1, 14, 0, tzinfo=dt.UTC), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            first_id = bill_previous_month_task.call_local()
        lines = InvoiceLine.objects.count()
        with django_capture_on_commit_callbacks(execute=True):
            second_id = bill_previous_month_task.call_local()
    first, second = BillingRun.objects.get(pk=first_id), BillingRun.objects.get(pk=second_id)

    assert first.period == second.period == dt.date(2026, 10, 1)
    assert (first.status, second.status) == (RunStatus.SUCCEEDED, RunStatus.SUCCEEDED)
    assert first.items_done > 0
    assert second.items_done == 0
    assert InvoiceLine.objects.count() == lines


def test_renewal_quotes_are_generated_once_per_contract(cast, product):
    start = timezone.localdate() - dt.timedelta(days=340)
    sell(cast, product, Preset.MAINTENANCE, start=start)
    assert generate_renewal_quotes_task.call_local() == 1
    assert generate_renewal_quotes_task.call_local() == 0
    assert RenewalQuote.objects.count() == 1


def test_runs_whose_job_was_lost_are_resumed_and_live_ones_left_alone(
    cast, product, django_capture_on_commit_callbacks
):
    sell(cast, product, Preset.FIXED_FEE, start=dt.date(2026, 10, 5), price_amount="12000")
    now = timezone.now()
    killed, never_ran, alive, failed = (
        do_create_run(period=rules.period_of(dt.date(2026, 10, 1)), actor=None) for _ in range(4)
    )
    old = now - RUN_STALE_AFTER - dt.timedelta(minutes=1)
    BillingRun.objects.filter(pk=killed.pk).update(status=RunStatus.RUNNING, heartbeat_at=old)
    BillingRun.objects.filter(pk=never_ran.pk).update(created_at=old)
    BillingRun.objects.filter(pk=alive.pk).update(status=RunStatus.RUNNING, heartbeat_at=now)
    BillingRun.objects.filter(pk=failed.pk).update(status=RunStatus.FAILED, created_at=old)

    with django_capture_on_commit_callbacks(execute=True):
        resumed = resume_billing_runs_task.call_local()

    assert resumed == [killed.pk, never_ran.pk]
    statuses = dict(BillingRun.objects.values_list("pk", "status"))
    assert statuses[killed.pk] == statuses[never_ran.pk] == RunStatus.SUCCEEDED
    assert (statuses[alive.pk], statuses[failed.pk]) == (RunStatus.RUNNING, RunStatus.FAILED)
    # The fee was billed once, by whichever resumed run came first.
    assert InvoiceLine.objects.count() == 1
