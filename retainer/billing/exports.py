"""CSV and XLSX exports of invoice lines for accounting.

Spreadsheets execute cells that start with ``= + - @`` (and tab or carriage return
tricks): every text cell starting with one of them gets a leading ``'``, so it shows as
text. Numbers stay numbers (``Decimal`` → numeric cells), never strings.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from retainer.billing.models import InvoiceLine

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

HEADER = [
    "invoice_number",
    "status",
    "issued_at",
    "organization",
    "currency",
    "period_start",
    "period_end",
    "line",
    "kind",
    "description",
    "quantity",
    "unit",
    "unit_price",
    "amount",
    "tax_rate",
    "invoice_subtotal",
    "invoice_tax",
    "invoice_total",
]


def neutralize(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(DANGEROUS_PREFIXES):
        return "'" + value
    return value


def export_rows(lines: Iterable[InvoiceLine]) -> list[list[Any]]:
    rows: list[list[Any]] = []
    for line in lines:
        invoice = line.invoice
        rows.append(
            [
                invoice.number or "",
                invoice.status,
                invoice.issued_at.isoformat() if invoice.issued_at else "",
                invoice.organization.name,
                invoice.currency,
                invoice.period_start.isoformat(),
                invoice.period_end.isoformat(),
                line.position,
                line.kind,
                line.description,
                line.quantity,
                line.unit,
                line.unit_price,
                line.amount,
                invoice.tax_rate,
                invoice.subtotal,
                invoice.tax_amount,
                invoice.total,
            ]
        )
    return rows


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return value.normalize() if value == value.to_integral() else value
    return neutralize(value)


def to_csv(rows: list[list[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for row in rows:
        writer.writerow([f"{v:f}" if isinstance(v, Decimal) else _plain(v) for v in row])
    return out.getvalue().encode("utf-8")


def to_xlsx(rows: list[list[Any]]) -> bytes:
    from openpyxl import Workbook  # 9 MB: loaded by the first spreadsheet export only

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Invoice lines")
    sheet.append(HEADER)
    for row in rows:
        sheet.append([v if isinstance(v, (int, Decimal)) else neutralize(v) for v in row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
