"""PDF, CSV and XLSX output: totals read back, nothing fetched, formulas neutralized."""

from __future__ import annotations

import csv
import io
import socket
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from retainer.accounts import actions as accounts_actions
from retainer.billing import actions, exports, pdf
from retainer.billing.tests.conftest import this_period, url


@pytest.fixture
def listener():
    """A real TCP listener on loopback: any fetch attempt would show up as a connection."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    server.setblocking(False)
    yield server
    server.close()


def accepted(server: socket.socket) -> int:
    count = 0
    while True:
        try:
            conn, _ = server.accept()
        except BlockingIOError:
            return count
        conn.close()
        count += 1


def issued_invoice(cast, *descriptions: str):
    invoice = actions.do_create_invoice(
        organization=cast.acme, period=this_period(), actor=cast.billing
    )
    for n, description in enumerate(descriptions, start=1):
        actions.do_add_line(
            invoice,
            description=description,
            quantity=Decimal(n),
            unit_price=Decimal("1234.5"),
            currency="EUR",
            actor=cast.billing,
        )
    actions.do_set_billing_profile(cast.acme, tax_rate=Decimal("19"), actor=cast.admin)
    return actions.do_issue_invoice(invoice, actor=cast.billing)


def pdf_text(body: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)


def test_the_pdf_shows_the_number_lines_and_totals(cast):
    invoice = issued_invoice(cast, "Platinum support", "Overage hours")

    text = pdf_text(pdf.render_invoice_pdf(invoice))

    assert invoice.number in text
    assert "Acme" in text
    assert "Platinum support" in text
    # 1 × 1234.5 + 2 × 1234.5 = 3703.50; 19 % tax = 703.665 → 703.67; total 4407.17.
    assert "€3,703.50" in text
    assert "€703.67" in text
    assert "€4,407.17" in text


def test_the_pdf_shows_a_zero_decimal_currency_without_decimals(cast):
    tokyo = accounts_actions.do_create_organization(
        name="Tokyo Trading",
        domains=["tokyo.test"],
        time_zone="Asia/Tokyo",
        currency="JPY",
        actor=cast.admin,
    )
    actions.do_set_billing_profile(tokyo, tax_rate=Decimal("10"), actor=cast.admin)
    invoice = actions.do_create_invoice(organization=tokyo, period=this_period(), actor=None)
    actions.do_add_line(
        invoice,
        description="Consulting",
        quantity=Decimal(1),
        unit_price=Decimal("1234.5"),
        currency="JPY",
        actor=cast.billing,
    )
    invoice = actions.do_issue_invoice(invoice, actor=cast.billing)

    text = pdf_text(pdf.render_invoice_pdf(invoice))

    # 1234.5 → 1,235 (half-up, no minor unit); 10 % tax of 1,235 = 123.5 → 124; total 1,359.
    assert "¥1,235" in text
    assert "¥124" in text
    assert "¥1,359" in text
    assert ".00" not in text and "1,234.50" not in text


def test_an_image_in_a_line_description_is_never_fetched(cast, listener):
    port = listener.getsockname()[1]
    invoice = issued_invoice(
        cast,
        '<img src="http://127.0.0.1:1/x">',
        f'<img src="http://127.0.0.1:{port}/y"><link rel="stylesheet" href="http://127.0.0.1:{port}/z">',
    )
    fetcher = pdf.LocalOnlyFetcher()

    text = pdf_text(pdf.render_invoice_pdf(invoice, fetcher))

    assert accepted(listener) == 0
    assert not any("127.0.0.1" in refused for refused in fetcher.refused)
    assert '<img src="http://127.0.0.1:1/x">' in text.replace("\n", "")


def test_the_fetcher_refuses_every_url_but_local_assets(listener):
    port = listener.getsockname()[1]
    fetcher = pdf.LocalOnlyFetcher()
    html = (
        f'<img src="http://127.0.0.1:{port}/a"><img src="https://127.0.0.1:{port}/b">'
        '<img src="file:///etc/passwd"><img src="http://169.254.169.254/latest/meta-data/">'
        '<img src="logo.svg">'
    )

    pdf.html_to_pdf(html, fetcher)

    assert accepted(listener) == 0
    assert len(fetcher.refused) == 4
    for bad in ("http://127.0.0.1:1/x", "ftp://example.com/x", "file:///etc/hostname"):
        with pytest.raises(pdf.FetchRefused):
            fetcher.fetch(bad)
    assert fetcher.fetch((pdf.STATIC_DIR / "logo.svg").as_uri()).read().startswith(b"<svg")


def test_exports_neutralize_formulas_and_keep_numbers_numeric(cast):
    issued_invoice(cast, '=HYPERLINK("http://evil")', "+1", "-2", "@SUM(A1)", "=1+1", "Plain")
    client = cast.client_for(cast.billing)

    csv_body = client.get(url("invoice_export_csv")).content.decode()
    xlsx_body = client.get(url("invoice_export_xlsx")).content

    rows = list(csv.reader(io.StringIO(csv_body)))
    assert rows[0] == exports.HEADER
    descriptions = [row[exports.HEADER.index("description")] for row in rows[1:]]
    assert descriptions[:5] == ['\'=HYPERLINK("http://evil")', "'+1", "'-2", "'@SUM(A1)", "'=1+1"]
    assert descriptions[5] == "Plain"
    assert rows[1][exports.HEADER.index("amount")] == "1234.5000"
    sheet = load_workbook(io.BytesIO(xlsx_body)).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[1][exports.HEADER.index("description")].startswith("'=")
    amount = values[2][exports.HEADER.index("amount")]
    assert isinstance(amount, (int, float)) and amount == 2469
    assert values[1][exports.HEADER.index("line")] == 1


def test_customers_and_agents_cannot_export(cast):
    assert cast.client_for(cast.contact).get(url("invoice_export_csv")).status_code == 403
    assert cast.client_for(cast.agent).get(url("invoice_export_xlsx")).status_code == 403


def test_neutralize_leaves_safe_text_and_numbers_alone():
    assert exports.neutralize("Support") == "Support"
    assert exports.neutralize("\rX") == "'\rX"
    assert exports.neutralize("\tX") == "'\tX"
    assert exports.neutralize(Decimal("-5")) == Decimal("-5")
