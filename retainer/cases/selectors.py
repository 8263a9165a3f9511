"""Reads of the cases app shared by several callers: the console's queues and pages, the
portal's *My support*, the decision preview, what overage a customer is billed, and the
console's search."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from retainer.accounts.access import contacts_visible_to, organizations_visible_to
from retainer.accounts.models import Contact, Organization, User
from retainer.cases import workflow
from retainer.cases.access import cases_visible_to
from retainer.cases.choices import CaseStatus, ClockKind, SlaState
from retainer.cases.models import (
    Case,
    CaseEvent,
    SlaClock,
    SlaTarget,
    TimeEntry,
)
from retainer.cases.search import IN_CONTACT, CaseHit, search_cases
from retainer.catalog.models import Environment, Product, Release, ServiceOffering
from retainer.catalog.selectors import offerings_for_product
from retainer.contracts.access import contracts_visible_to
from retainer.contracts.actions import decide_for
from retainer.contracts.choices import (
    AllowanceUnit,
    ContractEventType,
    ContractStatus,
    EntryKind,
    ExhaustionPolicy,
    Outcome,
)
from retainer.contracts.entitlement import Decision
from retainer.contracts.ledger import Exhausted, split_consumption
from retainer.contracts.models import Contract, ContractEvent, LedgerEntry
from retainer.contracts.selectors import (
    BalanceSummary,
    balance_summaries,
    contracts_with_relations,
    current_training_records,
)
from retainer.lib.snapshots import Snapshot

#: Ledger entries that draw on an allowance (a reversal gives a drawing back).
DRAWING_KINDS = (EntryKind.CONSUME, EntryKind.REVERSE)


def _load_sla_targets() -> dict[tuple[int | None, int], SlaTarget]:
    return {(t.plan_id, t.severity): t for t in SlaTarget.objects.select_related("calendar")}


# Read on every intake, changed a few times a year: kept per process (lib/snapshots.py).
_SLA_TARGETS = Snapshot("sla", _load_sla_targets)


def sla_target_for(case: Case) -> SlaTarget | None:
    """The plan's target for the case's severity, else the default target, else none."""
    targets = _SLA_TARGETS.get()
    plan_id = case.contract.plan_id if case.contract is not None else None
    if plan_id is not None and (plan_id, case.severity) in targets:
        return targets[(plan_id, case.severity)]
    return targets.get((None, case.severity))


def cases_for_list(cases: QuerySet[Case]) -> QuerySet[Case]:
    """A case list's rows with what every row shows, in a fixed number of queries."""
    return cases.select_related("organization", "contact", "product", "assignee", "contract")


def case_for_detail(case: Case) -> Case:
    return (
        Case.objects.select_related(
            "organization", "contact", "product", "release", "environment", "assignee", "queue",
            "contract", "decision", "defect",
        )
        .prefetch_related("watchers")
        .get(pk=case.pk)
    )  # fmt: skip


def events_for_case(*, case: Case, include_internal: bool) -> QuerySet[CaseEvent]:
    events = CaseEvent.objects.filter(case=case).select_related("actor")
    return events if include_internal else events.filter(is_internal=False)


def time_entries_for_case(*, case: Case) -> QuerySet[TimeEntry]:
    return TimeEntry.objects.filter(case=case, is_deleted=False).select_related("agent")


def time_totals_for_case(*, case: Case) -> dict[str, int]:
    totals = time_entries_for_case(case=case).aggregate(
        total=Sum("minutes"),
        billable_total=Sum("minutes", filter=Q(billable=True)),
        covered_total=Sum("covered_minutes"),
        overage_total=Sum("overage_minutes"),
    )
    return {
        key.removesuffix("_total").replace("total", "minutes"): int(value or 0)
        for key, value in totals.items()
    }


# --- The agent console ----------------------------------------------------------------------

QUEUES = {
    "mine": "My cases",
    "unassigned": "Unassigned",
    "breaching": "Breaching soon",
    "waiting": "Waiting on customer",
    "active": "All open",
}
BREACHING_WINDOW = dt.timedelta(hours=4)
SORTS: dict[str, tuple[str, ...]] = {
    "newest": ("-id",),
    "oldest": ("id",),
    "severity": ("severity", "-id"),
    "updated": ("-updated_at", "-id"),
}
COUNT_CAP = 10_000


def queue_cases(*, queue: str, agent: User, now: dt.datetime | None = None) -> QuerySet[Case]:
    """The cases of one console queue (open cases only, except "all")."""
    now = now or timezone.now()
    # "Not finished" rather than "in the active statuses": the same rows, but SQLite can
    # then walk the primary key newest first and stop after a page, instead of sorting
    # every open case.
    active = Case.objects.exclude(status__in=workflow.FINISHED)
    if queue == "mine":
        return active.filter(assignee=agent)
    if queue == "unassigned":
        return active.filter(assignee__isnull=True)
    if queue == "waiting":
        return Case.objects.filter(status=CaseStatus.WAITING_ON_CUSTOMER)
    if queue == "breaching":
        soon = SlaClock.objects.filter(stopped_at__isnull=True, due_at__lte=now + BREACHING_WINDOW)
        return active.filter(pk__in=soon.values("case_id"))
    return active


def capped_count(cases: QuerySet[Case]) -> int:
    """Count up to ``COUNT_CAP`` rows: exact for working queues, bounded on huge ones."""
    return cases.order_by()[: COUNT_CAP + 1].count()


def queue_counts(*, agent: User) -> dict[str, int]:
    return {name: capped_count(queue_cases(queue=name, agent=agent)) for name in QUEUES}


def cases_for_queue_page(cases: QuerySet[Case]) -> QuerySet[Case]:
    """Queue rows with what each row shows, including its next running SLA clock."""
    running = SlaClock.objects.filter(stopped_at__isnull=True).order_by("due_at")
    return cases.select_related("organization", "contact", "product", "assignee").prefetch_related(
        Prefetch("clocks", queryset=running, to_attr="running_clocks")
    )


def load_page_rows(page_ids: list[int]) -> list[Case]:
    """The rows of one page, in the page's order: the page's ids are found first on the
    case table alone, and only those few rows are then joined to what they show."""
    found = {case.pk: case for case in cases_for_queue_page(Case.objects.filter(pk__in=page_ids))}
    return [found[pk] for pk in page_ids if pk in found]


@dataclass(frozen=True)
class ClockView:
    kind: str
    label: str
    due_at: dt.datetime | None
    state: str  # one of SlaState
    countdown: str = ""  # "in 2 h 5 min", "overdue by 3 h 10 min" (console.js says the same)


def duration_text(minutes: int) -> str:
    """Whole minutes as people say them: "1 minute", "45 minutes", "3 h 10 min"."""
    minutes = abs(minutes)
    if minutes < 60:
        return f"{minutes} minute{'' if minutes == 1 else 's'}"
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest} min" if rest else f"{hours} h"


def countdown_text(due_at: dt.datetime, *, now: dt.datetime) -> str:
    """How far a due time is: "in 25 minutes", or "overdue by 3 h 10 min" once passed."""
    seconds = (due_at - now).total_seconds()
    if seconds < 0:
        return f"overdue by {duration_text(int(-seconds // 60))}"
    return f"in {duration_text(int(seconds // 60))}"


def clock_views(clocks: list[SlaClock], *, now: dt.datetime | None = None) -> list[ClockView]:
    now = now or timezone.now()
    views = []
    for clock in clocks:
        if clock.stopped_at is not None:
            state = SlaState.MET if clock.breached_at is None else SlaState.BREACHED
        elif clock.due_at is None:
            state = SlaState.PAUSED
        elif clock.breached_at is not None or clock.due_at <= now:
            state = SlaState.BREACHED
        elif clock.warn_at is not None and clock.warn_at <= now:
            state = SlaState.WARNING
        else:
            state = SlaState.RUNNING
        running = clock.stopped_at is None and clock.due_at is not None
        countdown = countdown_text(clock.due_at, now=now) if running and clock.due_at else ""
        views.append(
            ClockView(clock.kind, ClockKind(clock.kind).label, clock.due_at, state, countdown)
        )
    return views


@dataclass(frozen=True)
class TimePreview:
    minutes: int
    covered: int
    overage: int
    balance_after: int
    refused: bool
    note: str


def time_preview(*, case: Case, minutes: int, billable: bool) -> TimePreview:
    """What logging ``minutes`` on the case would draw from its contract, before saving."""
    consuming = case.entitlement in (Outcome.COVERED, Outcome.COVERED_BILLABLE)
    contract = case.contract if consuming else None
    if not billable or contract is None or contract.unit != AllowanceUnit.HOURS:
        note = (
            "Not billable: nothing is drawn."
            if not billable
            else "No hour allowance covers this case."
        )
        return TimePreview(minutes, 0, 0, contract.balance if contract else 0, False, note)
    try:
        split = split_consumption(
            balance=contract.balance, quantity=minutes, policy=contract.plan_terms.exhaustion_policy
        )
    except Exhausted:
        return TimePreview(
            minutes, 0, 0, contract.balance, True, "The allowance is used up: nothing is drawn."
        )
    return TimePreview(
        minutes, split.covered, split.overage, contract.balance - split.covered, False, ""
    )


def organization_360(*, organization: Organization) -> dict[str, Any]:
    """Everything an agent needs about one customer, in a fixed number of queries."""
    contracts = list(
        contracts_with_relations(Contract.objects.filter(organization=organization)).order_by(
            "-start_date"
        )
    )
    named = {contact_id for c in contracts for contact_id in (n.pk for n in c.named_contacts.all())}
    trained = set(
        current_training_records(on=timezone.localdate())
        .filter(contact__organization=organization)
        .values_list("contact_id", flat=True)
    )
    open_cases = cases_for_queue_page(
        Case.objects.filter(organization=organization, status__in=workflow.ACTIVE)
    ).order_by("-id")[:50]
    months = (
        LedgerEntry.objects.filter(contract__organization=organization, kind__in=DRAWING_KINDS)
        .annotate(month=TruncMonth("created_at"))
        .values("month", "contract__unit")
        .annotate(drawn=Sum("quantity"), overage=Sum("overage_quantity"))
        .order_by("-month")[:24]
    )
    history = ContractEvent.objects.filter(
        contract__organization=organization,
        type__in=[
            ContractEventType.LOW_BALANCE,
            ContractEventType.EXHAUSTED_BALANCE,
            ContractEventType.NEGATIVE_BALANCE,
        ],
    ).select_related("contract")[:20]
    out_of_scope = (
        Case.objects.filter(organization=organization, entitlement=Outcome.OUT_OF_SCOPE)
        .select_related("product", "release")
        .order_by("-id")[:20]
    )
    return {
        "contracts": contracts,
        "named_ids": named,
        "trained_ids": trained,
        "open_cases": open_cases,
        # Consumption is negative in the ledger; shown as the amount drawn.
        "months": [{**row, "drawn": -(row["drawn"] or 0)} for row in months],
        "warnings": history,
        "out_of_scope": out_of_scope,
    }


# --- My support (the portal) ----------------------------------------------------------------


@dataclass(frozen=True)
class ContractUsage:
    """One contract's balance (``contracts.selectors.balance_summary``) and where its
    allowance went: per case and per month (``YYYY-MM`` in the current time zone), in
    the contract's unit, drawings net of their reversals."""

    contract: Contract
    summary: BalanceSummary
    per_case: list[tuple[Case | None, int, int]]  # (the case if visible, case id, quantity)
    per_month: list[tuple[str, int]]
    billable: Billable


def contract_usage_for(*, user: User) -> list[ContractUsage]:
    """Every contract ``user`` may see, active ones first then by end date, with its
    balance and consumption; the ledger's drawings are read once for all contracts."""
    contracts = sorted(
        contracts_visible_to(user)
        .select_related("plan")
        .prefetch_related(
            Prefetch("named_contacts", queryset=Contact.objects.only("pk", "full_name"))
        ),
        key=_contract_order,
    )
    drawings = list(
        LedgerEntry.objects.filter(contract__in=contracts, kind__in=DRAWING_KINDS)
        .only(
            "contract_id", "quantity", "overage_quantity", "overage_rate", "case_id", "created_at"
        )
        .order_by("created_at", "id")
    )
    visible = {
        case.pk: case
        for case in cases_visible_to(user)
        .filter(pk__in={e.case_id for e in drawings if e.case_id is not None})
        .only("pk", "public_id")
    }
    zone = timezone.get_current_timezone()
    summaries = balance_summaries(contracts=contracts)
    usages = []
    for contract in contracts:
        per_case: dict[int, int] = defaultdict(int)
        per_month: dict[str, int] = defaultdict(int)
        own = [e for e in drawings if e.contract_id == contract.pk]
        for entry in own:
            per_month[entry.created_at.astimezone(zone).strftime("%Y-%m")] -= entry.quantity
            if entry.case_id is not None:
                per_case[entry.case_id] -= entry.quantity
        usages.append(
            ContractUsage(
                contract=contract,
                summary=summaries[contract.pk],
                per_case=[(visible.get(pk), pk, qty) for pk, qty in per_case.items() if qty],
                per_month=sorted(per_month.items()),
                billable=billable_for(contract=contract, entries=own),
            )
        )
    return usages


def _contract_order(contract: Contract) -> tuple[int, dt.date, int]:
    active = contract.status == ContractStatus.ACTIVE
    return (0 if active else 1, contract.end_date or dt.date.max, contract.pk)


# --- Overage: what the customer is billed beyond the allowance --------------------------------


@dataclass(frozen=True)
class Billable:
    """What is billed beyond a contract's allowance, for the contract or for one case.

    ``quantity`` is the overage recorded so far, net of reversals, in the contract's unit
    (minutes for hours, incidents); ``amount`` prices it at each ledger entry's own rate
    in ``currency``, unrounded (billing rounds once, per invoice line). ``billing_now``
    says that further work is billed: the allowance is used up under the "bill" policy,
    or the contract is pay-as-you-go; then at ``rate`` per hour or per incident.
    """

    unit: str
    quantity: int
    amount: Decimal
    rate: Decimal
    currency: str
    billing_now: bool

    @property
    def shown(self) -> bool:
        """Whether the customer must be told: work is billed now, or was already."""
        return self.billing_now or self.quantity > 0


def billing_now(contract: Contract) -> bool:
    """Whether further consumption on ``contract`` is billed as overage."""
    terms = contract.plan_terms
    return (
        contract.unit != AllowanceUnit.NONE
        and contract.status == ContractStatus.ACTIVE
        and terms.exhaustion_policy == ExhaustionPolicy.BILL
        and (contract.balance <= 0 or terms.quantity == 0)
    )


def billable_for(*, contract: Contract, entries: Iterable[LedgerEntry]) -> Billable:
    """The overage of ``entries`` (the contract's drawings, or one case's), priced at
    their recorded rates; the entries need ``overage_quantity`` and ``overage_rate``."""
    quantity, amount = 0, Decimal(0)
    for entry in entries:
        quantity += entry.overage_quantity
        amount += entry.overage_quantity * (entry.overage_rate or Decimal(0))
    if contract.unit == AllowanceUnit.HOURS:
        amount /= 60  # rates are per hour, quantities in minutes
    return Billable(
        unit=contract.unit,
        quantity=quantity,
        amount=amount,
        rate=contract.plan_terms.overage_rate,
        currency=contract.currency,
        billing_now=billing_now(contract),
    )


def billable_for_case(*, case: Case) -> Billable | None:
    """What the case costs beyond its contract's allowance so far (one query), or None
    when no contract draws for it. A case that draws while the allowance bills is
    billable however it was decided at intake."""
    contract = case.contract
    if contract is None or case.entitlement not in (Outcome.COVERED, Outcome.COVERED_BILLABLE):
        return None
    entries = LedgerEntry.objects.filter(case=case, contract=contract, kind__in=DRAWING_KINDS).only(
        "overage_quantity", "overage_rate"
    )
    return billable_for(contract=contract, entries=entries)


# --- The decision preview (portal and console) ------------------------------------------------


def offering_for_decision(*, product: Product, decision: Any) -> ServiceOffering | None:
    """The priced service quoted for an out-of-scope decision (recorded or previewed)."""
    if decision is None or decision.outcome != Outcome.OUT_OF_SCOPE:
        return None
    return offerings_for_product(product=product, kind=decision.offering_kind or None).first()


def preview_decision(
    *,
    contact: Contact,
    product: Product,
    channel: str,
    release: Release | None = None,
    environment: Environment | None = None,
    modified_source: bool = False,
    third_party: bool = False,
) -> tuple[Decision, ServiceOffering | None]:
    """The decision a new case would get today and the service offered when it is out of
    scope; taken with ``decide_for``, so nothing is written."""
    decision, _ = decide_for(
        contact=contact,
        product=product,
        channel=channel,
        on=timezone.localdate(),
        release=release,
        environment=environment,
        modified_source=modified_source,
        third_party=third_party,
    )
    return decision, offering_for_decision(product=product, decision=decision)


# --- Search across every queue (the console) ---------------------------------------------------

SEARCH_LIMIT = 20


@dataclass(frozen=True)
class SearchResults:
    """What a search found, each group newest or by name, at most ``SEARCH_LIMIT`` each."""

    query: str
    #: Ranked hits with their snippets (``cases.search.CaseHit``).
    cases: list[CaseHit]
    organizations: list[Organization]
    contacts: list[Contact]

    @property
    def empty(self) -> bool:
        return not (self.cases or self.organizations or self.contacts)


def organizations_matching(*, user: User, q: str, limit: int = SEARCH_LIMIT) -> list[Organization]:
    """Active organizations whose name contains ``q``, by name (none for an empty ``q``)."""
    q = q.strip()
    if not q:
        return []
    found = organizations_visible_to(user).filter(name__icontains=q, is_active=True)
    return list(found.order_by("name", "pk")[:limit])


def search_everything(*, user: User, q: str, limit: int = SEARCH_LIMIT) -> SearchResults:
    """Cases ranked by ``cases.search.search_cases`` (reference, subject, description,
    replies and notes: staff search, organization name), then the cases of contacts whose
    name or e-mail contains ``q``, newest first; organizations by name; contacts by name
    or e-mail. Raises ``InvalidInput`` for a query over the search length."""
    q = q.strip()
    if not q:
        return SearchResults(q, [], [], [])
    hits = search_cases(user, q, limit=limit)
    found = {hit.case.pk for hit in hits}
    contacts = list(
        contacts_visible_to(user)
        .filter(Q(full_name__icontains=q) | Q(email__icontains=q))
        .select_related("organization")
        .order_by("full_name", "pk")[:limit]
    )
    if contacts and len(hits) < limit:
        theirs = (
            cases_visible_to(user)
            .filter(contact__in=[c.pk for c in contacts])
            .exclude(pk__in=found)
            .select_related("organization", "contact")
            .order_by("-id")[: limit - len(hits)]
        )
        hits += [CaseHit(case, 0.0, (), IN_CONTACT) for case in theirs]
    organizations = organizations_visible_to(user).filter(name__icontains=q).order_by("name")
    return SearchResults(q, hits, list(organizations[:limit]), contacts)
