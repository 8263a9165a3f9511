"""Demo cases: the named cast's cases worked through the real actions (decisions, replies,
time, SLA clocks, a defect with its fix, CSAT), and a bulk history across every status,
channel, decision and root cause for the scaled customer base."""

from __future__ import annotations

import datetime as dt
import io
from collections import defaultdict
from typing import Any

import time_machine
from django.utils import timezone

from retainer.accounts.models import Contact, Team, User
from retainer.cases import actions
from retainer.cases.choices import CaseStatus, CaseType, CsatRating, RootCause, SlaAction
from retainer.cases.events import CaseOpened
from retainer.cases.models import Case, CaseEvent, CsatResponse, TimeEntry
from retainer.contracts.choices import Channel, Outcome, SourceType
from retainer.contracts.models import EntitlementDecision, SupportPlan
from retainer.lib.demo import DemoContext, batched
from retainer.lib.events import record_many

WEEKDAYS_9_TO_18 = {str(day): [["09:00", "18:00"]] for day in range(5)}

# severity: (first response, next response, resolution) in business minutes
DEFAULT_TARGETS = {1: (60, 120, 8 * 60), 2: (4 * 60, 8 * 60, 3 * 9 * 60), 3: (8 * 60, 16 * 60, 10 * 9 * 60), 4: (16 * 60, None, 20 * 9 * 60)}  # fmt: skip
GOLD_TARGETS = {1: (30, 60, 4 * 60), 2: (60, 4 * 60, 16 * 60), 3: (4 * 60, 8 * 60, 40 * 60), 4: (8 * 60, None, 80 * 60)}  # fmt: skip

SUBJECTS = [
    "Nightly posting job stops with error 42",
    "How do I configure single sign-on?",
    "Report export is missing the totals row",
    "Upgrade from 5.1 to 5.2 fails on schema migration",
    "Gateway returns 502 under load",
    "SDK crashes on Android 15 when offline",
    "Where is the audit log kept?",
    "Feature request: export to Parquet",
    "Password reset e-mails arrive late",
    "Licence key rejected after renewal",
    "Slow dashboard with 10k accounts",
    "TLS handshake fails behind our proxy",
]


def _sla(ctx: DemoContext) -> None:
    """Calendars and targets set as a manager sets them on the console's SLA settings page
    (the same actions), so intake starts the named cases' clocks the ordinary way. Sev-1
    e-mails the assignee on warning and moves to the Escalations team on breach; sev-2
    raises the priority on breach."""
    admin = ctx.objects["admin"]
    office = actions.do_save_calendar(
        None,
        name="Office hours (customer's time zone)",
        time_zone="UTC",
        use_customer_time_zone=True,
        hours=WEEKDAYS_9_TO_18,
        holidays=[f"{ctx.today.year}-12-25", f"{ctx.today.year + 1}-01-01"],
        actor=admin,
    )
    always = actions.do_save_calendar(None, name="24×7", always_open=True, actor=admin)
    escalations = Team.objects.filter(name="Escalations").first()
    for severity, (first, nxt, resolution) in DEFAULT_TARGETS.items():
        actions.do_save_sla_target(
            None, severity=severity, calendar=office, first_response_minutes=first,
            next_response_minutes=nxt, resolution_minutes=resolution,
            **_reactions(severity, escalations), actor=admin,
        )  # fmt: skip
    for plan in SupportPlan.objects.filter(code="gold-hours"):
        for severity, (first, nxt, resolution) in GOLD_TARGETS.items():
            actions.do_save_sla_target(
                None, plan=plan, severity=severity, calendar=always if severity == 1 else office,
                first_response_minutes=first, next_response_minutes=nxt,
                resolution_minutes=resolution, **_reactions(severity, escalations), actor=admin,
            )  # fmt: skip


def _reactions(severity: int, escalations: Team | None) -> dict[str, Any]:
    """What a warning and a breach do, by severity (see ``_sla``)."""
    if severity == 1 and escalations is not None:
        return {
            "warning_action": SlaAction.NOTIFY_ASSIGNEE,
            "breach_action": SlaAction.ESCALATE,
            "escalation_team": escalations,
        }
    if severity == 2:
        return {"breach_action": SlaAction.RAISE_PRIORITY}
    return {}


def _named_cases(ctx: DemoContext) -> int:
    """Cases of Acme, Globex and Initech, opened and worked through the actions at past
    times."""
    objects = ctx.objects
    agents = objects["agents"]
    products = objects["products"]
    ledgerline, ledgerline_releases = products["ledgerline"]
    atlas, atlas_releases = products["atlas"]
    fieldkit, fieldkit_releases = products["fieldkit"]
    now = timezone.now()
    plan: list[dict[str, Any]] = [
        {"who": "bob", "product": atlas, "release": atlas_releases[-1], "severity": 2, "days": 20, "flow": "closed", "minutes": 95, "csat": CsatRating.GOOD},
        {"who": "ada", "product": atlas, "release": atlas_releases[-2], "severity": 3, "days": 12, "flow": "resolved", "minutes": 60, "csat": CsatRating.NEUTRAL},
        {"who": "bob", "product": atlas, "release": atlas_releases[-1], "severity": 1, "days": 2, "flow": "open", "minutes": 45},
        {"who": "ada", "product": atlas, "release": atlas_releases[-1], "severity": 2, "days": 1, "flow": "waiting", "minutes": 30},
        {"who": "bob", "product": ledgerline, "release": ledgerline_releases[-1], "severity": 3, "days": 6, "flow": "open"},
        {"who": "bob", "product": ledgerline, "release": ledgerline_releases[0], "severity": 3, "days": 4, "flow": "new"},
        {"who": "carol", "product": ledgerline, "release": ledgerline_releases[-1], "severity": 2, "days": 3, "flow": "new"},
        {"who": "ada", "product": fieldkit, "release": fieldkit_releases[-1], "severity": 4, "days": 8, "flow": "cancelled"},
        {"who": "hank", "product": atlas, "release": atlas_releases[-1], "severity": 2, "days": 9, "flow": "resolved", "minutes": 120, "csat": CsatRating.BAD},
        {"who": "hank", "product": fieldkit, "release": fieldkit_releases[-1], "severity": 3, "days": 5, "flow": "open", "minutes": 60},
        {"who": "hank", "product": ledgerline, "release": ledgerline_releases[-1], "severity": 2, "days": 0, "flow": "new"},
        # Initech does not share cases: Peter and Milton each see only their own.
        {"who": "peter", "product": atlas, "release": atlas_releases[-1], "severity": 3, "days": 7, "flow": "open"},
        {"who": "milton", "product": fieldkit, "release": fieldkit_releases[-1], "severity": 2, "days": 3, "flow": "new"},
    ]  # fmt: skip
    defect = actions.do_create_defect(
        product=atlas, title="Gateway drops idle keep-alive connections",
        affected_releases=atlas_releases[-2:], actor=agents[0],
    )  # fmt: skip
    for index, spec in enumerate(plan):
        opened_at = now - dt.timedelta(days=spec["days"], hours=3 + index)
        agent = agents[index % len(agents)]
        case = _open_named_case(objects[spec["who"]], spec, index, agent=agent, at=opened_at)
        _work_named_case(case, spec, agent=agent, opened_at=opened_at)
        if index in (0, 1, 2):
            actions.do_link_defect(case, defect, actor=agent)
    actions.do_set_defect_fix_release(defect, atlas_releases[-1], actor=agents[0])
    actions.do_scan_sla_clocks(now=now)
    return len(plan)


def _open_named_case(
    contact: Contact, spec: dict[str, Any], index: int, *, agent: User, at: dt.datetime
) -> Case:
    """Open one case of the plan at its past time, through intake, as a customer would
    (or an agent taking a call for a contact without a login)."""
    opener = contact.user or agent
    with time_machine.travel(at, tick=False):
        intake = actions.plan_intake(
            contact=contact, product=spec["product"], release=spec["release"],
            subject=SUBJECTS[index % len(SUBJECTS)],
            description="We see this since the last upgrade. Logs attached.\n\n"
            "Steps: run the job, wait a minute, see the error.",
            channel=[Channel.WEB, Channel.EMAIL, Channel.PHONE, Channel.API][index % 4],
            severity=spec["severity"], type=CaseType.DEFECT if index % 3 == 0 else CaseType.QUESTION,
            actor=opener,
        )  # fmt: skip
        case = actions.do_open_case(intake, actor=opener)
    if index == 0:
        actions.do_add_attachment(
            case, upload=io.BytesIO(b"2026-11-02 03:00:01 ERROR posting: code 42\n"),
            name="posting.log", uploaded_by=opener,
        )  # fmt: skip
    return case


def _work_named_case(
    case: Case, spec: dict[str, Any], *, agent: User, opened_at: dt.datetime
) -> None:
    """Work the case along its ``flow``: assigned, answered, timed, waiting, resolved,
    rated, closed, or cancelled; ``new`` cases stay untouched."""
    if spec["flow"] == "new":
        return
    customer = case.contact.user
    with time_machine.travel(opened_at + dt.timedelta(minutes=40), tick=False):
        actions.do_update_case(case, assignee=agent, actor=agent)
        if spec["flow"] == "cancelled":
            actions.do_transition_case(case, CaseStatus.CANCELLED, actor=agent)
            return
        actions.do_add_message(
            case, author=agent, body="Thanks — we are looking into it. Which release exactly?"
        )
        actions.do_add_message(
            case, author=agent, body="Customer runs behind an F5 proxy.", internal=True
        )
    if spec.get("minutes"):
        actions.do_log_time(
            case, agent=agent, minutes=spec["minutes"], note="Analysis", actor=agent
        )
    with time_machine.travel(opened_at + dt.timedelta(hours=5), tick=False):
        if customer is not None:
            actions.do_add_message(case, author=customer, body="We run the current release.")
        if spec["flow"] == "waiting":
            actions.do_transition_case(case, CaseStatus.WAITING_ON_CUSTOMER, actor=agent)
        if spec["flow"] in ("resolved", "closed"):
            actions.do_add_message(
                case, author=agent, body="Fixed by the configuration change described above."
            )
            actions.do_transition_case(
                case, CaseStatus.RESOLVED, root_cause=RootCause.CONFIGURATION, actor=agent
            )
    if spec.get("csat"):
        actions.do_answer_csat(case, rating=spec["csat"], comment="", actor=customer)
    if spec["flow"] == "closed":
        actions.do_transition_case(case, CaseStatus.CLOSED, actor=agent)


# A bulk case's (status, root cause) by position, and its decision outcome.
_STATUSES = [CaseStatus.CLOSED] * 6 + [CaseStatus.RESOLVED] * 2 + [
    CaseStatus.OPEN, CaseStatus.WAITING_ON_CUSTOMER, CaseStatus.WAITING_ON_VENDOR, CaseStatus.NEW, CaseStatus.CANCELLED,
]  # fmt: skip
_OUTCOMES = [Outcome.COVERED] * 6 + [Outcome.COVERED_BILLABLE] * 2 + [
    Outcome.WARRANTY, Outcome.OUT_OF_SCOPE, Outcome.NOT_ENTITLED,
]  # fmt: skip
_SENTENCES = {
    Outcome.COVERED: "Your support contract covers this request.",
    Outcome.COVERED_BILLABLE: "Your contract covers this request; it is billed as overage.",
    Outcome.WARRANTY: "This request is covered by your warranty.",
    Outcome.OUT_OF_SCOPE: "This release is no longer supported; we can offer a backport.",
    Outcome.NOT_ENTITLED: "We could not find a support contract that covers this request.",
}


def _bulk_cases(ctx: DemoContext) -> int:
    """3,000 historical cases at scale 1 and 400 more per further unit (scale 2,500:
    100,000 organizations and about a million cases), over the scaled customers."""
    organizations = ctx.objects.get("organizations", [])
    if not organizations:
        return 0
    rng = ctx.rng
    count = 3000 + 400 * (ctx.scale - 1)
    contacts: dict[int, list[int]] = defaultdict(list)
    for contact_id, organization_id in Contact.objects.filter(
        organization_id__in=[o.pk for o in organizations], is_active=True
    ).values_list("id", "organization_id"):
        contacts[organization_id].append(contact_id)
    products = [(p, releases) for p, releases in ctx.objects["products"].values()]
    agents = ctx.objects["agents"]
    now = timezone.now()
    made = 0
    for chunk in batched(range(count), 5000):
        rows = []
        for n in chunk:
            organization = organizations[n % len(organizations)]
            if contacts[organization.pk]:
                rows.append(
                    _historical_case(
                        n, organization, contacts[organization.pk], products, agents, rng, now
                    )
                )
        _save_history([case for case, _ in rows], [decision for _, decision in rows])
        made += len(rows)
    return made


def _historical_case(
    n: int,
    organization: Any,
    contact_ids: list[int],
    products: list[Any],
    agents: list[User],
    rng: Any,
    now: dt.datetime,
) -> tuple[Case, EntitlementDecision]:
    """The ``n``-th imported case, unsaved, with its decision: status, outcome, channel,
    type and root cause cycle through their values."""
    roots, channels = list(RootCause.values), list(Channel.values)
    product, releases = products[n % len(products)]
    status = _STATUSES[n % len(_STATUSES)]
    outcome = _OUTCOMES[(n // 3) % len(_OUTCOMES)]
    opened = now - dt.timedelta(days=rng.randint(1, 540), minutes=rng.randint(0, 1440))
    finished = status in (CaseStatus.RESOLVED, CaseStatus.CLOSED)
    case = Case(
        organization_id=organization.pk, contact_id=rng.choice(contact_ids),
        product=product, release=rng.choice(releases), channel=channels[n % len(channels)],
        type=CaseType.values[n % len(CaseType.values)], severity=1 + n % 4,
        subject=SUBJECTS[n % len(SUBJECTS)], description="Imported from the previous helpdesk.",
        status=status, entitlement=outcome, root_cause=roots[n % len(roots)] if finished else "",
        assignee=agents[n % len(agents)] if status != CaseStatus.NEW else None,
        created_at=opened, updated_at=opened + dt.timedelta(hours=6),
        first_response_at=opened + dt.timedelta(hours=rng.randint(1, 12)) if status != CaseStatus.NEW else None,
        resolved_at=opened + dt.timedelta(days=rng.randint(1, 9)) if finished else None,
    )  # fmt: skip
    decision = EntitlementDecision(
        source_type=SourceType.CASE, organization_id=organization.pk, product=product,
        channel=case.channel, decided_on=opened.date(), outcome=outcome,
        sentence=_SENTENCES[outcome], created_at=opened,
    )  # fmt: skip
    return case, decision


def _save_history(cases: list[Case], decisions: list[EntitlementDecision]) -> None:
    """Bulk-insert imported cases with their decisions, opening events, time and surveys."""
    EntitlementDecision.objects.bulk_create(decisions)
    for case, decision in zip(cases, decisions, strict=True):
        case.decision = decision
    Case.objects.bulk_create(cases)
    EntitlementDecision.objects.bulk_update(
        [_with_source(d, c) for c, d in zip(cases, decisions, strict=True)], ["source_id"]
    )
    record_many(
        CaseEvent,
        [
            (
                CaseOpened(channel=c.channel, severity=c.severity),
                {"case": c, "created_at": c.created_at},
            )
            for c in cases
        ],
    )
    TimeEntry.objects.bulk_create(
        TimeEntry(
            case=c, agent_id=c.assignee_id, work_date=c.created_at.date(), minutes=15 * (1 + n % 8),
            billable=False, note="Investigation",
        )
        for n, c in enumerate(cases) if c.assignee_id is not None and n % 2 == 0
    )  # fmt: skip
    CsatResponse.objects.bulk_create(
        CsatResponse(case=c, rating=[CsatRating.GOOD, CsatRating.GOOD, CsatRating.NEUTRAL, CsatRating.BAD][n % 4],
                     answered_at=c.resolved_at)
        for n, c in enumerate(cases) if c.resolved_at is not None and n % 3 == 0
    )  # fmt: skip


def _with_source(decision: EntitlementDecision, case: Case) -> EntitlementDecision:
    decision.source_id = str(case.pk)
    return decision


def build(ctx: DemoContext) -> None:
    _sla(ctx)
    named = _named_cases(ctx)
    bulk = _bulk_cases(ctx)
    ctx.log(f"  {named} worked cases for the named customers, {bulk} historical cases")
