"""Reads behind the console's reports: satisfaction (CSAT) results per agent and per
organization, and the manager's team overview. Each runs a fixed number of aggregate
queries, whatever the number of cases; nothing is written."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from retainer.accounts.choices import Role
from retainer.accounts.models import User
from retainer.cases import workflow
from retainer.cases.choices import CsatRating
from retainer.cases.models import Case, CsatResponse, SlaClock, TimeEntry
from retainer.cases.selectors import BREACHING_WINDOW

# --- CSAT --------------------------------------------------------------------------------------

#: The periods the report offers: key -> (label, days back from now).
CSAT_PERIODS: dict[str, tuple[str, int]] = {
    "7d": ("Last 7 days", 7),
    "30d": ("Last 30 days", 30),
    "90d": ("Last 90 days", 90),
    "365d": ("Last 12 months", 365),
}
DEFAULT_PERIOD = "30d"
#: The score of each answer: good 3, neutral 2, bad 1 (so the average is between 1 and 3).
SCORES = {CsatRating.GOOD: 3, CsatRating.NEUTRAL: 2, CsatRating.BAD: 1}
RECENT_COMMENTS = 3


@dataclass(frozen=True)
class CsatComment:
    rating: str
    comment: str
    answered_at: dt.datetime
    case: Case


@dataclass
class CsatRow:
    """One agent's or organization's answers: counts, the average score (1–3) and the
    share of "good" answers, with its most recent comments."""

    key: int | None
    name: str
    good: int = 0
    neutral: int = 0
    bad: int = 0
    comments: list[CsatComment] = field(default_factory=list)

    @property
    def responses(self) -> int:
        return self.good + self.neutral + self.bad

    @property
    def average(self) -> float:
        total = self.good * 3 + self.neutral * 2 + self.bad
        return round(total / self.responses, 2) if self.responses else 0.0

    @property
    def satisfied_percent(self) -> int:
        return round(100 * self.good / self.responses) if self.responses else 0


@dataclass(frozen=True)
class CsatReport:
    since: dt.datetime
    total: CsatRow
    by_agent: list[CsatRow]
    by_organization: list[CsatRow]


def _rows(since: dt.datetime, key: str, name: str) -> dict[int | None, CsatRow]:
    counts = (
        CsatResponse.objects.filter(answered_at__gte=since)
        .values(key, name)
        .annotate(
            good=Count("pk", filter=Q(rating=CsatRating.GOOD)),
            neutral=Count("pk", filter=Q(rating=CsatRating.NEUTRAL)),
            bad=Count("pk", filter=Q(rating=CsatRating.BAD)),
        )
        .order_by(name)
    )
    return {
        row[key]: CsatRow(
            row[key], row[name] or "Unassigned", row["good"], row["neutral"], row["bad"]
        )
        for row in counts
    }


def csat_report(*, since: dt.datetime, comments: int = 200) -> CsatReport:
    """Answers since ``since`` per agent (the case's assignee) and per organization, with
    each row's ``RECENT_COMMENTS`` latest comments (from the latest ``comments`` overall)."""
    by_agent = _rows(since, "case__assignee_id", "case__assignee__full_name")
    by_organization = _rows(since, "case__organization_id", "case__organization__name")
    recent = (
        CsatResponse.objects.filter(answered_at__gte=since)
        .exclude(comment="")
        .select_related("case__organization", "case__assignee")
        .order_by("-answered_at", "-pk")[:comments]
    )
    for answer in recent:
        comment = CsatComment(answer.rating, answer.comment, answer.answered_at, answer.case)
        for row in (
            by_agent.get(answer.case.assignee_id),
            by_organization.get(answer.case.organization_id),
        ):
            if row is not None and len(row.comments) < RECENT_COMMENTS:
                row.comments.append(comment)
    total = CsatRow(None, "Everyone")
    for row in by_agent.values():
        total.good, total.neutral, total.bad = (
            total.good + row.good,
            total.neutral + row.neutral,
            total.bad + row.bad,
        )
    return CsatReport(since, total, list(by_agent.values()), list(by_organization.values()))


# --- The team overview ---------------------------------------------------------------------------

#: Backlog age buckets: label -> (from, to) in days since the case was opened.
AGE_BUCKETS: list[tuple[str, int, int | None]] = [
    ("Under a day", 0, 1),
    ("1–3 days", 1, 3),
    ("3–7 days", 3, 7),
    ("1–4 weeks", 7, 28),
    ("Over 4 weeks", 28, None),
]


@dataclass
class AgentLoad:
    agent: User
    open_cases: int = 0
    breaching_soon: int = 0
    overdue: int = 0
    minutes_this_week: int = 0


@dataclass(frozen=True)
class TeamOverview:
    week_start: dt.date
    agents: list[AgentLoad]
    unassigned: int
    backlog: list[tuple[str, int]]  # (age bucket, open cases)


def _clock_states(now: dt.datetime) -> dict[int, tuple[int | None, bool]]:
    """Open cases with a running clock due within the window: case -> (assignee, overdue)."""
    found: dict[int, tuple[int | None, bool]] = {}
    clocks = SlaClock.objects.filter(
        stopped_at__isnull=True, due_at__lte=now + BREACHING_WINDOW
    ).exclude(case__status__in=workflow.FINISHED)
    for case_id, assignee_id, due_at in clocks.values_list(
        "case_id", "case__assignee_id", "due_at"
    ):
        overdue = found.get(case_id, (None, False))[1] or (due_at is not None and due_at <= now)
        found[case_id] = (assignee_id, overdue)
    return found


def _backlog(active: QuerySet[Case], now: dt.datetime) -> list[tuple[str, int]]:
    conditions = {}
    for n, (_, start, end) in enumerate(AGE_BUCKETS):
        q = Q(created_at__lte=now - dt.timedelta(days=start))
        if end is not None:
            q &= Q(created_at__gt=now - dt.timedelta(days=end))
        conditions[f"bucket_{n}"] = Count("pk", filter=q)
    counts = active.aggregate(**conditions)
    return [(label, counts[f"bucket_{n}"]) for n, (label, _, _) in enumerate(AGE_BUCKETS)]


def team_overview(*, now: dt.datetime | None = None) -> TeamOverview:
    """Per agent (agents and managers, and anyone with open cases or time this week):
    open cases, cases breaching soon and overdue (a running SLA clock due within
    ``BREACHING_WINDOW`` or past), minutes logged since Monday; the unassigned count and
    the open backlog by age. Six queries."""
    now = now or timezone.now()
    week_start = timezone.localdate(now) - dt.timedelta(days=timezone.localdate(now).weekday())
    active = Case.objects.exclude(status__in=workflow.FINISHED)
    open_by: dict[int | None, int] = dict(
        active.order_by()
        .values("assignee_id")
        .annotate(n=Count("pk"))
        .values_list("assignee_id", "n")
    )
    minutes_by = dict(
        TimeEntry.objects.filter(is_deleted=False, work_date__gte=week_start)
        .values("agent_id")
        .annotate(total=Sum("minutes"))
        .order_by()
        .values_list("agent_id", "total")
    )
    clocks = _clock_states(now)
    people = User.objects.filter(
        Q(
            is_staff=True,
            is_active=True,
            is_service_account=False,
            groups__name__in=[Role.AGENT, Role.MANAGER],
        )
        | Q(pk__in=[pk for pk in open_by if pk is not None])
        | Q(pk__in=list(minutes_by))
    ).distinct()
    loads = {
        user.pk: AgentLoad(
            user, open_by.get(user.pk, 0), minutes_this_week=minutes_by.get(user.pk, 0)
        )
        for user in people.order_by("full_name", "pk")
    }
    for assignee_id, overdue in clocks.values():
        load = loads.get(assignee_id) if assignee_id is not None else None
        if load is not None:
            if overdue:
                load.overdue += 1
            else:
                load.breaching_soon += 1
    return TeamOverview(
        week_start=week_start,
        agents=list(loads.values()),
        unassigned=open_by.get(None, 0),
        backlog=_backlog(active, now),
    )
