"""The scheduled billing jobs declared in retainer/periodic.py do their work once."""

from __future__ import annotations

import datetime as dt

import time_machine
from django.utils import timezone

from retainer.billing.choices import RunStatus
from retainer.billing.models import BillingRun, InvoiceLine, RenewalQuote
from retainer.billing.tests.conftest import sell
from retainer.contracts.choices import Preset
from retainer.periodic import bill_previous_month_task, generate_renewal_quotes_task


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
