"""The check layer: every door of a billing operation refuses the same people, with the
permission refusal before any validation, and validates the same way."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from retainer.billing import actions, checks
from retainer.billing.models import BillingRun, Invoice, RenewalQuote
from retainer.billing.tests.conftest import post, sell, this_period
from retainer.billing.tests.test_bad_input_and_access import row_counts
from retainer.contracts.choices import Preset
from retainer.lib.errors import InvalidInput, NotPermitted


def draft_with_line(cast) -> Invoice:
    invoice = actions.do_create_invoice(
        organization=cast.acme, period=this_period(), actor=cast.billing
    )
    actions.do_add_line(
        invoice,
        description="Consulting",
        quantity=Decimal(1),
        unit_price=Decimal(100),
        currency="EUR",
        actor=cast.billing,
    )
    return invoice


def issued_invoice(cast) -> Invoice:
    return actions.do_issue_invoice(draft_with_line(cast), actor=cast.billing)


def renewal_quote(cast, product) -> RenewalQuote:
    sell(cast, product, Preset.FIXED_FEE, start=timezone.localdate() - dt.timedelta(days=330))
    (quote,) = actions.do_generate_renewal_quotes(actor=cast.billing)
    return quote


def operations(cast, product) -> list[tuple[str, str, list[Any], dict[str, Any], Callable]]:
    """Each operation as (name, API route, route args, body, the call of its check)."""
    to_void, to_pay, to_credit = (issued_invoice(cast) for _ in range(3))
    draft = draft_with_line(cast)
    quote = renewal_quote(cast, product)
    period = this_period().label
    return [
        (
            "start a run",
            "billing_run_list",
            [],
            {"period": period},
            lambda actor: checks.check_start_billing_run(actor, period=period),
        ),
        (
            "issue",
            "invoice_issue",
            [draft.pk],
            {},
            lambda actor: checks.check_issue_invoice(actor, draft.pk),
        ),
        (
            "void",
            "invoice_void",
            [to_void.pk],
            {"reason": "Wrong address"},
            lambda actor: checks.check_void_invoice(actor, to_void.pk, reason="Wrong address"),
        ),
        (
            "mark paid",
            "invoice_paid",
            [to_pay.pk],
            {},
            lambda actor: checks.check_mark_invoice_paid(actor, to_pay.pk),
        ),
        (
            "credit",
            "credit_note_list",
            [],
            {"invoice": to_credit.pk, "reason": "Goodwill"},
            lambda actor: checks.check_issue_credit_note(actor, to_credit.pk, reason="Goodwill"),
        ),
        (
            "accept a renewal",
            "renewal_quote_accept",
            [quote.pk],
            {},
            lambda actor: checks.check_accept_renewal_quote(actor, quote.pk),
        ),
    ]


@pytest.mark.parametrize("who", ["agent", "manager"])
def test_staff_without_the_permission_are_refused_by_every_door_and_nothing_changes(
    cast, product, who
):
    actor = getattr(cast, who)
    client = cast.client_for(actor)
    for operation, route, args, body, check in operations(cast, product):
        before = row_counts()

        response = post(client, route, *args, **body)
        with pytest.raises(NotPermitted) as refused:
            check(actor)

        assert response.status_code == 403, (operation, response.json())
        assert response.json()["code"] == refused.value.code == "permission_denied", operation
        assert row_counts() == before, operation


def test_the_permission_is_checked_before_the_body_is_read(cast, product):
    client = cast.client_for(cast.manager)
    for operation, route, args, _body, _check in operations(cast, product):
        response = post(client, route, *args, period="not a period", reason="", lines="x")
        assert response.status_code == 403, (operation, response.json())


def test_the_billing_role_passes_every_check(cast, product):
    for operation, _route, _args, _body, check in operations(cast, product):
        assert check(cast.billing) is not None, operation


def test_the_command_refuses_a_person_without_the_permission_like_the_api(cast):
    with pytest.raises(CommandError, match="permission"):
        call_command(
            "run_billing", "--period", this_period().label, "--as", cast.manager.email,
            stdout=io.StringIO(),
        )  # fmt: skip
    assert not BillingRun.objects.exists()


def test_the_command_runs_as_a_person_with_the_permission(cast):
    out = io.StringIO()
    call_command(
        "run_billing", "--period", this_period().label, "--as", cast.billing.email, stdout=out
    )
    assert BillingRun.objects.get().created_by == cast.billing
    assert "succeeded" in out.getvalue()


def test_a_bad_period_or_organization_is_refused_the_same_way_by_every_door(cast):
    client = cast.client_for(cast.billing)

    with pytest.raises(InvalidInput) as bad_period:
        checks.check_start_billing_run(cast.billing, period="2026-13")
    with pytest.raises(CommandError, match="YYYY-MM"):
        call_command("run_billing", "--period", "2026-13", stdout=io.StringIO())
    with pytest.raises(InvalidInput) as unknown:
        checks.check_start_billing_run(cast.billing, period=this_period(), organization=999999)
    api = post(client, "billing_run_list", period=this_period().label, organization=999999)
    with pytest.raises(CommandError, match="no organization 999999"):
        call_command(
            "run_billing", "--period", this_period().label, "--organization", "999999",
            stdout=io.StringIO(),
        )  # fmt: skip

    assert (bad_period.value.code, bad_period.value.field) == ("invalid_period", "period")
    assert unknown.value.code == api.json()["code"] == "organization_not_found"
    assert api.status_code == 400
    assert not BillingRun.objects.exists()


def test_the_schedule_is_the_system_and_may_start_a_run(cast):
    billing_run = checks.check_start_billing_run(None, period=this_period())
    assert billing_run.created_by is None
