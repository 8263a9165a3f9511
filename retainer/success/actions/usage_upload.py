"""License usage from a CSV file: every row is checked before anything is written, like
the CSV imports (docs/imports.md): if any row is rejected, nothing of the file is, and
the report lists each rejected row (``row 4``, the header being row 1), its column and
why. A file without a rejected row is written in one transaction through
``do_report_usage``, so each month's report (or replacement) has its event.

Columns (bold: required): **license** (its id), **period** (``YYYY-MM`` or any day of
the month, ``YYYY-MM-DD``), **seats_in_use**, ``basic_users``, ``advanced_users``
(empty: 0)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from retainer.accounts.models import User
from retainer.success.actions.sales import do_report_usage, usage_errors
from retainer.success.models import License

__all__ = ["MAX_ROWS", "UsageUpload", "do_upload_usage", "parse_usage_csv"]

REQUIRED = ("license", "period", "seats_in_use")
OPTIONAL = ("basic_users", "advanced_users")
MAX_ROWS = 5000


@dataclass
class UsageUpload:
    """The rows read (``license``, ``period``, counts) and those rejected, with why."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[dict[str, str]] = field(default_factory=list)
    written: int = 0

    def reject(self, row: int | str, column: str, reason: str) -> None:
        self.rejected.append({"row": f"row {row}", "column": column, "reason": reason})


def _period(text: str) -> dt.date:
    text = text.strip()
    try:
        if len(text) == 7:
            return dt.date.fromisoformat(f"{text}-01")
        return dt.date.fromisoformat(text).replace(day=1)
    except ValueError:
        raise ValueError("Not a month: write YYYY-MM or YYYY-MM-DD.") from None


def _count(text: str, *, default: int | None = None) -> int:
    text = text.strip()
    if not text and default is not None:
        return default
    try:
        return int(text)
    except ValueError:
        raise ValueError("Not a whole number.") from None


def _read_row(
    number: int, raw: dict[str, str], licenses: dict[int, License], report: UsageUpload
) -> None:
    values: dict[str, Any] = {}
    cell = {k.strip().lower(): (v or "") for k, v in raw.items() if k}
    license_id = cell.get("license", "").strip()
    if not license_id.isdigit() or int(license_id) not in licenses:
        report.reject(number, "license", f"No license with id {license_id or '(empty)'}.")
        return
    license = licenses[int(license_id)]
    try:
        values["period"] = _period(cell.get("period", ""))
    except ValueError as exc:
        report.reject(number, "period", str(exc))
    for name in ("seats_in_use", *OPTIONAL):
        try:
            values[name] = _count(cell.get(name, ""), default=None if name == "seats_in_use" else 0)
        except ValueError as exc:
            report.reject(number, name, str(exc))
    if len(values) < 4:
        return
    counts = {name: values[name] for name in ("seats_in_use", *OPTIONAL)}
    errors = usage_errors(license, **counts)
    for column, reason in errors.items():
        report.reject(number, column, reason)
    if not errors:
        report.rows.append({"line": number, "license": license, **values})


def parse_usage_csv(content: bytes, *, licenses: Any) -> UsageUpload:
    """Check every row of ``content`` against ``licenses`` (the licenses the uploader may
    report for); reads, writes nothing. Two rows for the same license and month are a
    rejection (which one should count?)."""
    report = UsageUpload()
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        report.reject(1, "file", "The file is not UTF-8 text.")
        return report
    reader = csv.DictReader(io.StringIO(text))
    header = {name.strip().lower() for name in reader.fieldnames or [] if name}
    if missing := [name for name in REQUIRED if name not in header]:
        report.reject(1, ", ".join(missing), "Required column missing from the header.")
        return report
    by_id = {license.pk: license for license in licenses}
    seen: dict[tuple[int, dt.date], int] = {}
    for number, raw in enumerate(reader, start=2):
        if number - 1 > MAX_ROWS:
            report.reject(number, "file", f"More than {MAX_ROWS} rows: split the file.")
            break
        _read_row(number, raw, by_id, report)
        if report.rows and report.rows[-1]["line"] == number:
            key = (report.rows[-1]["license"].pk, report.rows[-1]["period"])
            if key in seen:
                report.reject(number, "period", f"The same license and month as row {seen[key]}.")
            seen.setdefault(key, number)
    if not report.rows and not report.rejected:
        report.reject(2, "file", "The file has no row below its header.")
    return report


@transaction.atomic
def do_upload_usage(content: bytes, *, licenses: Any, actor: User | None) -> UsageUpload:
    """Check the file, then, only when no row is rejected, report every row's month. A
    refusal under the lock (a license changed meanwhile) rolls the whole file back."""
    report = parse_usage_csv(content, licenses=licenses)
    if report.rejected:
        return report
    for row in report.rows:
        try:
            do_report_usage(
                row["license"],
                period=row["period"],
                seats_in_use=row["seats_in_use"],
                basic_users=row["basic_users"],
                advanced_users=row["advanced_users"],
                actor=actor,
            )
        except ValidationError as exc:
            transaction.set_rollback(True)
            for column, reasons in exc.message_dict.items():
                report.reject(row["line"], column, " ".join(reasons))
            report.written = 0
            return report
        report.written += 1
    return report
