"""The billing console: runs, invoices and renewal quotes, through HTTP as each role.

Every action goes through its check function, so the refusals are the API's: a manager
reads and is refused every write (403), an agent sees no billing page (403), a refused
state change shows its message on the page it returns to and writes nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone

from retainer.billing import actions
from retainer.billing.choices import InvoiceStatus, QuoteStatus, RunStatus
from retainer.billing.models import BillingEvent, BillingRun, CreditNote, Invoice, RenewalQuote
from retainer.billing.run import execute_run
from retainer.billing.tests.conftest import open_case, sell, this_period
from retainer.cases import actions as case_actions
from retainer.contracts.choices import Preset


def draft(cast, *amounts: str, organization=None) -> Invoice:
    invoice = actions.do_create_invoice(
        organization=organization or cast.acme, period=this_period(), actor=cast.billing
    )
    for n, amount in enumerate(amounts, start=1):
        actions.do_add_line(
            invoice,
            description=f"Line {n}",
            quantity=Decimal(1),
            unit_price=Decimal(amount),
            currency=invoice.currency,
            actor=cast.billing,
        )
    return invoice


def issued(cast, *amounts: str, organization=None) -> Invoice:
    return actions.do_issue_invoice(
        draft(cast, *amounts, organization=organization), actor=cast.billing
    )


def page(name: str, *args: object) -> str:
    return reverse(f"billing:{name}", args=args)


def texts(response) -> list[str]:
    """The messages the response leaves for the next page. The test client keeps the
    messages cookie, so a test posting twice on one client uses a fresh one (``fresh``)."""
    return [str(message) for message in get_messages(response.wsgi_request)]


def fresh(client):
    client.cookies.pop("messages", None)
    return client


# --- Reading ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["billing", "manager", "admin"])
def test_billing_staff_and_managers_read_every_billing_page(cast, role):
    invoice = issued(cast, "540")
    run = actions.do_create_run(period=this_period(), actor=cast.billing)
    client = cast.client_for(getattr(cast, role))

    for url in (
        page("invoice_list"),
        page("invoice_detail", invoice.pk),
        page("run_list"),
        page("run_detail", run.pk),
        page("quote_list"),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
    detail = client.get(page("invoice_detail", invoice.pk)).content.decode()
    assert "€540.00" in detail
    assert "540.0000" not in detail


def test_an_agent_is_refused_every_billing_page(cast):
    invoice = issued(cast, "10")
    client = cast.client_for(cast.agent)
    for url in (
        page("invoice_list"),
        page("invoice_detail", invoice.pk),
        page("invoice_export_csv"),
        page("run_list"),
        page("quote_list"),
    ):
        assert client.get(url).status_code == 403, url
    assert "Billing</a>" not in client.get(reverse("contracts:contract_list")).content.decode()


def test_the_invoice_list_filters_searches_and_pages(cast, django_assert_max_num_queries):
    paid = issued(cast, "100")
    actions.do_mark_invoice_paid(paid, actor=cast.billing)
    other = issued(cast, "1234.5", organization=cast.globex)
    draft(cast, "5")
    client = cast.client_for(cast.billing)

    with django_assert_max_num_queries(12):
        everything = client.get(page("invoice_list")).content.decode()
    assert paid.number in everything and other.number in everything
    assert "$1,234.50" in everything  # Globex is billed in USD
    only_paid = client.get(page("invoice_list"), {"status": "paid"}).content.decode()
    assert paid.number in only_paid and other.number not in only_paid
    globex = client.get(page("invoice_list"), {"organization": cast.globex.pk}).content.decode()
    assert other.number in globex and paid.number not in globex
    number = client.get(page("invoice_list"), {"q": str(other.number)[-3:]}).content.decode()
    assert other.number in number and paid.number not in number
    period = client.get(page("invoice_list"), {"period": "2001-01"}).content.decode()
    assert "No invoice matches." in period
    paged = client.get(page("invoice_list"), {"page": 2}).context["page"]
    assert paged.number == 1  # three invoices fit on one page


def test_the_invoice_list_stays_within_its_queries_as_invoices_grow(
    cast, django_assert_max_num_queries
):
    for _ in range(30):
        draft(cast, "1")
    client = cast.client_for(cast.billing)
    with django_assert_max_num_queries(12):
        response = client.get(page("invoice_list"))
    assert response.context["page"].paginator.count == 30


def test_the_export_follows_the_lists_filters(cast):
    paid = issued(cast, "100")
    actions.do_mark_invoice_paid(paid, actor=cast.billing)
    issued(cast, "200")
    client = cast.client_for(cast.manager)  # managers export too

    response = client.get(page("invoice_export_csv"), {"status": "paid"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [row["invoice_number"] for row in rows] == [paid.number]
    xlsx = client.get(page("invoice_export_xlsx"))
    assert xlsx.status_code == 200
    assert xlsx.content.startswith(b"PK")


def test_the_invoice_page_names_the_case_behind_a_line(cast, product):
    sell(cast, product, Preset.PAY_AS_YOU_GO, overage_rate="120")
    case = open_case(cast, product)
    case_actions.do_log_time(case, agent=cast.agent, minutes=30, actor=cast.agent)
    execute_run(actions.do_create_run(period=this_period(), actor=cast.billing))
    invoice = Invoice.objects.get()

    body = cast.client_for(cast.billing).get(page("invoice_detail", invoice.pk)).content.decode()

    assert f"case {case.reference}" in body
    assert "€60.00" in body


# --- Runs ---------------------------------------------------------------------------------


def test_starting_a_run_queues_it_and_the_worker_bills_it(cast, product):
    sell(cast, product, Preset.FIXED_FEE, price_amount=Decimal(1000))
    client = cast.client_for(cast.billing)

    with TestCase.captureOnCommitCallbacks(execute=True):  # the job worker, inline
        response = client.post(page("run_start"), {"period": this_period().label})

    run = BillingRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == page("run_detail", run.pk)
    assert texts(response) == [f"Billing run {run.pk} for {this_period().label} is queued."]
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED
    assert run.issue is True
    detail = client.get(response["Location"]).content.decode()
    assert "Succeeded" in detail
    assert "hx-trigger" not in detail  # finished: the page stops polling
    assert Invoice.objects.get().status == InvoiceStatus.ISSUED


def test_a_draft_run_for_one_organization_leaves_drafts(cast, product):
    sell(cast, product, Preset.FIXED_FEE, price_amount=Decimal(1000))
    client = cast.client_for(cast.billing)
    with TestCase.captureOnCommitCallbacks(execute=True):
        client.post(
            page("run_start"),
            {"period": this_period().label, "organization": cast.acme.pk, "draft": "on"},
        )
    run = BillingRun.objects.get()
    assert (run.organization, run.issue) == (cast.acme, False)
    assert Invoice.objects.get().status == InvoiceStatus.DRAFT


@pytest.mark.parametrize(
    ("period", "message"),
    [
        ("2999-01", "period: The period 2999-01 has not started; nothing is due yet."),
        ("2026-13", "period: "),
        ("", "period: This field is required."),
    ],
)
def test_a_bad_period_is_refused_with_its_message_and_starts_nothing(cast, period, message):
    response = cast.client_for(cast.billing).post(page("run_start"), {"period": period})

    assert response.status_code == 302
    assert response["Location"] == page("run_list")
    [shown] = texts(response)
    assert shown.startswith(message)
    assert not BillingRun.objects.exists()


def test_a_running_run_polls_its_progress_and_a_finished_one_does_not(cast):
    run = actions.do_create_run(period=this_period(), actor=cast.billing)
    client = cast.client_for(cast.manager)

    fragment = client.get(page("run_detail", run.pk), headers={"HX-Request": "true"})

    body = fragment.content.decode()
    assert "<html" not in body  # the fragment only
    assert 'hx-trigger="every 2s"' in body
    assert "Pending" in body
    assert "Queue the run again" not in body  # managers read only
    BillingRun.objects.filter(pk=run.pk).update(
        status=RunStatus.SUCCEEDED, items_total=4, items_done=4
    )
    done = client.get(page("run_detail", run.pk), headers={"HX-Request": "true"})
    assert "hx-trigger" not in done.content.decode()
    assert "4</strong> of <strong>4" in done.content.decode()


def test_a_run_whose_worker_is_alive_cannot_be_queued_again(cast):
    run = actions.do_create_run(period=this_period(), actor=cast.billing)
    now = timezone.now()
    BillingRun.objects.filter(pk=run.pk).update(
        status=RunStatus.RUNNING, started_at=now, heartbeat_at=now
    )

    response = cast.client_for(cast.billing).post(page("run_continue", run.pk))

    assert response["Location"] == page("run_detail", run.pk)
    assert texts(response) == ["This run is already running."]


def test_a_failed_run_is_continued_by_the_worker(cast):
    run = actions.do_create_run(period=this_period(), actor=cast.billing)
    BillingRun.objects.filter(pk=run.pk).update(status=RunStatus.FAILED, error="boom")
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = cast.client_for(cast.billing).post(page("run_continue", run.pk))
    assert texts(response) == [f"Billing run {run.pk} is queued again."]
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED


# --- Invoice actions ----------------------------------------------------------------------


def test_issuing_a_draft_numbers_it(cast):
    invoice = draft(cast, "540")
    response = cast.client_for(cast.billing).post(page("invoice_issue", invoice.pk))
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.ISSUED
    assert response["Location"] == page("invoice_detail", invoice.pk)
    assert texts(response) == [f"Issued as {invoice.number}."]


def test_issuing_an_empty_draft_is_refused_with_its_message(cast):
    invoice = draft(cast)
    response = cast.client_for(cast.billing).post(page("invoice_issue", invoice.pk))
    assert texts(response) == ["An invoice without lines cannot be issued."]
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.DRAFT


def test_voiding_needs_a_reason_and_then_voids(cast):
    invoice = issued(cast, "10")
    client = cast.client_for(cast.billing)

    refused = client.post(page("invoice_void", invoice.pk), {"reason": ""})
    assert texts(refused) == ["reason: This field is required."]
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.ISSUED

    done = fresh(client).post(page("invoice_void", invoice.pk), {"reason": "Wrong address"})
    invoice.refresh_from_db()
    assert (invoice.status, invoice.void_reason) == (InvoiceStatus.VOID, "Wrong address")
    assert texts(done) == ["Voided; its items will be billed again by the next run."]


def test_a_paid_invoice_cannot_be_voided(cast):
    invoice = actions.do_mark_invoice_paid(issued(cast, "10"), actor=cast.billing)
    response = cast.client_for(cast.billing).post(
        page("invoice_void", invoice.pk), {"reason": "Oops"}
    )
    assert texts(response) == ["A paid invoice cannot become void."]
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID


def test_marking_paid_records_the_reference(cast):
    invoice = issued(cast, "10")
    response = cast.client_for(cast.billing).post(
        page("invoice_paid", invoice.pk), {"reference": "Bank 42"}
    )
    invoice.refresh_from_db()
    assert (invoice.status, invoice.payment_reference) == (InvoiceStatus.PAID, "Bank 42")
    assert texts(response) == ["Marked as paid."]
    again = cast.client_for(cast.billing).post(page("invoice_paid", invoice.pk))
    assert texts(again) == ["A paid invoice cannot become paid."]


def test_a_credit_note_credits_in_full_or_per_line(cast):
    invoice = issued(cast, "100", "50")
    first = invoice.lines.order_by("position")[0]
    client = cast.client_for(cast.billing)

    per_line = client.post(
        page("invoice_credit", invoice.pk), {"reason": "Goodwill", f"line_{first.pk}": "30"}
    )
    note = CreditNote.objects.get()
    assert texts(per_line) == [f"Credit note {note.number} issued."]
    assert note.subtotal == Decimal(30)

    fresh(client).post(page("invoice_credit", invoice.pk), {"reason": "The rest"})
    assert CreditNote.objects.order_by("-pk")[0].subtotal == Decimal(120)  # 70 + 50

    nothing = fresh(client).post(page("invoice_credit", invoice.pk), {"reason": "Again"})
    assert texts(nothing) == ["Nothing is left to credit on this invoice."]
    assert CreditNote.objects.count() == 2


def test_crediting_more_than_a_line_is_refused(cast):
    invoice = issued(cast, "100")
    (line,) = invoice.lines.all()
    response = cast.client_for(cast.billing).post(
        page("invoice_credit", invoice.pk), {"reason": "Too much", f"line_{line.pk}": "100.01"}
    )
    limit = f"lines: Line {line.pk} can be credited by at most 100.0000 EUR."
    assert texts(response) == [limit]
    assert not CreditNote.objects.exists()


def test_a_credit_note_needs_a_reason(cast):
    invoice = issued(cast, "100")
    response = cast.client_for(cast.billing).post(page("invoice_credit", invoice.pk), {})
    assert texts(response) == ["reason: This field is required."]
    assert not CreditNote.objects.exists()


# --- Refusals -----------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["manager", "agent"])
def test_managers_and_agents_are_refused_every_write_and_nothing_changes(cast, role):
    invoice = draft(cast, "10")
    paid = issued(cast, "20")
    run = actions.do_create_run(period=this_period(), actor=cast.billing)
    client = cast.client_for(getattr(cast, role))
    events = BillingEvent.objects.count()

    for url, data in (
        (page("run_start"), {"period": this_period().label}),
        (page("run_continue", run.pk), {}),
        (page("invoice_issue", invoice.pk), {}),
        (page("invoice_void", invoice.pk), {"reason": "No"}),
        (page("invoice_paid", paid.pk), {}),
        (page("invoice_credit", paid.pk), {"reason": "No"}),
        (page("quote_generate"), {"within_days": "60"}),
        (page("quote_accept", 1), {}),
    ):
        assert client.post(url, data).status_code == 403, url
    assert BillingEvent.objects.count() == events
    assert BillingRun.objects.count() == 1
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.DRAFT


def test_the_console_hides_the_actions_a_manager_may_not_take(cast):
    invoice = draft(cast, "10")
    body = cast.client_for(cast.manager).get(page("invoice_detail", invoice.pk)).content.decode()
    assert "Issue the invoice" not in body
    assert "Void the invoice" not in body
    assert (
        "Start the run" not in cast.client_for(cast.manager).get(page("run_list")).content.decode()
    )
    billing = cast.client_for(cast.billing).get(page("invoice_detail", invoice.pk)).content.decode()
    assert "Issue the invoice" in billing


# --- Renewal quotes -----------------------------------------------------------------------


def test_quotes_are_generated_and_accepted(cast, product):
    contract = sell(
        cast,
        product,
        Preset.FIXED_FEE,
        start=timezone.localdate() - dt.timedelta(days=340),
        price_amount=Decimal(8000),
        uplift_percent=Decimal(5),
    )
    client = cast.client_for(cast.billing)

    generated = client.post(page("quote_generate"), {"within_days": "60"})
    fresh(client)
    quote = RenewalQuote.objects.get()
    assert texts(generated) == ["1 renewal quote(s) created."]
    listing = client.get(page("quote_list")).content.decode()
    assert "€8,400.00" in listing and "€8,000.00" in listing

    accepted = client.post(page("quote_accept", quote.pk))
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.ACCEPTED
    assert quote.contract == contract
    assert texts(accepted) == [f"Accepted: the contract is renewed as #{quote.renewal_id}."]


def test_generating_quotes_for_zero_days_is_refused(cast):
    response = cast.client_for(cast.billing).post(page("quote_generate"), {"within_days": "0"})
    assert texts(response) == ["within days: Ensure this value is greater than or equal to 1."]
    assert not RenewalQuote.objects.exists()


def test_accepting_an_unknown_quote_is_a_404(cast):
    assert cast.client_for(cast.billing).post(page("quote_accept", 999)).status_code == 404


# --- Portal -------------------------------------------------------------------------------


def test_the_portal_lists_the_customers_invoices_in_their_currency_with_labels(cast):
    invoice = issued(cast, "1234.5")
    draft(cast, "99")  # drafts are never shown
    response = cast.client_for(cast.contact).get(page("portal_invoice_list"))
    body = response.content.decode()
    assert invoice.number in body
    assert "€1,234.50" in body
    assert 'data-label="Total"' in body  # the cards keep their labels on a phone
    assert body.count("<tr>") == 2  # the header and the issued invoice
    assert 'href="/portal/invoices/">Invoices</a>' in body


def test_the_admin_shows_amounts_in_their_currency(cast):
    issued(cast, "540")
    body = cast.client_for(cast.admin).get(reverse("admin:billing_invoice_changelist"))
    assert "€540.00" in body.content.decode()
    assert "540.0000" not in body.content.decode()
