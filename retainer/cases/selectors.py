from __future__ import annotations

from django.db.models import Count, Q, QuerySet, Sum

from retainer.accounts.models import User
from retainer.cases.models import Case, CaseEvent, TimeEntry


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
        minutes=Sum("minutes"),
        billable=Sum("minutes", filter=Q(billable=True)),
        covered=Sum("covered_minutes"),
        overage=Sum("overage_minutes"),
    )
    return {key: int(value or 0) for key, value in totals.items()}


def open_case_counts_for_agent(*, agent: User) -> dict[str, int]:
    rows = Case.objects.filter(assignee=agent).values("status").annotate(n=Count("id"))
    return {row["status"]: row["n"] for row in rows}
