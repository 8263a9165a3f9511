"""Every change to leads, the pipeline, interactions and onboarding, and the handoff.

Each action is atomic, validates before it writes (``save_validated``) and records its
typed event (``success/events.py``) with its outbox message. Organizations, contacts
and contracts are created through their own apps' actions, so their validation and
events apply. Who may call which action is ``success/checks.py``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models.functions import Lower
from django.utils import timezone

from retainer.accounts import actions as account_actions
from retainer.accounts.models import Contact, Organization, OrganizationDomain, Team, User
from retainer.catalog.models import Product
from retainer.contracts import actions as contract_actions
from retainer.contracts.models import SupportPlan
from retainer.lib.errors import Conflict, InvalidInput
from retainer.lib.events import record
from retainer.lib.models import apply_changes, save_validated
from retainer.success import events
from retainer.success.choices import LeadStatus, OpportunityStatus, StageKind
from retainer.success.models import (
    Interaction,
    Lead,
    License,
    LicenseUsage,
    OnboardingPlan,
    OnboardingStep,
    OnboardingTemplate,
    Opportunity,
    Stage,
    SuccessEvent,
)

LEAD_FIELDS = (
    "source",
    "status",
    "owner",
    "company",
    "contact_name",
    "email",
    "phone",
    "currency",
    "notes",
)
LICENSE_FIELDS = (
    "organization",
    "product",
    "edition",
    "seats",
    "starts_on",
    "ends_on",
    "allow_overuse",
)
STAGE_FIELDS = ("name", "order", "probability", "kind", "is_active")
OPPORTUNITY_FIELDS = (
    "name",
    "contact",
    "amount",
    "currency",
    "expected_close_date",
    "plan",
    "tier",
    "owner",
    "expected_outcomes",
)


def lock_lead(pk: int) -> Lead:
    return Lead.objects.select_for_update().get(pk=pk)


def lock_opportunity(pk: int) -> Opportunity:
    return Opportunity.objects.select_for_update().get(pk=pk)


def _staff_error(user: User | None, what: str) -> str | None:
    if user is not None and not (user.is_staff and user.is_active):
        return f"The {what} must be active vendor staff."
    return None


# --- Leads ---------------------------------------------------------------------------------


def _validate_lead(lead: Lead) -> None:
    if lead.status == LeadStatus.CONVERTED and lead.contact_id is None:
        raise ValidationError({"status": "A lead becomes converted by converting it."})
    if error := _staff_error(lead.owner, "owner"):
        raise ValidationError({"owner": error})


@transaction.atomic
def do_create_lead(*, actor: User | None, **values: Any) -> Lead:
    """Record a lead (``values`` are ``LEAD_FIELDS``)."""
    unknown = set(values) - set(LEAD_FIELDS)
    if unknown:
        raise ValueError(f"Cannot set {', '.join(sorted(unknown))} on a lead.")
    lead = Lead(**values)
    lead.email = lead.email.strip().lower()
    _validate_lead(lead)
    save_validated(lead)
    record(
        SuccessEvent,
        events.LeadCreated(company=lead.company, source=lead.source),
        lead=lead,
        actor=actor,
    )
    return lead


@transaction.atomic
def do_update_lead(lead: Lead, *, actor: User | None, **changes: Any) -> Lead:
    """Change a lead that is not converted yet (a converted lead is the customer's
    record now: its organization and contact are changed there)."""
    lead = lock_lead(lead.pk)
    if lead.status == LeadStatus.CONVERTED:
        raise Conflict("lead_converted", "This lead is converted; change its organization.")
    if "email" in changes:
        changes["email"] = changes["email"].strip().lower()
    diff = apply_changes(lead, changes, allowed=LEAD_FIELDS)
    _validate_lead(lead)
    if diff:
        save_validated(lead)
        record(SuccessEvent, events.LeadUpdated(changes=diff), lead=lead, actor=actor)
    return lead


def matching_organization(lead: Lead) -> Organization | None:
    """The organization a lead belongs to, when it exists already: the owner of the
    e-mail's domain, else the only active organization of the company's name."""
    domain = lead.email.rpartition("@")[2].lower()
    owned = OrganizationDomain.objects.filter(domain__iexact=domain).select_related("organization")
    if (found := owned.first()) is not None:
        return found.organization
    named = list(
        Organization.objects.annotate(lower=Lower("name")).filter(
            lower=lead.company.strip().lower(), is_active=True
        )[:2]
    )
    return named[0] if len(named) == 1 else None


def _existing_contact(lead: Lead, organization: Organization | None) -> Contact | None:
    """The contact with the lead's e-mail, when there is one; refused when it belongs to
    another organization than the one the lead converts into."""
    contact = Contact.objects.filter(email__iexact=lead.email).first()
    if contact is None:
        return None
    if organization is None or contact.organization_id != organization.pk:
        raise InvalidInput(
            "contact_of_another_organization",
            f"{lead.email} is already a contact of {contact.organization}.",
            field="email",
        )
    return contact


@transaction.atomic
def do_convert_lead(
    lead: Lead, *, open_opportunity: bool = True, actor: User | None
) -> tuple[Organization, Contact, Opportunity | None]:
    """Turn the lead into its organization and contact (found when they exist, created
    through the accounts actions otherwise) and, with ``open_opportunity``, an
    opportunity in the first stage of the pipeline. A lead converts once."""
    lead = lock_lead(lead.pk)
    if lead.status == LeadStatus.CONVERTED:
        raise Conflict("lead_already_converted", "This lead has already been converted.")
    if lead.status == LeadStatus.DISQUALIFIED:
        raise Conflict("lead_disqualified", "A disqualified lead cannot be converted.")
    organization = matching_organization(lead)
    contact = _existing_contact(lead, organization)
    org_created, contact_created = organization is None, contact is None
    if organization is None:
        organization = account_actions.do_create_organization(
            name=lead.company, currency=lead.currency, actor=actor
        )
    if contact is None:
        contact = account_actions.do_create_contact(
            organization=organization,
            full_name=lead.contact_name,
            email=lead.email,
            phone=lead.phone,
            actor=actor,
        )
    lead.organization, lead.contact = organization, contact
    lead.status, lead.converted_at = LeadStatus.CONVERTED, timezone.now()
    save_validated(lead)
    opportunity = None
    if open_opportunity:
        opportunity = do_create_opportunity(
            organization=organization,
            contact=contact,
            lead=lead,
            name=f"{organization.name} — support",
            currency=organization.currency,
            owner=lead.owner or actor,
            actor=actor,
        )
    converted = events.LeadConverted(
        contact=contact.pk,
        organization_created=org_created,
        contact_created=contact_created,
        opportunity=opportunity.pk if opportunity else None,
    )
    record(SuccessEvent, converted, lead=lead, organization=organization, actor=actor)
    return organization, contact, opportunity


# --- Stages --------------------------------------------------------------------------------


def first_open_stage() -> Stage:
    stage = Stage.objects.filter(kind=StageKind.OPEN, is_active=True).order_by("order").first()
    if stage is None:
        raise Conflict("no_pipeline", "The pipeline has no open stage.")
    return stage


def closing_stage(kind: str) -> Stage:
    stage = Stage.objects.filter(kind=kind).first()
    if stage is None:
        raise Conflict("no_closing_stage", f"The pipeline has no {kind} stage.")
    return stage


@transaction.atomic
def do_save_stage(
    stage: Stage | None,
    *,
    name: str,
    order: int,
    probability: int,
    kind: str = StageKind.OPEN,
    is_active: bool = True,
    actor: User | None,
) -> Stage:
    """Create (``stage`` None) or change a stage of the pipeline (the same values again
    change nothing)."""
    created = stage is None
    stage = stage or Stage()
    values = {"name": name.strip(), "order": order, "probability": probability}
    diff = apply_changes(
        stage, {**values, "kind": kind, "is_active": is_active}, allowed=STAGE_FIELDS
    )
    if not created and not diff:
        return stage
    save_validated(stage)
    saved = events.StageSaved(
        stage=stage.pk, stage_name=stage.name, probability=stage.probability, created=created
    )
    record(SuccessEvent, saved, actor=actor)
    return stage


# --- Opportunities -------------------------------------------------------------------------


def _validate_opportunity(opportunity: Opportunity) -> None:
    errors: dict[str, str] = {}
    plan = opportunity.plan
    if plan is not None:
        if not opportunity.tier:
            opportunity.tier = plan.tier
        elif plan.tier and plan.tier != opportunity.tier:
            errors["tier"] = f"The plan {plan.name} is {plan.get_tier_display()}."
    contact = opportunity.contact
    if contact is not None and contact.organization_id != opportunity.organization_id:
        errors["contact"] = "The contact belongs to another organization."
    if error := _staff_error(opportunity.owner, "owner"):
        errors["owner"] = error
    outcomes = opportunity.expected_outcomes
    if not isinstance(outcomes, list) or not all(isinstance(o, str) for o in outcomes):
        errors["expected_outcomes"] = "Expected outcomes are a list of sentences."
    if errors:
        raise ValidationError(errors)


def clean_outcomes(outcomes: Iterable[str]) -> list[str]:
    return [line.strip() for line in outcomes if line.strip()]


@transaction.atomic
def do_create_opportunity(
    *,
    organization: Organization,
    name: str,
    stage: Stage | None = None,
    products: Iterable[Product] = (),
    expected_outcomes: Iterable[str] = (),
    amount: Decimal = Decimal(0),
    actor: User | None,
    **values: Any,
) -> Opportunity:
    """Put a deal into the pipeline, in ``stage`` (an open one) or the first stage;
    ``values`` are the other ``OPPORTUNITY_FIELDS`` and ``lead``."""
    stage = stage or first_open_stage()
    check_open_stage(stage)
    opportunity = Opportunity(
        organization=organization,
        name=name.strip(),
        stage=stage,
        amount=amount,
        expected_outcomes=clean_outcomes(expected_outcomes),
        **values,
    )
    _validate_opportunity(opportunity)
    save_validated(opportunity)
    opportunity.products.set(list(products))
    created = events.OpportunityCreated(
        stage=stage.name, amount=str(opportunity.amount), currency=opportunity.currency
    )
    record(
        SuccessEvent,
        created,
        opportunity=opportunity,
        organization=organization,
        lead=opportunity.lead,
        actor=actor,
    )
    return opportunity


def require_open(opportunity: Opportunity) -> None:
    if opportunity.status != OpportunityStatus.OPEN:
        raise Conflict(
            "opportunity_closed",
            f"This opportunity is {opportunity.get_status_display().lower()}; "
            "it no longer changes.",
        )


def check_open_stage(stage: Stage) -> None:
    """A stage an open deal may stand in: an active stage of the pipeline that is neither
    the won nor the lost stage (those are reached by winning or losing)."""
    if stage.kind != StageKind.OPEN or not stage.is_active:
        raise InvalidInput(
            "stage_not_in_pipeline",
            f"{stage.name} is not a stage of the pipeline a deal can be moved to; "
            "win or lose the deal instead."
            if stage.kind != StageKind.OPEN
            else f"{stage.name} is no longer a stage of the pipeline.",
            field="stage",
        )


@transaction.atomic
def do_update_opportunity(
    opportunity: Opportunity,
    *,
    actor: User | None,
    products: Iterable[Product] | None = None,
    **changes: Any,
) -> Opportunity:
    """Change an open opportunity's fields (``OPPORTUNITY_FIELDS``) and products."""
    opportunity = lock_opportunity(opportunity.pk)
    require_open(opportunity)
    if "expected_outcomes" in changes:
        changes["expected_outcomes"] = clean_outcomes(changes["expected_outcomes"])
    diff = apply_changes(opportunity, changes, allowed=OPPORTUNITY_FIELDS)
    _validate_opportunity(opportunity)
    if products is not None:
        old = sorted(opportunity.products.values_list("pk", flat=True))
        new = sorted(p.pk for p in products)
        if old != new:
            opportunity.products.set(new)
            diff["products"] = {"old": old, "new": new}
    if diff:
        save_validated(opportunity)
        record(
            SuccessEvent,
            events.OpportunityUpdated(changes=diff),
            opportunity=opportunity,
            organization=opportunity.organization,
            actor=actor,
        )
    return opportunity


@transaction.atomic
def do_move_opportunity(
    opportunity: Opportunity, *, stage: Stage, actor: User | None
) -> Opportunity:
    """Move an open deal to another open stage (the same stage moves nothing)."""
    opportunity = lock_opportunity(opportunity.pk)
    require_open(opportunity)
    check_open_stage(stage)
    old = opportunity.stage
    if old.pk == stage.pk:
        return opportunity
    opportunity.stage = stage
    save_validated(opportunity)
    moved = events.OpportunityMoved(
        old_stage=old.name, new_stage=stage.name, probability=stage.probability
    )
    record(
        SuccessEvent,
        moved,
        opportunity=opportunity,
        organization=opportunity.organization,
        actor=actor,
    )
    return opportunity


@transaction.atomic
def do_lose_opportunity(
    opportunity: Opportunity, *, reason: str, actor: User | None
) -> Opportunity:
    """Close an open deal as lost, with the reason (required)."""
    opportunity = lock_opportunity(opportunity.pk)
    require_open(opportunity)
    if not reason.strip():
        raise ValidationError({"reason": "Say why the deal was lost."})
    opportunity.stage = closing_stage(StageKind.LOST)
    opportunity.status, opportunity.lost_reason = OpportunityStatus.LOST, reason.strip()
    opportunity.closed_at = timezone.now()
    save_validated(opportunity)
    record(
        SuccessEvent,
        events.OpportunityLost(reason=opportunity.lost_reason),
        opportunity=opportunity,
        organization=opportunity.organization,
        actor=actor,
    )
    return opportunity


# --- The handoff ---------------------------------------------------------------------------


def _handoff_errors(
    opportunity: Opportunity, *, success_owner: User, team: Team, template: OnboardingTemplate
) -> SupportPlan:
    """The proposed plan, once everything a handoff needs is there; refusals first."""
    plan = opportunity.plan
    if plan is None:
        raise InvalidInput(
            "no_proposed_plan",
            "Propose a support plan before winning the deal: the contract is sold on it.",
            field="plan",
        )
    if plan.currency != opportunity.currency:
        raise InvalidInput(
            "currency_mismatch",
            f"The plan {plan.name} is priced in {plan.currency}, "
            f"the deal in {opportunity.currency}.",
            field="plan",
        )
    errors: dict[str, str] = {}
    if error := _staff_error(success_owner, "success owner"):
        errors["success_owner"] = error
    if not team.is_active:
        errors["team"] = "The team is no longer active."
    if not template.steps.exists():
        errors["template"] = "The onboarding template has no steps."
    if errors:
        raise ValidationError(errors)
    return plan


@transaction.atomic
def do_win_opportunity(
    opportunity: Opportunity,
    *,
    success_owner: User,
    team: Team,
    template: OnboardingTemplate | None = None,
    start_date: dt.date | None = None,
    actor: User | None,
) -> Opportunity:
    """Win the deal and hand it to service, all or nothing: the contract sold on the
    proposed plan (``contracts.actions.do_create_contract``, priced by the plan), the
    success owner and team, and the onboarding plan made from ``template`` (the default
    one when not given). The expected outcomes stay on the opportunity and go into the
    ``opportunity.won`` event."""
    opportunity = lock_opportunity(opportunity.pk)
    require_open(opportunity)
    template = template or default_template()
    plan = _handoff_errors(opportunity, success_owner=success_owner, team=team, template=template)
    start = start_date or timezone.localdate()
    contract = contract_actions.do_create_contract(
        organization=opportunity.organization,
        preset=plan.preset,
        plan=plan,
        start_date=start,
        covered_products=list(opportunity.products.all()),
        reference=f"opportunity:{opportunity.pk}",
        actor=actor,
    )
    opportunity.stage = closing_stage(StageKind.WON)
    opportunity.status, opportunity.closed_at = OpportunityStatus.WON, timezone.now()
    opportunity.success_owner, opportunity.team = success_owner, team
    save_validated(opportunity)
    opportunity.contracts.add(contract)
    won = events.OpportunityWon(
        contracts=[contract.pk],
        plan=plan.pk,
        amount=str(contract.price),
        currency=contract.currency,
        expected_outcomes=list(opportunity.expected_outcomes),
        success_owner=success_owner.pk,
        team=team.pk,
    )
    columns = {"opportunity": opportunity, "organization": opportunity.organization}
    record(SuccessEvent, won, **columns, actor=actor)
    _create_onboarding_plan(
        opportunity,
        template=template,
        success_owner=success_owner,
        team=team,
        start=start,
        actor=actor,
    )
    return opportunity


def default_template() -> OnboardingTemplate:
    template = OnboardingTemplate.objects.filter(is_default=True).first()
    if template is None:
        raise Conflict("no_onboarding_template", "There is no default onboarding template.")
    return template


def _create_onboarding_plan(
    opportunity: Opportunity,
    *,
    template: OnboardingTemplate,
    success_owner: User,
    team: Team,
    start: dt.date,
    actor: User | None,
) -> OnboardingPlan:
    plan = OnboardingPlan(
        organization=opportunity.organization,
        opportunity=opportunity,
        template=template,
        success_owner=success_owner,
        team=team,
        starts_on=start,
    )
    save_validated(plan)
    steps = OnboardingStep.objects.bulk_create(
        OnboardingStep(
            plan=plan,
            order=step.order,
            title=step.title,
            due_date=start + dt.timedelta(days=step.due_after_days),
        )
        for step in template.steps.order_by("order")
    )
    created = events.OnboardingPlanCreated(
        template=template.name, steps=[step.title for step in steps]
    )
    record(
        SuccessEvent,
        created,
        onboarding_plan=plan,
        opportunity=opportunity,
        organization=opportunity.organization,
        actor=actor,
    )
    return plan


@transaction.atomic
def do_set_step_done(step: OnboardingStep, *, done: bool, actor: User | None) -> OnboardingStep:
    """Mark an onboarding step done (by ``actor``, now) or open it again; the same state
    again changes nothing."""
    step = OnboardingStep.objects.select_for_update().select_related("plan").get(pk=step.pk)
    if step.is_done == done:
        return step
    step.done_at, step.done_by = (timezone.now(), actor) if done else (None, None)
    save_validated(step)
    event_class = events.OnboardingStepDone if done else events.OnboardingStepUndone
    record(
        SuccessEvent,
        event_class(step=step.pk, title=step.title),
        onboarding_plan=step.plan,
        organization_id=step.plan.organization_id,
        actor=actor,
    )
    return step


# --- Interactions --------------------------------------------------------------------------


def _interaction_subjects(interaction: Interaction) -> None:
    """Fill the organization from what the interaction is about, and refuse subjects
    that disagree about it."""
    organizations = {
        subject.organization_id
        for subject in (interaction.contact, interaction.opportunity)
        if subject is not None
    }
    lead = interaction.lead
    if lead is not None and lead.organization_id is not None:
        organizations.add(lead.organization_id)
    if interaction.organization_id is not None:
        organizations.add(interaction.organization_id)
    if len(organizations) > 1:
        raise ValidationError(
            {"contact": "The contact, lead and opportunity belong to different organizations."}
        )
    if organizations and interaction.organization_id is None:
        interaction.organization_id = organizations.pop()


@transaction.atomic
def do_log_interaction(
    *,
    kind: str,
    summary: str,
    author: User,
    body: str = "",
    occurred_at: dt.datetime | None = None,
    organization: Organization | None = None,
    contact: Contact | None = None,
    lead: Lead | None = None,
    opportunity: Opportunity | None = None,
) -> Interaction:
    """Log a call, meeting, e-mail or note by ``author`` about at least one of the
    organization, contact, lead or opportunity; it shows on each of their timelines
    (and on the organization's, found from the others)."""
    interaction = Interaction(
        kind=kind,
        summary=summary.strip(),
        body=body.strip(),
        occurred_at=occurred_at or timezone.now(),
        author=author,
        organization=organization,
        contact=contact,
        lead=lead,
        opportunity=opportunity,
    )
    _interaction_subjects(interaction)
    save_validated(interaction)
    logged = events.InteractionLogged(
        interaction=interaction.pk, kind=interaction.kind, contact=interaction.contact_id
    )
    record(
        SuccessEvent,
        logged,
        actor=author,
        organization_id=interaction.organization_id,
        lead=lead,
        opportunity=opportunity,
    )
    return interaction


# --- Licenses and usage -----------------------------------------------------------------------


@transaction.atomic
def do_create_license(*, actor: User | None, **values: Any) -> License:
    """Record seats of a product sold to an organization (``values`` are
    ``LICENSE_FIELDS``)."""
    unknown = set(values) - set(LICENSE_FIELDS)
    if unknown:
        raise ValueError(f"Cannot set {', '.join(sorted(unknown))} on a license.")
    license = License(**values)
    save_validated(license)
    created = events.LicenseCreated(
        license=license.pk,
        product=license.product_id,
        edition=license.edition,
        seats=license.seats,
        starts_on=license.starts_on.isoformat(),
        ends_on=license.ends_on.isoformat(),
    )
    record(SuccessEvent, created, organization_id=license.organization_id, actor=actor)
    return license


def usage_errors(
    license: License, *, seats_in_use: int, basic_users: int, advanced_users: int
) -> dict[str, str]:
    errors = {}
    for name, value in (
        ("seats_in_use", seats_in_use),
        ("basic_users", basic_users),
        ("advanced_users", advanced_users),
    ):
        if value < 0:
            errors[name] = "A count of seats or users cannot be negative."
    if "seats_in_use" not in errors and seats_in_use > license.seats and not license.allow_overuse:
        errors["seats_in_use"] = (
            f"{seats_in_use} seats in use is more than the {license.seats} seats sold; "
            "this license does not allow usage above its seats."
        )
    return errors


@transaction.atomic
def do_report_usage(
    license: License,
    *,
    period: dt.date,
    seats_in_use: int,
    basic_users: int = 0,
    advanced_users: int = 0,
    actor: User | None,
) -> LicenseUsage:
    """Record a license's usage for the month of ``period`` (any day stands for its month).
    A second report for the same month replaces the figures; the event keeps the
    previous ones. Usage above the seats is refused unless the license allows it."""
    license = License.objects.select_for_update().get(pk=license.pk)
    month = period.replace(day=1)
    counts = {
        "seats_in_use": seats_in_use,
        "basic_users": basic_users,
        "advanced_users": advanced_users,
    }
    if errors := usage_errors(license, **counts):
        raise ValidationError(errors)
    usage = LicenseUsage.objects.filter(license=license, period=month).first()
    previous = None
    if usage is None:
        usage = LicenseUsage(license=license, period=month)
    else:
        previous = {name: getattr(usage, name) for name in counts}
    for name, value in counts.items():
        setattr(usage, name, value)
    usage.reported_at = timezone.now()
    save_validated(usage)
    reported = events.LicenseUsageReported(
        license=license.pk, period=f"{month:%Y-%m}", previous=previous, **counts
    )
    record(SuccessEvent, reported, organization_id=license.organization_id, actor=actor)
    return usage
