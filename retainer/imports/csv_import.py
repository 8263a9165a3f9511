"""Import from CSV files: organizations, contacts, contracts with opening balances, cases.

One file holds one kind; import them in that order, since each refers to the ones before
(a contact names its organization, a contract its organization and products, a case its
contact and product). docs/imports.md lists the columns.

Every row is checked before anything is written. If any row is rejected, nothing of the
file is written and the report names every rejected row, column and reason; fix the
file and run it again. A dry run checks and reports the same way and never writes. Rows
imported before (same key: the organization's name, the contact's e-mail address, the
contract's or case's ``external_id``) are skipped, so a file can be run again safely.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from retainer.accounts import actions as accounts
from retainer.accounts.choices import ContactRole
from retainer.accounts.models import Contact, Organization
from retainer.cases.choices import Priority, Severity
from retainer.cases.models import Case
from retainer.catalog.models import Product
from retainer.contracts import actions as contracts
from retainer.contracts.choices import Preset
from retainer.contracts.models import Contract
from retainer.imports import writing
from retainer.imports.models import ImportedRecord, ImportRun
from retainer.imports.report import Report
from retainer.lib.errors import DomainError

MAX_ROWS = 100_000


@dataclass
class Row:
    number: int  # in the file, the header being row 1
    values: dict[str, Any] = field(default_factory=dict)


class _Rejected(Exception):
    def __init__(self, column: str, reason: str) -> None:
        self.column, self.reason = column, reason


def _required(raw: dict[str, str], column: str) -> str:
    value = (raw.get(column) or "").strip()
    if not value:
        raise _Rejected(column, "A value is required.")
    return value


def _date(raw: dict[str, str], column: str, *, required: bool = True) -> dt.date | None:
    value = (raw.get(column) or "").strip()
    if not value and not required:
        return None
    try:
        return dt.date.fromisoformat(_required(raw, column))
    except ValueError:
        raise _Rejected(column, f"{value!r} is not a date (YYYY-MM-DD).") from None


def _moment(raw: dict[str, str], column: str) -> dt.datetime:
    value = (raw.get(column) or "").strip()
    if not value:
        return timezone.now()
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise _Rejected(column, f"{value!r} is not a date or a date and time (ISO 8601).") from None
    return moment if timezone.is_aware(moment) else moment.replace(tzinfo=dt.UTC)


def _integer(raw: dict[str, str], column: str, *, low: int, high: int, default: int) -> int:
    value = (raw.get(column) or "").strip()
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        raise _Rejected(column, f"{value!r} is not a whole number.") from None
    if not low <= number <= high:
        raise _Rejected(column, f"{number} is not between {low} and {high}.")
    return number


def _email(raw: dict[str, str], column: str) -> str:
    value = _required(raw, column).lower()
    try:
        validate_email(value)
    except ValidationError:
        raise _Rejected(column, f"{value!r} is not an e-mail address.") from None
    return value


def _organization(raw: dict[str, str], column: str = "organization") -> Organization:
    name = _required(raw, column)
    organization = Organization.objects.filter(name=name).first()
    if organization is None:
        raise _Rejected(column, f"There is no organization {name!r} (import organizations first).")
    return organization


def _product(code: str, column: str) -> Product:
    product = Product.objects.filter(code=code).first()
    if product is None:
        raise _Rejected(column, f"There is no product with the code {code!r}.")
    return product


# --- one parser per kind: raw row → checked values, or _Rejected -------------------------


def _parse_organization(raw: dict[str, str]) -> dict[str, Any]:
    zone = (raw.get("time_zone") or "").strip() or "UTC"
    if zone not in available_timezones():
        raise _Rejected("time_zone", f"{zone!r} is not a time zone (e.g. Europe/Berlin).")
    ZoneInfo(zone)
    currency = (raw.get("currency") or "").strip().upper() or settings.RETAINER_DEFAULT_CURRENCY
    if len(currency) != 3 or not currency.isalpha():
        raise _Rejected("currency", f"{currency!r} is not a three-letter currency code.")
    domains = [d.strip().lower() for d in (raw.get("domains") or "").replace(";", " ").split()]
    return {"name": _required(raw, "name")[:100], "time_zone": zone, "currency": currency,
            "domains": domains}  # fmt: skip


def _parse_contact(raw: dict[str, str]) -> dict[str, Any]:
    role = (raw.get("role") or "").strip().lower() or ContactRole.MEMBER
    if role not in ContactRole.values:
        raise _Rejected("role", f"{role!r} is not one of {', '.join(ContactRole.values)}.")
    return {
        "organization": _organization(raw),
        "full_name": _required(raw, "full_name")[:200],
        "email": _email(raw, "email"),
        "phone": (raw.get("phone") or "").strip()[:30],
        "role": role,
    }


def _parse_contract(raw: dict[str, str]) -> dict[str, Any]:
    preset = _required(raw, "preset").lower()
    if preset not in Preset.values:
        raise _Rejected("preset", f"{preset!r} is not one of {', '.join(Preset.values)}.")
    start = _date(raw, "start_date")
    end = _date(raw, "end_date", required=False)
    if start and end and end < start:
        raise _Rejected("end_date", "The contract ends before it starts.")
    codes = [c for c in (raw.get("products") or "").replace(";", " ").split() if c]
    if not codes:
        raise _Rejected("products", "Name at least one product code.")
    terms: dict[str, Any] = {}
    quantity = (raw.get("quantity") or "").strip()
    if quantity:
        terms["quantity"] = _integer(raw, "quantity", low=0, high=10**9, default=0)
    opening = (raw.get("opening_balance") or "").strip()
    balance = None
    if opening:
        balance = _integer(raw, "opening_balance", low=0, high=10**9, default=0)
    return {
        "external_id": _required(raw, "external_id")[:60],
        "organization": _organization(raw),
        "preset": preset,
        "start_date": start,
        "end_date": end,
        "covered_products": [_product(code, "products") for code in codes],
        "terms": terms,
        "opening_balance": balance,
    }


CASE_STATUSES = ("open", "resolved", "closed")


def _parse_case(raw: dict[str, str]) -> dict[str, Any]:
    email = _email(raw, "contact_email")
    contact = Contact.objects.filter(email__iexact=email).select_related("user").first()
    if contact is None:
        raise _Rejected("contact_email", f"There is no contact {email} (import contacts first).")
    status = (raw.get("status") or "").strip().lower() or "open"
    if status not in CASE_STATUSES:
        raise _Rejected("status", f"{status!r} is not one of {', '.join(CASE_STATUSES)}.")
    subject = _required(raw, "subject")
    created = _moment(raw, "created_at")
    finished = _moment(raw, "finished_at") if (raw.get("finished_at") or "").strip() else created
    if finished < created:
        raise _Rejected("finished_at", "The case finished before it was opened.")
    return {
        "external_id": _required(raw, "external_id")[:200],
        "contact": contact,
        "product": _product(_required(raw, "product"), "product"),
        "subject": subject,
        "description": (raw.get("description") or "").strip() or subject,
        "severity": _integer(raw, "severity", low=1, high=4, default=Severity.MEDIUM),
        "status": status,
        "created_at": created,
        "finished_at": finished,
    }


@dataclass(frozen=True)
class Kind:
    columns: tuple[str, ...]  # required in the header
    parse: Callable[[dict[str, str]], dict[str, Any]]
    key: str  # the value that makes a row "imported before"


KINDS = {
    "organizations": Kind(("name",), _parse_organization, "name"),
    "contacts": Kind(("organization", "full_name", "email"), _parse_contact, "email"),
    "contracts": Kind(
        ("external_id", "organization", "preset", "start_date", "products"),
        _parse_contract,
        "external_id",
    ),
    "cases": Kind(
        ("external_id", "contact_email", "product", "subject"), _parse_case, "external_id"
    ),
}


def read_rows(data: bytes, kind: str, report: Report) -> list[Row] | None:
    """The checked rows of a CSV file (UTF-8, with a header), or ``None`` when the file
    itself cannot be read (the report says why)."""
    spec = KINDS[kind]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        report.reject("file", "", "The file is not UTF-8 text.")
        return None
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip() for name in (reader.fieldnames or [])]
    missing = [column for column in spec.columns if column not in header]
    if missing:
        report.reject("header", ", ".join(missing), f"Missing column: {', '.join(missing)}.")
        return None
    reader.fieldnames = header
    rows: list[Row] = []
    try:
        for raw in reader:
            number = reader.line_num
            if len(rows) >= MAX_ROWS:
                report.reject(f"row {number}", "", f"A file holds at most {MAX_ROWS} rows.")
                return None
            try:
                rows.append(Row(number, spec.parse(raw)))
            except _Rejected as exc:
                report.reject(f"row {number}", exc.column, exc.reason)
    except csv.Error as exc:
        report.reject(f"row {reader.line_num}", "", f"Not valid CSV: {exc}.")
        return None
    return rows


def _already(source: str, kind: str, keys: list[str]) -> set[str]:
    return set(
        ImportedRecord.objects.filter(source=source, kind=kind, external_id__in=keys).values_list(
            "external_id", flat=True
        )
    )


def _write(run: ImportRun, kind: str, rows: list[Row], report: Report) -> None:
    """Write every row not imported before, in one transaction; ``ValidationError``
    from an action rejects its row (and the caller rolls the file back)."""
    spec = KINDS[kind]
    before = _already(run.source, kind, [str(r.values[spec.key]) for r in rows])
    records = []
    for row in rows:
        key = str(row.values[spec.key])
        if key in before:
            report.created["skipped"] += 1
            continue
        try:
            with transaction.atomic():
                pk, made = _create(run, kind, row.values)
        except ValidationError as exc:
            for column, messages in exc.message_dict.items():
                report.reject(f"row {row.number}", column, " ".join(messages))
            continue
        except DomainError as exc:
            report.reject(f"row {row.number}", exc.field or "", exc.detail)
            continue
        records.append(
            ImportedRecord(source=run.source, kind=kind, external_id=key, object_id=pk, run=run)
        )
        # A row that names what exists already (same name, address or reference) is
        # matched to it, not created again.
        report.created[kind if made else "matched"] += 1
        before.add(key)
    ImportedRecord.objects.bulk_create(records)


def _create(run: ImportRun, kind: str, values: dict[str, Any]) -> tuple[int, bool]:
    """The row's object: ``(id, True)`` when made now, ``(id, False)`` when it existed."""
    if kind == "organizations":
        existing = Organization.objects.filter(name=values["name"]).first()
        if existing is not None:
            return existing.pk, False
        return accounts.do_create_organization(**values, actor=None).pk, True
    if kind == "contacts":
        existing_contact = Contact.objects.filter(email__iexact=values["email"]).first()
        if existing_contact is not None:
            return existing_contact.pk, False
        return accounts.do_create_contact(**values, portal_password="", actor=None).pk, True
    if kind == "contracts":
        values = dict(values)
        opening = values.pop("opening_balance")
        reference = values.pop("external_id")
        found = Contract.objects.filter(reference=reference).first()
        if found is not None:
            return found.pk, False
        contract = contracts.do_create_contract(**values, reference=reference, actor=None)
        contract.refresh_from_db(fields=["balance"])
        if opening is not None and opening != contract.balance:
            contracts.do_adjust_balance(
                contract, quantity=opening - contract.balance,
                key=f"import:{run.source}:{reference}:opening",
                reason=f"Opening balance imported from {run.source}", actor=None,
            )  # fmt: skip
        return contract.pk, True
    values = dict(values)
    values.pop("external_id")
    status, finished = values.pop("status"), values.pop("finished_at")
    fields = {**values, "priority": Priority.NORMAL, "assignee": None}
    if status == "open":
        return writing.open_case(**fields).pk, True
    case = writing.history_case(**fields, finished_at=finished, closed=status == "closed")
    Case.objects.bulk_create([case])
    return case.pk, True


def import_rows(run: ImportRun, kind: str, data: bytes) -> Report:
    """Check every row; then, unless it is a dry run or a row was rejected, write them
    all in one transaction. Returns the report (``created`` counts what was written, or
    in a dry run what would be)."""
    report = Report()
    rows = read_rows(data, kind, report)
    if rows is None:
        return report
    run.total = len(rows) + report.rejected_count
    if report.rejected_count and not run.dry_run:
        return report  # nothing is written; the report lists every rejected row
    # A dry run goes on with the rows that passed, to count what they would create.
    try:
        with transaction.atomic():
            _write(run, kind, rows, report)
            if report.rejected_count or run.dry_run:
                raise _RollBack
    except _RollBack:
        if not run.dry_run:
            report.created.clear()  # a row refused while writing: nothing was written
    run.done = run.total
    return report


class _RollBack(Exception):
    pass
