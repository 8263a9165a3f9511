"""Bad input gets a clear JSON 4xx and changes nothing; access is scoped."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.apps import apps

from retainer.billing import actions
from retainer.billing.choices import InvoiceStatus
from retainer.billing.models import ImmutableError, Invoice, InvoiceLine
from retainer.billing.rules import parse_period
from retainer.billing.tests.conftest import open_case, post, run_billing, sell, this_period, url
from retainer.contracts.choices import Preset
from retainer.lib.errors import InvalidInput


def row_counts() -> dict[str, int]:
    """Rows per model with a table, leaving out sessions (signing a test client in
    creates one)."""
    return {
        m._meta.label: m._default_manager.count()
        for m in apps.get_models()
        if m._meta.managed and m._meta.label != "sessions.Session"
    }


def draft_with_line(cast) -> Invoice:
    invoice = actions.do_create_invoice(
        organization=cast.acme, period=this_period(), actor=cast.billing
    )
    actions.do_add_line(
        invoice,
        description="Consulting",
        quantity=Decimal(2),
        unit_price=Decimal("100"),
        currency="EUR",
        actor=cast.billing,
    )
    return invoice


def assert_refused(response, status: int, code: str) -> None:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] == code
    assert body["detail"]


def test_a_run_for_a_future_period_is_refused_and_records_nothing(cast):
    client = cast.client_for(cast.billing)
    before = row_counts()

    response = post(client, "billing_run_list", period="2099-01")

    assert_refused(response, 400, "period_in_future")
    assert row_counts() == before


def test_a_malformed_period_is_refused(cast):
    response = post(cast.client_for(cast.billing), "billing_run_list", period="2026-13")
    assert_refused(response, 400, "invalid")


def test_issuing_an_empty_invoice_is_refused(cast):
    invoice = actions.do_create_invoice(
        organization=cast.acme, period=this_period(), actor=cast.billing
    )
    before = row_counts()

    response = post(cast.client_for(cast.billing), "invoice_issue", invoice.pk)

    assert_refused(response, 400, "invoice_empty")
    assert row_counts() == before
    invoice.refresh_from_db()
    assert (invoice.status, invoice.number) == (InvoiceStatus.DRAFT, None)


def test_voiding_a_paid_invoice_is_refused(cast):
    invoice = actions.do_issue_invoice(draft_with_line(cast), actor=cast.billing)
    actions.do_mark_invoice_paid(invoice, reference="bank 1", actor=cast.billing)
    before = row_counts()

    response = post(cast.client_for(cast.billing), "invoice_void", invoice.pk, reason="oops")

    assert_refused(response, 409, "invoice_paid")
    assert row_counts() == before
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID


def test_editing_an_issued_invoice_is_refused_by_the_api_and_the_model(cast):
    invoice = actions.do_issue_invoice(draft_with_line(cast), actor=cast.billing)
    client = cast.client_for(cast.billing)
    before = row_counts()

    patch = client.patch(
        url("invoice_detail", invoice.pk), {"notes": "changed"}, content_type="application/json"
    )
    line = post(
        client,
        "invoice_lines",
        invoice.pk,
        description="More",
        quantity="1",
        unit_price="5",
        currency="EUR",
    )

    assert_refused(patch, 409, "invoice_immutable")
    assert_refused(line, 409, "invoice_immutable")
    assert row_counts() == before
    stored = Invoice.objects.get(pk=invoice.pk)
    assert (stored.notes, stored.total) == ("", Decimal("200"))
    stored.notes = "sneaky"
    with pytest.raises(ImmutableError, match="cannot be edited"):
        stored.save()
    first = InvoiceLine.objects.get(invoice=invoice)
    first.amount = Decimal(1)
    with pytest.raises(ImmutableError, match="cannot change"):
        first.save()


def test_a_line_in_another_currency_is_refused(cast):
    invoice = draft_with_line(cast)
    before = row_counts()

    response = post(
        cast.client_for(cast.billing),
        "invoice_lines",
        invoice.pk,
        description="Dollars",
        quantity="1",
        unit_price="5",
        currency="USD",
    )

    assert_refused(response, 400, "currency_mismatch")
    assert row_counts() == before


def test_an_invoice_in_another_currency_than_the_organization_is_refused(cast):
    before = row_counts()
    response = post(
        cast.client_for(cast.billing),
        "invoice_list",
        organization=cast.acme.pk,
        period=this_period().label,
        currency="USD",
    )
    assert_refused(response, 400, "currency_mismatch")
    assert row_counts() == before


def test_agents_cannot_run_billing(cast):
    response = post(cast.client_for(cast.agent), "billing_run_list", period=this_period().label)
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_managers_read_but_cannot_run_billing(cast):
    client = cast.client_for(cast.manager)
    assert client.get(url("billing_run_list")).status_code == 200
    response = post(client, "billing_run_list", period=this_period().label)
    assert response.status_code == 403


def test_customers_read_only_their_own_issued_invoices(cast, product):
    sell(cast, product, Preset.PAY_AS_YOU_GO, unit="incidents", overage_rate="95")
    open_case(cast, product)
    run_billing(cast.client_for(cast.billing))
    issued = Invoice.objects.get()
    draft = draft_with_line(cast)

    own = cast.client_for(cast.contact)
    listed = own.get(url("invoice_list")).json()["results"]
    assert [row["id"] for row in listed] == [issued.pk]
    assert own.get(url("invoice_detail", issued.pk)).status_code == 200
    assert own.get(url("invoice_detail", draft.pk)).status_code == 404
    pdf = own.get(url("invoice_pdf", issued.pk))
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"

    outsider = cast.client_for(cast.outsider)
    assert outsider.get(url("invoice_list")).json()["results"] == []
    assert outsider.get(url("invoice_detail", issued.pk)).status_code == 404
    assert outsider.get(url("invoice_pdf", issued.pk)).status_code == 404


def test_the_portal_lists_the_customers_issued_invoices(cast, product):
    sell(cast, product, Preset.PAY_AS_YOU_GO, unit="incidents", overage_rate="95")
    open_case(cast, product)
    run_billing(cast.client_for(cast.billing))
    draft_with_line(cast)
    issued = Invoice.objects.exclude(number=None).get()

    page = cast.client_for(cast.customer_admin).get("/portal/invoices/")
    other = cast.client_for(cast.outsider).get("/portal/invoices/")

    assert page.status_code == 200
    assert issued.number in page.content.decode()
    assert "Draft" not in page.content.decode()
    assert issued.number not in other.content.decode()
    assert cast.client_for(cast.contact).post("/portal/invoices/").status_code == 405


def test_void_releases_items_and_the_next_run_bills_them_again(cast, product):
    sell(cast, product, Preset.PAY_AS_YOU_GO, unit="incidents", overage_rate="95")
    open_case(cast, product)
    client = cast.client_for(cast.billing)
    run_billing(client)
    first = Invoice.objects.get()

    voided = post(client, "invoice_void", first.pk, reason="Wrong customer reference")
    run_billing(client)

    assert voided.json()["status"] == InvoiceStatus.VOID
    second = Invoice.objects.exclude(pk=first.pk).get()
    assert second.total == first.total == Decimal(95)
    assert second.number != first.number


def test_a_credit_note_references_the_invoice_and_has_its_own_series(cast):
    invoice = actions.do_issue_invoice(draft_with_line(cast), actor=cast.billing)
    line = invoice.lines.get()
    client = cast.client_for(cast.billing)

    partial = post(
        client,
        "credit_note_list",
        invoice=invoice.pk,
        reason="Goodwill",
        lines=[{"line": line.pk, "amount": "50"}],
    )
    too_much = post(
        client,
        "credit_note_list",
        invoice=invoice.pk,
        reason="Again",
        lines=[{"line": line.pk, "amount": "151"}],
    )
    rest = post(client, "credit_note_list", invoice=invoice.pk, reason="Cancelled")

    assert partial.status_code == 201, partial.json()
    assert partial.json()["number"].startswith("CN-")
    assert partial.json()["invoice_number"] == invoice.number
    assert_refused(too_much, 400, "credit_exceeds_line")
    assert Decimal(rest.json()["total"]) == Decimal(150)
    assert rest.json()["number"].endswith("000002")


def test_issued_invoice_numbers_are_sequential_without_gaps(cast):
    numbers = [
        actions.do_issue_invoice(draft_with_line(cast), actor=cast.billing).number for _ in range(3)
    ]
    failed = actions.do_create_invoice(
        organization=cast.acme, period=parse_period("2026-01"), actor=cast.billing
    )
    with pytest.raises(InvalidInput):
        actions.do_issue_invoice(failed, actor=cast.billing)
    numbers.append(actions.do_issue_invoice(draft_with_line(cast), actor=cast.billing).number)
    tails = [int(str(n).rsplit("-", 1)[1]) for n in numbers]
    assert tails == list(range(tails[0], tails[0] + 4))


def test_fields_that_cannot_be_set_are_refused(cast):
    invoice = draft_with_line(cast)
    client = cast.client_for(cast.billing)
    before = row_counts()

    response = client.patch(
        url("invoice_detail", invoice.pk),
        {"notes": "ok", "total": "0.01"},
        content_type="application/json",
    )

    assert_refused(response, 400, "field_not_allowed")
    assert row_counts() == before
    assert Invoice.objects.get(pk=invoice.pk).notes == ""
