"""One check per billing operation that has more than one door.

The API, the management command, the schedule (and later the console) call these, never
the ``do_*`` actions directly, so an operation needs the same permission and the same
validation whatever the door. Each check authorizes first (``NotPermitted``, 403 on
every interface), then validates the raw input (``InvalidInput``/``NotFound``), then
calls the action.

``actor=None`` is the system itself: the schedule, or an operator running a management
command on the server (who could run any code there anyway). A person is always
checked: active vendor staff holding the permissions the API has always asked for.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from retainer.accounts.models import Organization, User
from retainer.billing import actions, rules
from retainer.billing.access import access_invoice
from retainer.billing.models import BillingRun, CreditNote, Invoice, RenewalQuote
from retainer.lib.errors import InvalidInput, NotFound, NotPermitted

#: The permissions each operation needs (the API's, unchanged).
START_RUN = ("billing.add_billingrun",)
CHANGE_INVOICE = ("billing.change_invoice",)
ISSUE_CREDIT_NOTE = ("billing.add_creditnote",)
GENERATE_QUOTES = ("billing.add_renewalquote",)
ACCEPT_QUOTE = ("billing.change_renewalquote", "contracts.change_contract")

MAX_RENEWAL_DAYS = 366


def _require(actor: User | None, permissions: Iterable[str]) -> None:
    """Refuse (``NotPermitted``) unless ``actor`` is the system or active vendor staff
    holding every one of ``permissions``."""
    if actor is None:
        return
    if not (
        getattr(actor, "is_authenticated", False)
        and actor.is_active
        and actor.is_staff
        and actor.has_perms(tuple(permissions))
    ):
        raise NotPermitted("permission_denied", "You do not have permission to do this.")


# ``authorize_*`` state one operation's rule alone, for a door that must refuse before it
# parses its input; the ``check_*`` functions apply the same rule, so no door skips it.


def authorize_start_billing_run(actor: User | None) -> None:
    _require(actor, START_RUN)


def authorize_change_invoice(actor: User | None) -> None:
    _require(actor, CHANGE_INVOICE)


def authorize_issue_credit_note(actor: User | None) -> None:
    _require(actor, ISSUE_CREDIT_NOTE)


def authorize_generate_renewal_quotes(actor: User | None) -> None:
    _require(actor, GENERATE_QUOTES)


# --- Runs ----------------------------------------------------------------------------------


def _period(value: rules.Period | str) -> rules.Period:
    if isinstance(value, rules.Period):
        return value
    try:
        return rules.parse_period(value)
    except rules.PeriodError as exc:
        raise InvalidInput("invalid_period", str(exc), field="period") from None


def _organization(value: Organization | int | None) -> Organization | None:
    if value is None or isinstance(value, Organization):
        return value
    organization = Organization.objects.filter(pk=value).first()
    if organization is None:
        raise InvalidInput(
            "organization_not_found", f"There is no organization {value}.", field="organization"
        )
    return organization


def check_start_billing_run(
    actor: User | None,
    *,
    period: rules.Period | str,
    organization: Organization | int | None = None,
    issue: bool = True,
    today: dt.date | None = None,
) -> BillingRun:
    """Start a run for ``period`` (``YYYY-MM``), for one organization (an id) or all: it
    is recorded now and executed by the job worker after commit."""
    authorize_start_billing_run(actor)
    return actions.do_start_billing_run(
        period=_period(period),
        organization=_organization(organization),
        issue=issue,
        actor=actor,
        today=today,
    )


def check_continue_billing_run(actor: User | None, run_id: int) -> BillingRun:
    """Hand a pending, failed or interrupted run to the job worker again."""
    authorize_start_billing_run(actor)
    run = BillingRun.objects.filter(pk=run_id).first()
    if run is None:
        raise NotFound("not_found", f"There is no billing run {run_id}.")
    return actions.do_continue_billing_run(run)


# --- Invoices ------------------------------------------------------------------------------


def _invoice(actor: User | None, invoice_id: int, *, for_write: bool) -> Invoice:
    """The invoice as the actor may see it (404 otherwise, never saying whether it
    exists); the system sees every invoice."""
    if actor is None:
        invoice = Invoice.objects.filter(pk=invoice_id).first()
        if invoice is None:
            raise NotFound("not_found", f"There is no invoice {invoice_id}.")
        return invoice
    return access_invoice(actor, invoice_id, for_write=for_write)


def check_issue_invoice(actor: User | None, invoice_id: int) -> Invoice:
    authorize_change_invoice(actor)
    return actions.do_issue_invoice(_invoice(actor, invoice_id, for_write=True), actor=actor)


def check_void_invoice(actor: User | None, invoice_id: int, *, reason: str) -> Invoice:
    authorize_change_invoice(actor)
    invoice = _invoice(actor, invoice_id, for_write=True)
    return actions.do_void_invoice(invoice, reason=reason, actor=actor)


def check_mark_invoice_paid(
    actor: User | None,
    invoice_id: int,
    *,
    reference: str = "",
    paid_at: dt.datetime | None = None,
) -> Invoice:
    authorize_change_invoice(actor)
    invoice = _invoice(actor, invoice_id, for_write=True)
    return actions.do_mark_invoice_paid(invoice, reference=reference, paid_at=paid_at, actor=actor)


def check_issue_credit_note(
    actor: User | None,
    invoice_id: int,
    *,
    reason: str,
    lines: Iterable[tuple[int, Decimal | str]] | None = None,
) -> CreditNote:
    """Credit an invoice in full (``lines`` is ``None``) or per ``(line id, amount)``."""
    authorize_issue_credit_note(actor)
    invoice = _invoice(actor, invoice_id, for_write=False)
    amounts: list[tuple[int, Decimal]] | None = None
    if lines is not None:
        amounts = [(int(line), _amount(amount)) for line, amount in lines]
    return actions.do_issue_credit_note(invoice, reason=reason, lines=amounts, actor=actor)


def _amount(value: Any) -> Decimal:
    try:
        return Decimal(str(value))
    except ArithmeticError:
        raise InvalidInput(
            "invalid_amount", f"{value!r} is not an amount.", field="lines"
        ) from None


# --- Renewal quotes ------------------------------------------------------------------------


def check_generate_renewal_quotes(
    actor: User | None, *, within_days: int = actions.DEFAULT_RENEWAL_DAYS
) -> list[RenewalQuote]:
    authorize_generate_renewal_quotes(actor)
    if not 1 <= within_days <= MAX_RENEWAL_DAYS:
        raise InvalidInput(
            "invalid_days",
            f"Quote contracts ending within 1 to {MAX_RENEWAL_DAYS} days.",
            field="within_days",
        )
    return actions.do_generate_renewal_quotes(within_days=within_days, actor=actor)


def check_accept_renewal_quote(actor: User | None, quote_id: int) -> RenewalQuote:
    _require(actor, ACCEPT_QUOTE)
    quote = RenewalQuote.objects.filter(pk=quote_id).first()
    if quote is None:
        raise NotFound("not_found", f"There is no renewal quote {quote_id}.")
    return actions.do_accept_renewal_quote(quote, actor=actor)


# --- Reads (the console's pages; the API asks for the same permissions) --------------------

VIEW_RUNS = ("billing.view_billingrun",)
VIEW_INVOICES = ("billing.view_invoice",)
VIEW_QUOTES = ("billing.view_renewalquote",)


def authorize_view_billing_runs(actor: User | None) -> None:
    _require(actor, VIEW_RUNS)


def authorize_view_invoices(actor: User | None) -> None:
    _require(actor, VIEW_INVOICES)


def authorize_view_renewal_quotes(actor: User | None) -> None:
    _require(actor, VIEW_QUOTES)
