"""A dashboard table as CSV or XLSX.

Spreadsheets run text cells starting with ``= + - @`` (or tab, carriage return) as
formulas: such a cell gets a leading ``'`` so it shows as text. Numbers stay numbers
(``Decimal`` and ``int`` → numeric cells in XLSX, plain decimals in CSV). openpyxl is
imported by the first XLSX export only (memory budget, docs/performance.md).
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

from retainer.metrics.tables import Table

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralize(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(DANGEROUS_PREFIXES):
        return "'" + value
    return value


def plain_rows(table: Table) -> list[list[Any]]:
    """The table's values: numbers as ``Decimal``/``int``, empty for no data, text
    neutralized."""
    return [
        [
            ""
            if cell.value is None
            else cell.value
            if isinstance(cell.value, (int, Decimal))
            else neutralize(str(cell.value))
            for cell in row
        ]
        for row in table.rows
    ]


def to_csv(table: Table) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([neutralize(column) for column in table.columns])
    for row in plain_rows(table):
        writer.writerow([f"{v:f}" if isinstance(v, Decimal) else v for v in row])
    return out.getvalue().encode("utf-8")


def to_xlsx(table: Table) -> bytes:
    from openpyxl import Workbook  # 9 MB: loaded by the first spreadsheet export only

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(table.key[:31])
    sheet.append([neutralize(column) for column in table.columns])
    for row in plain_rows(table):
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
