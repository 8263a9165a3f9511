"""What the invoice PDF carries besides its lines: the customer's billing address and
tax ID, the vendor's bank details, the case behind each line; and the renderer warmed
once per process."""

from __future__ import annotations

from decimal import Decimal

from retainer.billing import actions, apps, pdf
from retainer.billing.models import Invoice
from retainer.billing.run import execute_run
from retainer.billing.selectors import case_references_by_line
from retainer.billing.tests.conftest import open_case, sell, this_period
from retainer.billing.tests.test_outputs import issued_invoice, pdf_text
from retainer.cases import actions as case_actions
from retainer.contracts.choices import Preset


def test_the_pdf_carries_the_customers_address_and_tax_id_and_the_bank_details(cast, settings):
    settings.RETAINER_VENDOR_BANK_NAME = "Nordbank AG"
    settings.RETAINER_VENDOR_BANK_IBAN = "DE02 1203 0000 0000 2020 51"
    settings.RETAINER_VENDOR_BANK_BIC = "BYLADEM1001"
    invoice = issued_invoice(cast, "Platinum support")
    actions.do_set_billing_profile(
        cast.acme,
        tax_rate=Decimal(19),
        tax_id="DE999888777",
        billing_address="Acme GmbH\nHafenstraße 12\n20457 Hamburg",
        actor=cast.admin,
    )

    text = pdf_text(pdf.render_invoice_pdf(invoice))

    assert "Hafenstraße 12" in text
    assert "20457 Hamburg" in text
    assert "VAT ID: DE999888777" in text
    assert "DE02 1203 0000 0000 2020 51" in text
    assert "BYLADEM1001" in text
    assert "Nordbank AG" in text


def test_without_an_iban_the_pdf_has_no_payment_block(cast, settings):
    settings.RETAINER_VENDOR_BANK_IBAN = ""
    invoice = issued_invoice(cast, "Platinum support")

    assert "IBAN" not in pdf_text(pdf.render_invoice_pdf(invoice))


def test_each_line_from_cases_names_them_on_the_pdf(cast, product):
    sell(cast, product, Preset.PAY_AS_YOU_GO, overage_rate="120")
    first, second = open_case(cast, product), open_case(cast, product)
    case_actions.do_log_time(first, agent=cast.agent, minutes=60, actor=cast.agent)
    case_actions.do_log_time(second, agent=cast.agent, minutes=30, actor=cast.agent)
    execute_run(actions.do_create_run(period=this_period(), actor=cast.billing))
    invoice = Invoice.objects.get()
    (line,) = invoice.lines.all()  # both cases netted on one pay-as-you-go line

    assert case_references_by_line(invoice) == {line.pk: [first.reference, second.reference]}
    text = pdf_text(pdf.render_invoice_pdf(invoice))
    assert f"Case {first.reference}, {second.reference}" in text


def test_the_renderer_warms_once_per_process_and_only_in_a_server(monkeypatch):
    monkeypatch.setattr(pdf, "_warm", type(pdf._warm)())  # a process that never warmed
    assert pdf.warm_up() > 0
    assert pdf.warm_up() == 0.0

    monkeypatch.delenv("SERVER_SOFTWARE", raising=False)
    assert not apps.serves_requests()
    monkeypatch.setenv("SERVER_SOFTWARE", "gunicorn/23.0.0")
    assert apps.serves_requests()
