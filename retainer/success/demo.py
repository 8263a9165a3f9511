"""The sales step of the demo: a dozen leads in every state, a pipeline with deals in each
stage, one lost and one won deal whose handoff (contract, success owner, team,
onboarding under way) went through the real actions, and interactions on the
timelines, licenses with varied adoption, success plans in varied states with
perception survey answers, so the health list shows a spread, and training: two courses
with past and upcoming sessions, completions (one certificate expired) and enrollments. A few dozen actions: it
costs well under a second."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from retainer.accounts.choices import Role
from retainer.accounts.models import Contact, Organization, Team, User
from retainer.catalog.models import Product
from retainer.contracts.models import SupportPlan
from retainer.lib.demo import DemoContext
from retainer.success import actions
from retainer.success.choices import CourseLevel, InteractionKind, LeadSource, LeadStatus
from retainer.success.models import Course, Lead, Opportunity, Stage, TrainingSession

LEADS = [
    # company, contact, source, status (new prospects: converting them would create
    # organizations the demo's customer base does not count)
    ("Initrode", "Bill Lumbergh", LeadSource.EVENT, LeadStatus.QUALIFIED),
    ("Soylent", "Sol Roth", LeadSource.WEB, LeadStatus.NEW),
    ("Cyberdyne", "Miles Dyson", LeadSource.OUTBOUND, LeadStatus.CONTACTED),
    ("Tyrell", "Eldon Tyrell", LeadSource.PARTNER, LeadStatus.CONTACTED),
    ("Wonka", "Willy Wonka", LeadSource.WEB, LeadStatus.NEW),
    ("Stark Logistics", "Pepper Potts", LeadSource.EVENT, LeadStatus.QUALIFIED),
    ("Oscorp", "Norman Osborn", LeadSource.OUTBOUND, LeadStatus.DISQUALIFIED),
    ("Gringotts", "Griphook", LeadSource.REFERRAL, LeadStatus.NEW),
    ("Monarch", "Ishiro Serizawa", LeadSource.WEB, LeadStatus.CONTACTED),
    ("Wayne Freight", "Lucius Fox", LeadSource.PARTNER, LeadStatus.DISQUALIFIED),
    ("Duff Brewing", "Duffman", LeadSource.OTHER, LeadStatus.NEW),
]


def build(ctx: DemoContext) -> None:
    manager = (
        User.objects.filter(groups__name=Role.MANAGER, is_active=True).first()
        or (ctx.objects["admin"])
    )
    for row in LEADS:
        _lead(ctx, row, manager)
    plan = SupportPlan.objects.get(code="platinum-maintenance", is_current=True)
    known = _customer_leads(ctx, manager, currency=plan.currency)
    won = _won_deal(ctx, known[0], plan, manager)
    _pipeline(ctx, *known[1:], plan=plan, manager=manager)
    _licenses(ctx, manager)
    _success_plans(ctx, manager)
    _training(ctx, manager)
    ctx.log(
        f"  {Lead.objects.count()} leads, {Opportunity.objects.count()} opportunities "
        f"(won: {won.name})"
    )


def _lead(ctx: DemoContext, row: tuple[str, str, str, str], owner: User) -> Lead:
    company, name, source, status = row
    slug = company.split()[0].lower()
    return actions.do_create_lead(
        company=company,
        contact_name=name,
        email=f"{name.split()[0].lower()}@{slug}.example",
        source=source,
        status=status,
        owner=owner,
        notes=f"Asked about support for {ctx.rng.choice(['Ledgerline', 'Fieldkit', 'Atlas'])}.",
        actor=owner,
    )


def _customer_leads(ctx: DemoContext, owner: User, *, currency: str) -> list[Lead]:
    """Three leads from people already known as contacts of demo customers (invoiced in
    ``currency``): converting them links the organization and the contact, and types
    nothing again."""
    contacts = (
        Contact.objects.filter(organization__currency=currency, organization__is_active=True)
        .exclude(organization__in=[ctx.objects["acme"], ctx.objects["globex"]])
        .select_related("organization")
        .order_by("organization_id", "id")
    )
    leads, seen = [], set()
    for contact in contacts[:200]:
        if contact.organization_id in seen:
            continue
        seen.add(contact.organization_id)
        leads.append(
            actions.do_create_lead(
                company=contact.organization.name,
                contact_name=contact.full_name,
                email=contact.email,
                phone=contact.phone,
                source=LeadSource.REFERRAL,
                status=LeadStatus.QUALIFIED,
                currency=currency,
                owner=owner,
                notes="An existing customer asking for more support.",
                actor=owner,
            )
        )
        if len(leads) == 3:
            break
    return leads


def _won_deal(ctx: DemoContext, lead: Lead, plan: SupportPlan, manager: User) -> Opportunity:
    """Converted into its (existing) organization, moved through the pipeline, won and
    handed over; the kickoff is done."""
    _organization, contact, opportunity = actions.do_convert_lead(lead, actor=manager)
    assert opportunity is not None  # noqa: S101 - the conversion opened it
    opportunity = actions.do_update_opportunity(
        opportunity,
        amount=Decimal(9000),
        plan=plan,
        expected_close_date=ctx.today,
        expected_outcomes=["Month-end close in one day", "No posting job lost overnight"],
        actor=manager,
    )
    for name in ("Proposal", "Negotiation"):
        actions.do_move_opportunity(opportunity, stage=Stage.objects.get(name=name), actor=manager)
    actions.do_log_interaction(
        kind=InteractionKind.MEETING,
        summary="Demo of the maintenance plan",
        body="They run month-end on Ledgerline; the audit is in March.",
        author=manager,
        opportunity=opportunity,
        contact=contact,
    )
    won = actions.do_win_opportunity(
        opportunity,
        success_owner=manager,
        team=Team.objects.order_by("name").first() or _team(ctx),
        start_date=ctx.today - dt.timedelta(days=10),
        actor=manager,
    )
    kickoff = won.onboarding_plan.steps.order_by("order").first()
    if kickoff is not None:
        actions.do_set_step_done(kickoff, done=True, actor=manager)
    return won


def _team(ctx: DemoContext) -> Team:
    from retainer.accounts import actions as account_actions

    return account_actions.do_save_team(None, name="Onboarding", actor=ctx.objects["admin"])


def _pipeline(ctx: DemoContext, *converted: Lead, plan: SupportPlan, manager: User) -> None:
    """Open deals in every open stage (Acme, Globex, two converted leads) and a lost one."""
    stages = list(Stage.objects.filter(kind="open").order_by("order"))
    deals = []
    for lead in converted:
        _org, _contact, deal = actions.do_convert_lead(lead, actor=manager)
        if deal is not None:
            deals.append(deal)
    for organization, name, amount in (
        (ctx.objects["acme"], "Acme: Atlas hours", Decimal(14000)),
        (ctx.objects["globex"], "Globex: Fieldkit rollout", Decimal(6000)),
        (ctx.objects["acme"], "Acme: second site", Decimal(9000)),
    ):
        deals.append(
            actions.do_create_opportunity(
                organization=organization,
                name=name,
                amount=amount,
                currency=organization.currency,
                expected_close_date=ctx.today + dt.timedelta(days=ctx.rng.randint(10, 90)),
                owner=manager,
                actor=manager,
            )
        )
    for n, deal in enumerate(deals):
        stage = stages[n % len(stages)]
        if stage.pk != deal.stage_id:
            actions.do_move_opportunity(deal, stage=stage, actor=manager)
        actions.do_log_interaction(
            kind=ctx.rng.choice(list(InteractionKind)),
            summary=f"Follow-up on {deal.name}",
            author=manager,
            opportunity=deal,
        )
    actions.do_lose_opportunity(deals[-1], reason="Budget moved to next year.", actor=manager)
    actions.do_update_opportunity(deals[0], plan=plan, actor=manager)


#: Seats sold and, per month (the last three), seats in use, basic and advanced users:
#: one customer adopting well, one growing, one flagged below the threshold.
LICENSES = [
    ("Enterprise", 200, [(150, 90, 50), (165, 95, 60), (180, 100, 70)]),
    ("Professional", 50, [(20, 18, 2), (26, 20, 5), (31, 22, 8)]),
    ("Enterprise", 500, [(60, 55, 5), (70, 62, 8), (75, 66, 9)]),
    ("Team", 25, []),  # sold last week: nothing reported yet
]


def _licenses(ctx: DemoContext, manager: User) -> None:
    organizations = list(Organization.objects.filter(is_active=True).order_by("id")[:4])
    products = list(Product.objects.filter(is_active=True).order_by("id")[:2])
    if not organizations or not products:
        return
    months = [ctx.today.replace(day=1)]
    for _ in range(2):
        months.insert(0, (months[0] - dt.timedelta(days=1)).replace(day=1))
    for index, (edition, seats, usage) in enumerate(LICENSES):
        license = actions.do_create_license(
            organization=organizations[index % len(organizations)],
            product=products[index % len(products)],
            edition=edition,
            seats=seats,
            starts_on=months[0],
            ends_on=months[0].replace(year=months[0].year + 1) - dt.timedelta(days=1),
            actor=manager,
        )
        for month, (in_use, basic, advanced) in zip(months, usage, strict=False):
            actions.do_report_usage(
                license,
                period=month,
                seats_in_use=in_use,
                basic_users=basic,
                advanced_users=advanced,
                actor=manager,
            )


#: Per organization: (goal, [(milestone, weight, done)]), the ROI (investment, return)
#: or None, and the answer its contact gave to the perception survey ("": not yet).
PLANS = [
    (
        [
            ("Close the books in two days", [("Go live", 3, True), ("Train the team", 2, True)]),
            ("Pass the audit without findings", [("First fast close", 5, False)]),
        ],
        (Decimal(40000), Decimal(95000)),
        "positive",
    ),
    (
        [("Roll out to every site", [("Pilot site", 2, True), ("All sites", 3, True)])],
        None,
        "positive",
    ),
    (
        [
            (
                "Cut manual postings by half",
                [("Automate imports", 4, True), ("Retire scripts", 6, False)],
            )
        ],
        None,
        "neutral",
    ),
    (
        [("Move to the current release", [("Upgrade plan", 1, False), ("Upgrade", 4, False)])],
        None,
        "negative",
    ),
]


def _success_plans(ctx: DemoContext, manager: User) -> None:
    organizations = list(Organization.objects.filter(is_active=True).order_by("id")[:4])
    for organization, (goals, roi, answer) in zip(organizations, PLANS, strict=False):
        for title, milestones in goals:
            goal = actions.do_add_goal(organization, title=title, actor=manager)
            for offset, (name, weight, done) in enumerate(milestones):
                milestone = actions.do_add_milestone(
                    goal,
                    title=name,
                    weight=weight,
                    owner=manager,
                    due_date=ctx.today + dt.timedelta(days=30 * (offset + 1) - 45),
                    actor=manager,
                )
                if done:
                    actions.do_set_milestone_done(
                        milestone, done=True, completed_on=ctx.today, actor=manager
                    )
        changes = {"owner": manager, "summary": "Agreed at the kickoff with the customer."}
        if roi is not None:
            changes.update(roi_investment=roi[0], roi_return=roi[1], roi_currency="EUR")
        actions.do_update_plan(organization, actor=manager, **changes)
        contact = Contact.objects.filter(organization=organization, is_active=True).first()
        if contact is None:
            continue
        (survey,) = actions.do_send_survey(organization, contact=contact, actor=manager)
        if answer:
            actions.do_answer_survey(survey, answer=answer, actor=None)


def _training(ctx: DemoContext, manager: User) -> None:
    """Ledgerline Admin (the course Globex's trained-only contract requires) and an
    advanced course: Hank renews his certificate, Bob completes, Ada's advanced
    certificate has expired and she is enrolled again, and a session is coming up."""
    product = Product.objects.filter(code="ledgerline").first()
    names = ("hank", "ada", "bob", "carol")
    if product is None or any(name not in ctx.objects for name in names):
        return
    hank, ada, bob, carol = (ctx.objects[name] for name in names)
    admin = actions.do_save_course(
        None,
        product=product,
        name="Ledgerline Admin",
        level=CourseLevel.BASIC,
        duration_hours=8,
        validity_months=24,
        actor=manager,
    )
    reporting = actions.do_save_course(
        None,
        product=product,
        name="Ledgerline Advanced Reporting",
        level=CourseLevel.ADVANCED,
        duration_hours=16,
        validity_months=12,
        actor=manager,
    )
    now = timezone.now().replace(hour=8, minute=0, second=0, microsecond=0)

    def session(course: Course, days: int, capacity: int, **place: str) -> TrainingSession:
        return actions.do_schedule_session(
            course,
            starts_at=now + dt.timedelta(days=days),
            capacity=capacity,
            actor=manager,
            **place,
        )

    past = session(admin, -20, 8, location="Chicago, training room 2")
    old = session(reporting, -400, 6, location="Berlin, Acme headquarters")
    upcoming = session(admin, 20, 10, online_link="https://training.example/ledgerline-admin")
    advanced = session(reporting, 45, 6, location="Berlin, Acme headquarters")
    for contact in (hank, bob):
        actions.do_complete_enrollment(
            actions.do_enroll_contact(past, contact=contact, actor=manager), actor=manager
        )
    actions.do_mark_no_show(
        actions.do_enroll_contact(past, contact=ada, actor=manager), actor=manager
    )
    actions.do_complete_enrollment(
        actions.do_enroll_contact(old, contact=ada, actor=manager), actor=manager
    )
    actions.do_enroll_contact(upcoming, contact=carol, actor=manager)
    actions.do_enroll_contact(upcoming, contact=ada, actor=manager)
    actions.do_enroll_contact(advanced, contact=ada, actor=manager)
