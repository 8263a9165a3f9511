"""The support roll-ups: for any sequence of case events, the tallies kept from the events
equal ``rebuild_metrics``' and the figures read from them equal the direct computation
over the cases."""

from __future__ import annotations

import contextlib
import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from retainer.cases import actions as case_actions
from retainer.cases.actions.clocks import do_scan_sla_clocks
from retainer.cases.models import BusinessCalendar, Case, SlaTarget
from retainer.lib import outbox
from retainer.lib.errors import DomainError
from retainer.metrics import queries, rollups
from retainer.metrics.models import CaseFigures, SupportMonth
from retainer.metrics.periods import parse_period

pytestmark = pytest.mark.django_db

steps = st.lists(
    st.one_of(
        st.tuples(st.just("open"), st.integers(0, 1), st.integers(1, 90)),
        st.tuples(st.just("reply"), st.integers(0, 9), st.integers(1, 90)),
        st.tuples(st.just("resolve"), st.integers(0, 9), st.sampled_from(["defect", "how_to"])),
        st.tuples(st.just("reopen"), st.integers(0, 9), st.integers(1, 90)),
        st.tuples(st.just("csat"), st.integers(0, 9), st.sampled_from(["good", "neutral", "bad"])),
        st.tuples(st.just("scan"), st.integers(0, 0), st.integers(1, 900)),
        st.tuples(st.just("log"), st.integers(0, 9), st.integers(1, 240)),
        st.tuples(st.just("unlog"), st.integers(0, 9), st.integers(1, 9)),
    ),
    min_size=1,
    max_size=12,
)


#: Two cases across months: answered, resolved, reopened, resolved again, rated, and
#: one left to breach its clocks.
EVERYTHING = [
    ("open", 0, 2), ("reply", 0, 30), ("resolve", 0, "defect"), ("reopen", 0, 3),
    ("open", 1, 1), ("resolve", 0, "how_to"), ("csat", 0, "good"), ("scan", 0, 900),
    ("log", 1, 30), ("log", 1, 45), ("unlog", 1, 1), ("log", 0, 60),
]  # fmt: skip


@pytest.fixture
def office(db) -> SlaTarget:
    calendar = BusinessCalendar.objects.create(
        name="Office",
        time_zone="Europe/Berlin",
        hours={str(day): [["09:00", "18:00"]] for day in range(5)},
    )
    return SlaTarget.objects.create(
        severity=2,
        calendar=calendar,
        first_response_minutes=4 * 60,
        next_response_minutes=8 * 60,
        resolution_minutes=5 * 9 * 60,
    )


def tallies() -> dict[tuple, tuple[int, int]]:
    return {
        (row.month, row.product_id, row.team_id, row.tier, row.figure, row.value): (
            row.n,
            row.micros,
        )
        for row in SupportMonth.objects.all()
        if row.n or row.micros
    }


def play(cast, desk, program) -> None:
    """Act out the steps, hours apart, as the people who do them."""
    now = timezone.now().replace(microsecond=0) - dt.timedelta(days=150)
    cases: list[Case] = []
    for step, index, amount in program:
        now += dt.timedelta(hours=amount if isinstance(amount, int) else 5)
        with (
            time_machine.travel(now, tick=False),
            contextlib.suppress(DomainError, ValidationError),
        ):
            if step == "open":
                cases.append(
                    case_actions.check_open_case(
                        cast.agent, contact=cast.contact,
                        product=desk.other if index else desk.product,
                        channel="web", subject="Down", description="All down", severity=2,
                    )
                )  # fmt: skip
            elif step == "scan":
                do_scan_sla_clocks(now=now)
            elif cases:
                pool = cases
                if step in ("csat", "reopen"):  # a resolved case, when there is one
                    resolved = Case.objects.filter(pk__in=[c.pk for c in cases], status="resolved")
                    pool = list(resolved.order_by("pk")) or cases
                case = Case.objects.get(pk=pool[index % len(pool)].pk)
                if step == "reply":
                    case_actions.do_reply(case, author=cast.agent, body="On it.")
                elif step == "resolve":
                    case_actions.do_transition_case(
                        case, "resolved", actor=cast.agent, root_cause=amount
                    )
                elif step == "reopen":
                    case_actions.do_transition_case(case, "open", actor=cast.agent)
                elif step == "csat":
                    case_actions.do_answer_csat(case, rating=amount, actor=None)
                elif step == "log":
                    case_actions.do_log_time(
                        case, agent=cast.agent, minutes=amount, billable=amount % 2 == 0,
                        actor=cast.agent,
                    )  # fmt: skip
                elif step == "unlog" and (
                    entry := case.time_entries.filter(is_deleted=False).first()
                ):
                    case_actions.do_delete_time_entry(entry, actor=cast.agent)


def same_figures(direct: queries.SupportReport, rolled: queries.SupportReport) -> None:
    assert rolled.opened == direct.opened
    assert rolled.demand == direct.demand
    assert rolled.sla == direct.sla
    assert (rolled.resolved, rolled.reopened) == (direct.resolved, direct.reopened)
    assert rolled.csat == direct.csat
    assert [(r["agent_id"], r["logged"], r["billable"] or 0) for r in rolled.time] == [
        (r["agent_id"], r["logged"], r["billable"] or 0) for r in direct.time
    ]
    for mine, theirs in (
        (rolled.durations.first_response, direct.durations.first_response),
        (rolled.durations.resolution, direct.durations.resolution),
    ):
        assert mine.count == theirs.count
        if theirs.average_hours is not None and theirs.median_hours is not None:
            assert mine.average_hours is not None and mine.median_hours is not None
            assert abs(mine.average_hours - theirs.average_hours) <= Decimal("0.01")
            # The median is a bucket's mean: within the bucket's width (~9 %) of the truth.
            assert abs(mine.median_hours - theirs.median_hours) <= (
                theirs.median_hours * Decimal("0.1") + Decimal("0.01")
            )


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(program=steps)
@example(program=EVERYTHING)
def test_incremental_rollups_equal_the_rebuild_and_the_direct_figures(
    cast, desk, incident_bank, office, program
):
    with transaction.atomic():
        play(cast, desk, program)
        while outbox.dispatch():
            pass
        incremental = tallies()
        if program == EVERYTHING:  # the explicit example below covers every figure
            figures = {key[4] for key in incremental}
            assert {"opened", "frt", "ttr", "resolved", "reopened", "csat"} <= figures
            assert {"time.logged", "time.billable"} <= figures
            assert {"sla.first_response", "sla.resolution"} <= figures
        rollups.rebuild()
        assert tallies() == incremental
        today = timezone.localdate()
        for period in ("12m", f"{today:%Y-%m}"):
            for product in (None, desk.product.pk, desk.other.pk):
                filters = queries.Filters(parse_period(period, today=today), today, product=product)
                same_figures(queries.support_direct(filters), queries.support_from_rollups(filters))
        transaction.set_rollback(True)


def test_rebuild_metrics_prints_rows_and_seconds_and_since_keeps_the_rest(cast, desk, office):
    case = case_actions.check_open_case(
        cast.agent, contact=cast.contact, product=desk.product, channel="web",
        subject="Down", description="All down", severity=2,
    )  # fmt: skip
    case_actions.do_reply(case, author=cast.agent, body="On it.")
    out = StringIO()
    call_command("rebuild_metrics", stdout=out)
    assert "cases=1 rows=" in out.getvalue() and "seconds=" in out.getvalue()
    before = tallies()
    assert before and CaseFigures.objects.count() == 1
    call_command("rebuild_metrics", "--since", f"{timezone.localdate():%Y-%m-%d}", stdout=out)
    assert tallies() == before
    with pytest.raises(Exception, match="YYYY-MM-DD"):
        call_command("rebuild_metrics", "--since", "yesterday")


def test_the_organization_filter_reads_the_cases_directly(cast, desk, incident_bank):
    """Organization is not a roll-up dimension: the page answers from the cases even when
    the roll-ups are empty."""
    case_actions.check_open_case(
        cast.agent, contact=cast.contact, product=desk.product, channel="web",
        subject="Down", description="All down", severity=2,
    )  # fmt: skip
    SupportMonth.objects.all().delete()
    client = cast.client_for(cast.manager)
    response = client.get(reverse("api:metrics_support"), {"organization": cast.acme.pk})
    assert response.json()["cases_opened"] == 1
    assert client.get(reverse("api:metrics_support")).json()["cases_opened"] == 0
