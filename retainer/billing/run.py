"""The billing run: collect what is due, write invoices, bill every item exactly once.

What a run for period P (an organization-local calendar month) collects, for each
organization in scope, among the items **not billed yet** and due by the end of P
(earlier items a previous run missed are caught up):

- contract fees: one per term (new contracts and renewals), due on the term's start
  date, or on the day its renewal quote was accepted; pro-rated when the plan says so
  (``rules.prorate_factor``); the add-ons included in the price on their own lines;
- top-ups with a price (``LedgerEntry.price``, written by ``contracts.do_top_up``);
- overage and pay-as-you-go consumption: ledger ``consume`` entries with an
  ``overage_quantity``, net of their ``reverse`` entries, at the entry's rate;
- services: delivered milestones and time-and-materials time of accepted quotes
  (``collect_services``).

Once-only: each item is a ``BilledItem`` row with a unique source key, written in the
same transaction as its invoice line. Organizations are processed in batches, one
transaction per batch (invoices, lines, items, numbers, events, progress), so a run
killed at any point leaves whole batches or nothing, and the next run bills exactly
the rest. Invoices get their totals and numbers from the same functions as an invoice
issued by hand (``actions.set_totals``, ``actions.issue_invoices``).

Runs are started by ``actions.do_start_billing_run`` (every door, through
``checks.check_start_billing_run``) and executed here by the job worker
(``tasks.run_billing_task``), or inline by ``manage.py run_billing``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import CharField, Exists, OuterRef, Q, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from retainer.accounts.models import Organization
from retainer.billing import actions, events, rules
from retainer.billing.choices import ItemKind, LineUnit, RunStatus
from retainer.billing.models import (
    BilledItem,
    BillingEvent,
    BillingRun,
    EngagementMilestone,
    EngagementTimeEntry,
    Invoice,
    InvoiceLine,
    ServiceQuote,
)
from retainer.contracts.choices import (
    AllowanceUnit,
    ContractStatus,
    EntryKind,
    Preset,
)
from retainer.contracts.models import Contract, LedgerEntry
from retainer.contracts.terms import PlanTerms
from retainer.lib.errors import Conflict
from retainer.lib.events import Event, record, record_many
from retainer.lib.money import round_amount

DEFAULT_BATCH_ORGANIZATIONS = 500

PRESET_LABELS = dict(Preset.choices)
Progress = Callable[[BillingRun], None]


@dataclass(slots=True)
class Item:
    """One billable source; ``quantity`` is minutes, incidents, or 1."""

    key: str
    kind: str
    contract_id: int | None
    ledger_entry_id: int | None
    quantity: int = 1


@dataclass
class LineDraft:
    kind: str
    description: str
    unit: str
    unit_price: Decimal
    contract_id: int | None
    quantity: Decimal = Decimal(0)
    minutes: int | None = None
    amount: Decimal = Decimal(0)
    case_id: int | None = None
    items: list[Item] = field(default_factory=list)


@dataclass
class OrgInfo:
    id: int
    name: str
    time_zone: str
    currency: str


Lines = dict[tuple[int, str], list[LineDraft]]


# --- Collection ----------------------------------------------------------------------------


def _not_billed_contract() -> Exists:
    return Exists(
        BilledItem.objects.filter(
            contract=OuterRef("pk"), kind=ItemKind.FEE, released_at__isnull=True
        )
    )


def _not_billed_entry() -> Exists:
    return Exists(BilledItem.objects.filter(ledger_entry=OuterRef("pk"), released_at__isnull=True))


def _fee_contracts(org_ids: list[int] | None, period: rules.Period) -> Any:
    due = Q(start_date__lte=period.end) | Q(renewal_quote__accepted_on__lte=period.end)
    qs = (
        Contract.objects.filter(due, price__gt=0)
        .exclude(status__in=[ContractStatus.DRAFT, ContractStatus.CANCELLED])
        .exclude(_not_billed_contract())
    )
    return qs if org_ids is None else qs.filter(organization_id__in=org_ids)


def _before_period_end(orgs: Iterable[OrgInfo], period: rules.Period) -> Q:
    """Ledger entries made before the end of ``period`` in their organization's time zone
    (one condition per time zone, so the database filters, not Python)."""
    condition = Q(pk__in=[])
    for zone in sorted({org.time_zone for org in orgs}):
        condition |= Q(
            contract__organization__time_zone=zone, created_at__lt=period.utc_bounds(zone)[1]
        )
    return condition


def _overage_entries(org_ids: list[int] | None, before: Q) -> Any:
    qs = (
        LedgerEntry.objects.filter(before, kind__in=[EntryKind.CONSUME, EntryKind.REVERSE])
        .exclude(overage_quantity=0)
        .exclude(_not_billed_entry())
    )
    return qs if org_ids is None else qs.filter(contract__organization_id__in=org_ids)


def _top_up_entries(org_ids: list[int] | None, before: Q) -> Any:
    qs = LedgerEntry.objects.filter(before, kind=EntryKind.TOP_UP).exclude(_not_billed_entry())
    return qs if org_ids is None else qs.filter(contract__organization_id__in=org_ids)


def count_due(org_ids: list[int] | None, period: rules.Period, before: Q) -> int:
    """An estimate of the items a run will bill (its progress total), five COUNTs."""
    return (
        _fee_contracts(org_ids, period).count()
        + _overage_entries(org_ids, before).count()
        + _top_up_entries(org_ids, before).count()
        + count_services_due(org_ids, period)
    )


def _fee_lines(
    org_ids: list[int], period: rules.Period, lines: dict[tuple[int, str], list[LineDraft]]
) -> None:
    rows = _fee_contracts(org_ids, period).values_list(
        "pk",
        "name",
        "organization_id",
        "preset",
        "terms",
        "price",
        "currency",
        "start_date",
        "end_date",
        "named_engineer",
        "extra_named_contacts",
    )
    seen: set[int] = set()
    for pk, name, org_id, preset, terms_json, price, currency, start, end, engineer, extra in rows:
        if pk in seen:  # the due filter may join a contract twice
            continue
        seen.add(pk)
        factor = Decimal(1)
        split = rules.FeeSplit(price, Decimal(0), Decimal(0))
        if engineer or extra or (terms_json.get("extra") or {}).get("prorate"):
            terms = PlanTerms.from_json(terms_json)
            factor = rules.prorate_factor(terms, start, end)
            split = rules.split_fee(
                price, terms, named_engineer=engineer, extra_named_contacts=extra
            )
        term = f"term {start:%Y-%m-%d} – {end:%Y-%m-%d}" if end else f"from {start:%Y-%m-%d}"
        note = "" if factor == 1 else f" (pro-rated × {factor.quantize(Decimal('0.0001'))})"
        target = lines[(org_id, currency)]
        parts = [
            ("fee", ItemKind.FEE, f"{PRESET_LABELS.get(preset, preset)}: {name}, {term}"),
            ("named-engineer", ItemKind.ADDON, f"Named support engineer: {name}"),
            ("extra-contacts", ItemKind.ADDON, f"Extra named contacts × {extra}: {name}"),
        ]
        for (suffix, kind, text), amount in zip(
            parts, (split.base, split.named_engineer, split.extra_contacts), strict=True
        ):
            if amount <= 0 and suffix != "fee":
                continue
            exact = amount * factor
            unit_price = exact.quantize(rules.QUANTITY_PLACES)  # stored with four places
            target.append(
                LineDraft(
                    kind=kind,
                    description=text + note,
                    unit=LineUnit.TERM if kind == ItemKind.FEE else LineUnit.EACH,
                    unit_price=unit_price,
                    contract_id=pk,
                    quantity=Decimal(1),
                    amount=round_amount(exact, currency),
                    # The fee item carries the once-only key for all of the term's lines.
                    items=[Item(f"contract:{pk}:{suffix}", ItemKind.FEE, pk, None)],
                )
            )


def _top_up_lines(
    orgs: dict[int, OrgInfo], before: Q, lines: dict[tuple[int, str], list[LineDraft]]
) -> int:
    rows = list(
        _top_up_entries(list(orgs), before).values_list(
            "pk",
            "contract_id",
            "contract__name",
            "contract__organization_id",
            "contract__currency",
            "contract__unit",
            "quantity",
            "price",
        )
    )
    count = 0
    for pk, contract_id, name, org_id, currency, unit, quantity, price in rows:
        if price is None:
            continue  # a top-up without a price is not billable
        amount = Decimal(price).quantize(rules.QUANTITY_PLACES)
        shown = (
            f"{rules.minutes_as_hours(quantity).normalize():f} h"
            if unit == AllowanceUnit.HOURS
            else f"{quantity} {unit}"
        )
        lines[(org_id, currency)].append(
            LineDraft(
                kind=ItemKind.TOP_UP,
                description=f"Top-up of {shown}: {name}",
                unit=LineUnit.EACH,
                unit_price=amount,
                contract_id=contract_id,
                quantity=Decimal(1),
                amount=round_amount(amount, currency),
                items=[Item(f"ledger:{pk}", ItemKind.TOP_UP, contract_id, pk, quantity)],
            )
        )
        count += 1
    return count


def _usage_lines(
    orgs: dict[int, OrgInfo],
    before: Q,
    lines: dict[tuple[int, str], list[LineDraft]],
    netted: list[Item],
) -> None:
    rows = _overage_entries(list(orgs), before).values_list(
        "pk",
        "contract_id",
        "contract__name",
        "contract__organization_id",
        "contract__preset",
        "contract__unit",
        "overage_quantity",
        "overage_rate",
        "currency",
        "case_id",
    )
    groups: dict[tuple[int, str, int, str, Decimal], LineDraft] = {}
    cases: dict[tuple[int, str, int, str, Decimal], set[int | None]] = defaultdict(set)
    for pk, contract_id, name, org_id, preset, unit, qty, rate, currency, case_id in rows:
        kind: str = ItemKind.PAYG if preset == Preset.PAY_AS_YOU_GO else ItemKind.OVERAGE
        rate = rate or Decimal(0)
        group = (org_id, currency, contract_id, kind, rate)
        draft = groups.get(group)
        if draft is None:
            hours = unit == AllowanceUnit.HOURS
            label = "Pay-as-you-go" if kind == ItemKind.PAYG else "Overage"
            what = "hours" if hours else "incidents"
            draft = groups[group] = LineDraft(
                kind=kind,
                description=f"{label} {what}: {name}",
                unit=LineUnit.HOUR if hours else LineUnit.INCIDENT,
                unit_price=rate,
                contract_id=contract_id,
                minutes=0 if hours else None,
            )
        draft.items.append(Item(f"ledger:{pk}", kind, contract_id, pk, qty))
        cases[group].add(case_id)  # incidents and hours alike (LedgerEntry.case)
    for group, draft in groups.items():
        currency = group[1]
        total = sum(item.quantity for item in draft.items)
        if total == 0:  # consumed and reversed before billing: settled, nothing to charge
            netted.extend(draft.items)
            continue
        if draft.minutes is not None:
            draft.minutes = total
            draft.quantity = rules.minutes_as_hours(total)
            draft.amount = rules.hours_amount(draft.unit_price, total, currency)
        else:
            draft.quantity = Decimal(total)
            draft.amount = rules.line_amount(draft.unit_price, total, currency)
        if len(cases[group]) == 1:
            draft.case_id = next(iter(cases[group]))
        lines[(group[0], currency)].append(draft)


# --- Services: delivered milestones and time-and-materials time (docs/billing.md) ----------


def _milestones_due(org_ids: list[int] | None, period: rules.Period) -> Any:
    """Delivered milestones of current splits, delivered by the end of ``period``
    (``delivered_on`` is organization-local), not billed yet."""
    qs = EngagementMilestone.objects.filter(
        delivered_on__lte=period.end, replaced_at__isnull=True
    ).exclude(
        Exists(
            BilledItem.objects.filter(
                source_key=Concat(Value("milestone:"), Cast(OuterRef("pk"), CharField())),
                released_at__isnull=True,
            )
        )
    )
    return qs if org_ids is None else qs.filter(engagement__organization_id__in=org_ids)


def _time_due(org_ids: list[int] | None, period: rules.Period) -> Any:
    """Time logged on time-and-materials engagements for days up to the end of
    ``period``, not billed yet."""
    qs = EngagementTimeEntry.objects.filter(work_date__lte=period.end).exclude(
        Exists(
            BilledItem.objects.filter(
                source_key=Concat(Value("engagement-time:"), Cast(OuterRef("pk"), CharField())),
                released_at__isnull=True,
            )
        )
    )
    return qs if org_ids is None else qs.filter(engagement__organization_id__in=org_ids)


def _milestone_lines(org_ids: list[int], period: rules.Period, lines: Lines) -> None:
    rows = _milestones_due(org_ids, period).values_list(
        "pk",
        "position",
        "title",
        "amount",
        "engagement__organization_id",
        "engagement__quote_id",
        "engagement__quote__title",
        "engagement__quote__currency",
        "engagement__quote__case_id",
    )
    for pk, position, title, amount, org_id, quote_id, quote_title, currency, case_id in rows:
        number = ServiceQuote(pk=quote_id).number
        lines[(org_id, currency)].append(
            LineDraft(
                kind=ItemKind.SERVICES,
                description=f"Services {number}: {quote_title}, milestone {position}: {title}",
                unit=LineUnit.EACH,
                unit_price=Decimal(amount).quantize(rules.QUANTITY_PLACES),
                contract_id=None,
                quantity=Decimal(1),
                amount=round_amount(Decimal(amount), currency),
                case_id=case_id,
                items=[Item(f"milestone:{pk}", ItemKind.SERVICES, None, None)],
            )
        )


def _time_lines(org_ids: list[int], period: rules.Period, lines: Lines) -> None:
    """One hour line per engagement: its unbilled minutes priced once at the quote's rate
    (``rules.hours_amount``, as overage hours), one billed item per time entry."""
    rows = _time_due(org_ids, period).values_list(
        "pk",
        "minutes",
        "engagement_id",
        "engagement__organization_id",
        "engagement__quote_id",
        "engagement__quote__title",
        "engagement__quote__amount",
        "engagement__quote__currency",
        "engagement__quote__case_id",
    )
    drafts: dict[int, tuple[int, str, LineDraft]] = {}
    for pk, minutes, engagement_id, org_id, quote_id, title, rate, currency, case_id in rows:
        if engagement_id not in drafts:
            number = ServiceQuote(pk=quote_id).number
            drafts[engagement_id] = (
                org_id,
                currency,
                LineDraft(
                    kind=ItemKind.SERVICES,
                    description=f"Services {number}: {title}, time and materials",
                    unit=LineUnit.HOUR,
                    unit_price=Decimal(rate),
                    contract_id=None,
                    minutes=0,
                    case_id=case_id,
                ),
            )
        draft = drafts[engagement_id][2]
        draft.items.append(Item(f"engagement-time:{pk}", ItemKind.SERVICES, None, None, minutes))
    for org_id, currency, draft in drafts.values():
        total = sum(item.quantity for item in draft.items)
        draft.minutes = total
        draft.quantity = rules.minutes_as_hours(total)
        draft.amount = rules.hours_amount(draft.unit_price, total, currency)
        draft.description += f" ({len(draft.items)} time entries)"
        lines[(org_id, currency)].append(draft)


def count_services_due(org_ids: list[int] | None, period: rules.Period) -> int:
    return _milestones_due(org_ids, period).count() + _time_due(org_ids, period).count()


def collect_services(
    org_ids: list[int], period: rules.Period
) -> dict[tuple[int, str], list[LineDraft]]:
    """Services due by the end of ``period`` and not billed yet, per (organization,
    currency): each delivered milestone on a line of its own (item ``milestone:<id>``),
    and each time-and-materials engagement's unbilled time on one hour line (one item
    ``engagement-time:<id>`` per time entry). The description names the quote's number;
    the line carries the quote's case. Once-only is the unique item key, as for the rest.
    """
    lines: Lines = defaultdict(list)
    _milestone_lines(org_ids, period, lines)
    _time_lines(org_ids, period, lines)
    return lines


def collect(
    orgs: dict[int, OrgInfo], period: rules.Period
) -> tuple[dict[tuple[int, str], list[LineDraft]], list[Item]]:
    """Everything due for ``orgs`` by the end of ``period`` and not billed yet: lines per
    (organization, currency) invoice, and the items that netted to nothing."""
    lines: dict[tuple[int, str], list[LineDraft]] = defaultdict(list)
    netted: list[Item] = []
    before = _before_period_end(orgs.values(), period)
    ids = list(orgs)
    _fee_lines(ids, period, lines)
    _top_up_lines(orgs, before, lines)
    _usage_lines(orgs, before, lines, netted)
    for key, drafts in collect_services(ids, period).items():
        lines[key].extend(drafts)
    return lines, netted


# --- Writing -------------------------------------------------------------------------------


LINE_COLUMNS = (
    "invoice_id",
    "position",
    "kind",
    "description",
    "quantity",
    "unit",
    "minutes",
    "unit_price",
    "amount",
    "contract_id",
    "case_id",
    "period_start",
    "period_end",
    "item_count",
)
ITEM_COLUMNS = (
    "source_key",
    "kind",
    "contract_id",
    "ledger_entry_id",
    "quantity",
    "invoice_id",
    "line_id",
    "run_id",
)


def _insert_rows(model: type[Any], columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    """Insert ``rows`` with one prepared statement (``executemany``). Used for the bulk of
    a run's writes (lines and billed items), skipping model instances; every database
    constraint (the once-only key among them) still applies."""
    if not rows:
        return
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    marks = ", ".join(["%s"] * len(columns))
    sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"  # noqa: S608 - fixed names
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 10_000):
            cursor.executemany(sql, rows[start : start + 10_000])


def _new_invoices(
    run: BillingRun, period: rules.Period, keys: list[tuple[int, str]], lines: Lines
) -> list[Invoice]:
    """One unsaved invoice per (organization, currency) with its totals and, when the run
    issues, its number: the same ``set_totals`` and ``issue_invoices`` as
    ``do_issue_invoice``, so every row is inserted once, complete."""
    taxes = actions.profile_taxes(org_id for org_id, _ in keys)
    default = actions.default_tax()
    invoices = []
    for org_id, currency in keys:
        invoice = Invoice(
            organization_id=org_id,
            currency=currency,
            period_start=period.start,
            period_end=period.end,
            run=run,
        )
        subtotal = sum((draft.amount for draft in lines[(org_id, currency)]), Decimal(0))
        actions.set_totals(invoice, subtotal, taxes.get(org_id, default))
        invoices.append(invoice)
    if run.issue:
        actions.issue_invoices(invoices, now=timezone.now())
    return invoices


def _line_rows(
    invoices: list[Invoice], keys: list[tuple[int, str]], lines: Lines, period: rules.Period
) -> list[tuple[Any, ...]]:
    return [
        (
            invoice.pk,
            position,
            draft.kind,
            draft.description[:500],
            draft.quantity,
            draft.unit,
            draft.minutes,
            draft.unit_price,
            draft.amount,
            draft.contract_id,
            draft.case_id,
            period.start,
            period.end,
            len(draft.items),
        )
        for invoice, key in zip(invoices, keys, strict=True)
        for position, draft in enumerate(lines[key], start=1)
    ]


def _item_rows(
    run: BillingRun,
    invoices: list[Invoice],
    keys: list[tuple[int, str]],
    lines: Lines,
    netted: list[Item],
) -> list[tuple[Any, ...]]:
    """The once-only rows: each item on its line (read back by invoice and position),
    and the netted items on no line."""
    line_ids = {
        (invoice_id, position): pk
        for pk, invoice_id, position in InvoiceLine.objects.filter(
            invoice_id__in=[invoice.pk for invoice in invoices]
        ).values_list("pk", "invoice_id", "position")
    }
    rows: list[tuple[Any, ...]] = []
    for invoice, key in zip(invoices, keys, strict=True):
        invoice_id = invoice.pk
        for position, draft in enumerate(lines[key], start=1):
            on_line = (invoice_id, line_ids[(invoice_id, position)], run.pk)
            rows += [
                (
                    item.key,
                    item.kind,
                    item.contract_id,
                    item.ledger_entry_id,
                    item.quantity,
                    *on_line,
                )
                for item in draft.items
            ]
    for item in netted:
        row = (item.key, item.kind, item.contract_id, item.ledger_entry_id, item.quantity)
        rows.append((*row, None, None, run.pk))
    return rows


def _record_invoice_events(run: BillingRun, invoices: list[Invoice]) -> None:
    """One event per invoice, in two inserts for the whole batch: ``invoice.issued`` (the
    event ``do_issue_invoice`` writes) when the run issues, else ``invoice.created``. The
    row's ``run`` says where an issued invoice came from, so it needs no second event."""
    items: list[tuple[Event, dict[str, Any]]] = [
        (
            actions.invoice_issued(invoice) if run.issue else events.InvoiceCreated(),
            {"run": run, "invoice": invoice, "created_at": invoice.issued_at or timezone.now()},
        )
        for invoice in invoices
    ]
    record_many(BillingEvent, items)


def _write_batch(
    run: BillingRun, period: rules.Period, lines: Lines, netted: list[Item]
) -> tuple[int, int, int]:
    """Write one batch (caller holds the transaction): invoices, then their lines, then
    the billed items pointing at both, then the events. Returns (items, invoices, lines).
    """
    keys = sorted(lines)
    invoices = _new_invoices(run, period, keys, lines)
    Invoice.objects.bulk_create(invoices, batch_size=1000)
    line_rows = _line_rows(invoices, keys, lines, period)
    _insert_rows(InvoiceLine, LINE_COLUMNS, line_rows)
    item_rows = _item_rows(run, invoices, keys, lines, netted)
    _insert_rows(BilledItem, ITEM_COLUMNS, item_rows)
    _record_invoice_events(run, invoices)
    return len(item_rows), len(invoices), len(line_rows)


# --- The loop ------------------------------------------------------------------------------


def _organizations(run: BillingRun) -> list[OrgInfo]:
    qs = Organization.objects.order_by("pk")
    if run.organization_id is not None:
        qs = qs.filter(pk=run.organization_id)
    return [
        OrgInfo(pk, name, tz, currency)
        for pk, name, tz, currency in qs.values_list("pk", "name", "time_zone", "currency")
    ]


def _claim(run: BillingRun) -> BillingRun:
    """Mark the run running (locks its row). A succeeded run is returned as it is; one
    whose worker is alive is refused, so two workers never run it at once."""
    with transaction.atomic():
        locked = BillingRun.objects.select_for_update().get(pk=run.pk)
        now = timezone.now()
        if locked.is_succeeded:
            return locked
        if locked.is_alive(now):
            raise Conflict("run_in_progress", "This run is already running.")
        locked.status = RunStatus.RUNNING
        locked.started_at = locked.started_at or now
        locked.heartbeat_at = now
        locked.error = ""
        locked.save(update_fields=["status", "started_at", "heartbeat_at", "error"])
        return locked


def execute_run(
    run: BillingRun,
    *,
    batch_organizations: int = DEFAULT_BATCH_ORGANIZATIONS,
    progress: Progress | None = None,
) -> BillingRun:
    """Bill the run's period. Re-running a failed or killed run continues where it
    stopped; a finished run is returned as it is. One transaction per batch; ``progress``
    is called after each with the run as committed."""
    run = _claim(run)
    if run.is_succeeded:
        return run
    period = rules.Period(run.period)
    orgs = _organizations(run)
    try:
        if orgs:
            ids = None if run.organization_id is None else [o.id for o in orgs]
            total = count_due(ids, period, _before_period_end(orgs, period))
            BillingRun.objects.filter(pk=run.pk).update(items_total=run.items_done + total)
            run.items_total = run.items_done + total
        if progress:
            progress(run)
        for start in range(0, len(orgs), batch_organizations):
            batch = {org.id: org for org in orgs[start : start + batch_organizations]}
            _run_batch(run, period, batch)
            if progress:
                progress(run)
    except BaseException as exc:
        with transaction.atomic():
            BillingRun.objects.filter(pk=run.pk).update(
                status=RunStatus.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000]
            )
            record(BillingEvent, events.RunFailed(error=type(exc).__name__), run=run)
        raise
    with transaction.atomic():
        run.status = RunStatus.SUCCEEDED
        run.finished_at = run.heartbeat_at = timezone.now()
        run.items_total = max(run.items_total, run.items_done)
        run.save(update_fields=["status", "finished_at", "heartbeat_at", "items_total"])
        record(
            BillingEvent,
            events.RunFinished(
                invoices=run.invoices_created, lines=run.lines_created, items=run.items_done
            ),
            run=run,
        )
    return run


def _run_batch(run: BillingRun, period: rules.Period, orgs: dict[int, OrgInfo]) -> None:
    for attempt in range(3):
        try:
            with transaction.atomic():
                lines, netted = collect(orgs, period)
                done, invoices, line_count = 0, 0, 0
                if lines or netted:
                    done, invoices, line_count = _write_batch(run, period, lines, netted)
                run.items_done += done
                run.invoices_created += invoices
                run.lines_created += line_count
                run.heartbeat_at = timezone.now()
                run.save(
                    update_fields=[
                        "items_done",
                        "invoices_created",
                        "lines_created",
                        "heartbeat_at",
                    ]
                )
            return
        except IntegrityError:
            # Another run billed some of these items first; re-collect what is left.
            run.refresh_from_db(fields=["items_done", "invoices_created", "lines_created"])
            if attempt == 2:
                raise
