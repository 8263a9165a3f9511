"""Professional services: quotes for out-of-scope work, and the engagements they start.

A **quote** copies a catalogue offering's price, unit, currency and terms (standard and
non-negotiable) for one organization, optionally for one case. Staff draft and send it;
the customer accepts or declines it in the portal or the API. Accepting starts an
**engagement**: fixed price → milestones that add up to the quote's amount (one of the
full amount to begin with), billed when delivered; time and materials → time entries,
billed at the quote's hourly rate. The billing run bills each milestone and each time
entry exactly once (``run.collect_services``, item keys ``milestone:<id>`` and
``engagement-time:<id>``).

``do_*`` actions change state (atomic, with their typed events in ``billing/events.py``);
``check_*`` functions are every door's entry point: who may do it (``NotPermitted``, or
``NotFound`` for what the actor may not see), then the raw input, then the action.
Who may decide a quote: a customer administrator of its organization, or — for a quote
on a case — the contact who opened the case. Other contacts of the organization see it
but may not decide (403).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.http import Http404
from django.utils import timezone

from retainer.accounts.access import customer_contact
from retainer.accounts.models import Contact, Organization, User
from retainer.billing import events
from retainer.billing.access import access_engagement, access_service_quote
from retainer.billing.checks import _require
from retainer.billing.choices import ServicePricing, ServiceQuoteStatus
from retainer.billing.models import (
    BillingEvent,
    Engagement,
    EngagementMilestone,
    EngagementTimeEntry,
    ServiceQuote,
)
from retainer.cases.models import Case
from retainer.catalog.choices import PriceUnit
from retainer.catalog.models import ServiceOffering
from retainer.lib.errors import Conflict, InvalidInput, NotFound, NotPermitted
from retainer.lib.events import record
from retainer.lib.models import save_validated
from retainer.lib.money import round_amount

#: Days a quote stays valid unless staff say otherwise, and the longest they may say.
DEFAULT_VALID_DAYS = 30
MAX_VALID_DAYS = 365
MAX_MILESTONES = 20
#: One time entry covers at most a day.
MAX_ENTRY_MINUTES = 24 * 60

#: The standard terms every services quote carries after the offering's own description.
STANDARD_TERMS = (
    "Standard terms of professional services. The price is the catalogue's standard "
    "price and is not negotiable. Fixed price: the price covers the work described; each "
    "milestone is invoiced once, in the month it is delivered. Time and materials: time "
    "is logged in minutes and invoiced monthly at the hourly rate, each line rounded once "
    "to the currency's minor unit. Prices exclude tax, which is added at the rate of your "
    "billing profile. Invoices are payable within 30 days. Accepting the quote orders the "
    "work on these terms."
)

# The permissions of each operation (the same for the console and the API).
QUOTE_SERVICES = ("billing.add_servicequote",)
CHANGE_SERVICE_QUOTE = ("billing.change_servicequote",)
CHANGE_ENGAGEMENT = ("billing.change_engagement",)
LOG_ENGAGEMENT_TIME = ("billing.add_engagementtimeentry",)
VIEW_SERVICE_QUOTES = ("billing.view_servicequote",)
VIEW_ENGAGEMENTS = ("billing.view_engagement",)


def authorize_quote_services(actor: User | None) -> None:
    _require(actor, QUOTE_SERVICES)


def authorize_change_service_quote(actor: User | None) -> None:
    _require(actor, CHANGE_SERVICE_QUOTE)


def authorize_change_engagement(actor: User | None) -> None:
    _require(actor, CHANGE_ENGAGEMENT)


def authorize_log_engagement_time(actor: User | None) -> None:
    _require(actor, LOG_ENGAGEMENT_TIME)


def authorize_view_service_quotes(actor: User | None) -> None:
    _require(actor, VIEW_SERVICE_QUOTES)


def authorize_view_engagements(actor: User | None) -> None:
    _require(actor, VIEW_ENGAGEMENTS)


def local_today(organization: Organization) -> dt.date:
    """Today in the organization's time zone (quotes are valid to the end of their day)."""
    return timezone.now().astimezone(ZoneInfo(organization.time_zone)).date()


def terms_for(offering: ServiceOffering) -> str:
    """The terms a quote of ``offering`` carries: its description, then the standard terms."""
    description = offering.description.strip()
    return f"{description}\n\n{STANDARD_TERMS}" if description else STANDARD_TERMS


def pricing_for(offering: ServiceOffering) -> str:
    if offering.unit == PriceUnit.FIXED:
        return ServicePricing.FIXED
    return ServicePricing.TIME_AND_MATERIALS


# --- Quotes: actions -----------------------------------------------------------------------


def lock_service_quote(quote_id: int) -> ServiceQuote:
    """Re-read the quote row under a lock (inside ``transaction.atomic()``)."""
    return ServiceQuote.objects.select_for_update().select_related("organization").get(pk=quote_id)


@transaction.atomic
def do_create_service_quote(
    *,
    organization: Organization,
    offering: ServiceOffering,
    case: Case | None = None,
    valid_until: dt.date | None = None,
    scope: str = "",
    actor: User | None,
) -> ServiceQuote:
    """A draft quote of ``offering`` at its catalogue price, unit, currency and terms.

    Refused: a withdrawn offering, a case of another organization, a last valid day in
    the past or more than ``MAX_VALID_DAYS`` ahead."""
    if not offering.is_active:
        raise InvalidInput(
            "offering_inactive", f"{offering} is no longer offered.", field="offering"
        )
    if case is not None and case.organization_id != organization.pk:
        raise InvalidInput(
            "case_other_organization",
            f"Case {case.reference} belongs to another organization.",
            field="case",
        )
    today = local_today(organization)
    valid_until = valid_until or today + dt.timedelta(days=DEFAULT_VALID_DAYS)
    if not today <= valid_until <= today + dt.timedelta(days=MAX_VALID_DAYS):
        raise InvalidInput(
            "invalid_valid_until",
            f"A quote is valid from today up to {MAX_VALID_DAYS} days ahead.",
            field="valid_until",
        )
    quote = ServiceQuote(
        organization=organization,
        case=case,
        offering=offering,
        title=offering.name,
        scope=scope.strip(),
        pricing=pricing_for(offering),
        amount=offering.price,
        currency=offering.currency,
        terms=terms_for(offering),
        valid_until=valid_until,
        created_by=actor,
    )
    save_validated(quote)
    record(
        BillingEvent,
        events.ServiceQuoteCreated(
            number=quote.number,
            offering=offering.pk,
            case=None if case is None else case.pk,
            pricing=quote.pricing,
            amount=str(quote.amount),
            currency=quote.currency,
        ),
        actor=actor,
        service_quote=quote,
    )
    return quote


@transaction.atomic
def do_send_service_quote(quote: ServiceQuote, *, actor: User | None) -> ServiceQuote:
    """Send a draft (locks it): the customer sees it from now on. Sending a sent quote
    again changes nothing; a quote past its last valid day is refused."""
    locked = lock_service_quote(quote.pk)
    if locked.status == ServiceQuoteStatus.SENT:
        return locked
    if locked.status != ServiceQuoteStatus.DRAFT:
        raise Conflict(
            "quote_not_draft", f"Quote {locked.number} is {locked.get_status_display().lower()}."
        )
    if local_today(locked.organization) > locked.valid_until:
        raise Conflict(
            "quote_expired",
            f"Quote {locked.number} was valid until {locked.valid_until:%Y-%m-%d}; "
            "withdraw it and make a new one.",
        )
    locked.status = ServiceQuoteStatus.SENT
    locked.sent_at = timezone.now()
    locked.save(update_fields=["status", "sent_at"])
    record(
        BillingEvent,
        events.ServiceQuoteSent(number=locked.number, valid_until=locked.valid_until.isoformat()),
        actor=actor,
        service_quote=locked,
    )
    return locked


@transaction.atomic
def do_withdraw_service_quote(quote: ServiceQuote, *, actor: User | None) -> ServiceQuote:
    """Withdraw a draft or sent quote (locks it); withdrawing again changes nothing."""
    locked = lock_service_quote(quote.pk)
    if locked.status == ServiceQuoteStatus.WITHDRAWN:
        return locked
    if locked.status not in (ServiceQuoteStatus.DRAFT, ServiceQuoteStatus.SENT):
        raise Conflict(
            "quote_closed",
            f"Quote {locked.number} is {locked.get_status_display().lower()}; "
            "it can no longer be withdrawn.",
        )
    locked.status = ServiceQuoteStatus.WITHDRAWN
    locked.save(update_fields=["status"])
    record(
        BillingEvent,
        events.ServiceQuoteWithdrawn(number=locked.number),
        actor=actor,
        service_quote=locked,
    )
    return locked


def _require_open(locked: ServiceQuote) -> None:
    """Refuse a decision on a quote that is not sent, or sent but past its last day."""
    if locked.status != ServiceQuoteStatus.SENT:
        state = locked.get_status_display().lower()
        raise Conflict("quote_closed", f"Quote {locked.number} is {state}; it cannot be answered.")
    if locked.is_expired_on(local_today(locked.organization)):
        raise Conflict(
            "quote_expired",
            f"Quote {locked.number} expired on {locked.valid_until:%Y-%m-%d}; "
            "ask us for a new quote.",
        )


@transaction.atomic
def do_accept_service_quote(
    quote: ServiceQuote, *, contact: Contact, actor: User | None
) -> ServiceQuote:
    """Accept a sent quote for ``contact`` (locks it) and start its engagement: a
    fixed-price one with one milestone of the full amount. A quote accepted already, or
    expired, declined or withdrawn, is refused (409) and nothing is written (a client
    retrying after a lost answer sends an ``Idempotency-Key`` and gets the first answer)."""
    locked = lock_service_quote(quote.pk)
    if locked.status == ServiceQuoteStatus.ACCEPTED:
        raise Conflict(
            "quote_accepted",
            f"Quote {locked.number} was accepted on {locked.decided_at:%Y-%m-%d}; "
            "its engagement has started.",
        )
    _require_open(locked)
    locked.status = ServiceQuoteStatus.ACCEPTED
    locked.decided_by = contact
    locked.decided_at = timezone.now()
    locked.save(update_fields=["status", "decided_by", "decided_at"])
    engagement = Engagement.objects.create(quote=locked, organization_id=locked.organization_id)
    if locked.is_fixed_price:
        EngagementMilestone.objects.create(
            engagement=engagement, position=1, title=locked.title, amount=locked.amount
        )
    record(
        BillingEvent,
        events.ServiceQuoteAccepted(number=locked.number, contact=contact.pk),
        actor=actor,
        service_quote=locked,
        engagement=engagement,
    )
    record(
        BillingEvent,
        events.EngagementCreated(
            quote=locked.pk, pricing=locked.pricing, amount=str(locked.amount)
        ),
        actor=actor,
        service_quote=locked,
        engagement=engagement,
    )
    return locked


@transaction.atomic
def do_decline_service_quote(
    quote: ServiceQuote, *, contact: Contact, reason: str = "", actor: User | None
) -> ServiceQuote:
    """Decline a sent quote for ``contact`` (locks it); declining again changes nothing."""
    locked = lock_service_quote(quote.pk)
    if locked.status == ServiceQuoteStatus.DECLINED:
        return locked
    _require_open(locked)
    locked.status = ServiceQuoteStatus.DECLINED
    locked.decided_by = contact
    locked.decided_at = timezone.now()
    locked.decline_reason = reason.strip()
    locked.save(update_fields=["status", "decided_by", "decided_at", "decline_reason"])
    record(
        BillingEvent,
        events.ServiceQuoteDeclined(
            number=locked.number, contact=contact.pk, reason=locked.decline_reason
        ),
        actor=actor,
        service_quote=locked,
    )
    return locked


@transaction.atomic
def do_expire_service_quotes(*, actor: User | None = None) -> int:
    """Mark every sent quote past its last valid day (organization-local) expired, with
    its event; returns how many. Acceptance refuses such a quote whether or not this ran."""
    expired = 0
    candidates = ServiceQuote.objects.filter(
        status=ServiceQuoteStatus.SENT, valid_until__lt=timezone.now().date() + dt.timedelta(1)
    ).select_related("organization")
    for quote in candidates.select_for_update(of=("self",)):
        if not quote.is_expired_on(local_today(quote.organization)):
            continue
        quote.status = ServiceQuoteStatus.EXPIRED
        quote.save(update_fields=["status"])
        record(
            BillingEvent,
            events.ServiceQuoteExpired(
                number=quote.number, valid_until=quote.valid_until.isoformat()
            ),
            actor=actor,
            service_quote=quote,
        )
        expired += 1
    return expired


# --- Engagements: actions ------------------------------------------------------------------


def lock_engagement(engagement_id: int) -> Engagement:
    return (
        Engagement.objects.select_for_update(of=("self",))
        .select_related("quote", "organization")
        .get(pk=engagement_id)
    )


def current_milestones(engagement: Engagement) -> list[EngagementMilestone]:
    return list(engagement.milestones.filter(replaced_at__isnull=True).order_by("position"))


def check_milestone_amounts(
    parts: Sequence[tuple[str, Decimal]], *, total: Decimal, currency: str
) -> list[tuple[str, Decimal]]:
    """Validate a split (pure): 1 to ``MAX_MILESTONES`` parts, each with a title and a
    positive amount in the currency's minor unit, adding up exactly to ``total``."""
    if not 1 <= len(parts) <= MAX_MILESTONES:
        raise InvalidInput(
            "invalid_milestones",
            f"Split into 1 to {MAX_MILESTONES} milestones.",
            field="milestones",
        )
    cleaned = []
    for number, (title, amount) in enumerate(parts, start=1):
        title = title.strip()
        if not title or len(title) > 200:
            raise InvalidInput(
                "invalid_milestones",
                f"Milestone {number} needs a title of at most 200 characters.",
                field="milestones",
            )
        if amount <= 0 or round_amount(amount, currency) != amount:
            raise InvalidInput(
                "invalid_milestones",
                f"Milestone {number}: the amount must be positive, in whole {currency} "
                "minor units.",
                field="milestones",
            )
        cleaned.append((title, amount))
    added = sum((amount for _, amount in cleaned), Decimal(0))
    if added != total:
        raise InvalidInput(
            "milestones_sum",
            f"The milestones add up to {round_amount(added, currency)} {currency}; they must "
            "add up to the quote's "
            f"{round_amount(total, currency)} {currency} exactly.",
            field="milestones",
        )
    return cleaned


@transaction.atomic
def do_split_milestones(
    engagement: Engagement, *, parts: Sequence[tuple[str, Decimal]], actor: User | None
) -> list[EngagementMilestone]:
    """Replace a fixed-price engagement's milestones by ``parts`` (title, amount), which
    must add up exactly to the quote's amount (locks the engagement). Only while none is
    delivered: a delivered milestone is billed, so the split is refused (409)."""
    locked = lock_engagement(engagement.pk)
    quote = locked.quote
    if not quote.is_fixed_price:
        raise InvalidInput(
            "not_fixed_price", "Only a fixed-price engagement has milestones.", field="milestones"
        )
    old = current_milestones(locked)
    if any(m.delivered_on is not None for m in old):
        raise Conflict(
            "milestone_delivered", "A milestone is already delivered; the split is final."
        )
    cleaned = check_milestone_amounts(parts, total=quote.amount, currency=quote.currency)
    now = timezone.now()
    EngagementMilestone.objects.filter(pk__in=[m.pk for m in old]).update(replaced_at=now)
    new = [
        EngagementMilestone.objects.create(
            engagement=locked, position=position, title=title, amount=amount
        )
        for position, (title, amount) in enumerate(cleaned, start=1)
    ]
    record(
        BillingEvent,
        events.MilestonesSplit(
            milestones=[{"id": m.pk, "title": m.title, "amount": str(m.amount)} for m in new],
            replaced=[m.pk for m in old],
        ),
        actor=actor,
        service_quote=quote,
        engagement=locked,
    )
    return new


@transaction.atomic
def do_deliver_milestone(
    milestone: EngagementMilestone, *, actor: User | None, delivered_on: dt.date | None = None
) -> EngagementMilestone:
    """Mark a milestone delivered (locks its engagement); the next billing run bills it.
    Delivering it again changes nothing; a replaced milestone is refused."""
    engagement = lock_engagement(milestone.engagement_id)
    locked = EngagementMilestone.objects.get(pk=milestone.pk)
    if locked.delivered_on is not None:
        return locked
    if locked.replaced_at is not None:
        raise Conflict("milestone_replaced", "This milestone was replaced by a new split.")
    locked.delivered_on = delivered_on or local_today(engagement.organization)
    locked.delivered_by = actor
    locked.save(update_fields=["delivered_on", "delivered_by"])
    record(
        BillingEvent,
        events.MilestoneDelivered(
            milestone=locked.pk,
            amount=str(locked.amount),
            delivered_on=locked.delivered_on.isoformat(),
        ),
        actor=actor,
        service_quote=engagement.quote,
        engagement=engagement,
    )
    return locked


@transaction.atomic
def do_log_engagement_time(
    engagement: Engagement,
    *,
    agent: User,
    minutes: int,
    work_date: dt.date | None = None,
    note: str = "",
    actor: User | None,
) -> EngagementTimeEntry:
    """Log ``minutes`` of work on a time-and-materials engagement (locks it). Billed by
    the next run of the month of ``work_date`` or a later one."""
    locked = lock_engagement(engagement.pk)
    if locked.quote.is_fixed_price:
        raise InvalidInput(
            "not_time_and_materials",
            "A fixed-price engagement is billed by milestones, not by time.",
            field="minutes",
        )
    today = local_today(locked.organization)
    work_date = work_date or today
    if work_date > today:
        raise InvalidInput(
            "work_date_in_future", "Time cannot be logged for a future day.", field="work_date"
        )
    if not 1 <= minutes <= MAX_ENTRY_MINUTES:
        raise InvalidInput(
            "invalid_minutes",
            f"Log between 1 and {MAX_ENTRY_MINUTES} minutes.",
            field="minutes",
        )
    entry = EngagementTimeEntry(
        engagement=locked, agent=agent, work_date=work_date, minutes=minutes, note=note.strip()
    )
    save_validated(entry)
    record(
        BillingEvent,
        events.EngagementTimeLogged(
            entry=entry.pk, minutes=minutes, work_date=work_date.isoformat()
        ),
        actor=actor,
        service_quote=locked.quote,
        engagement=locked,
    )
    return entry


# --- Checks: every door's entry point ------------------------------------------------------


def _quote_for_staff(actor: User | None, quote_id: int) -> ServiceQuote:
    try:
        if actor is None:
            return ServiceQuote.objects.select_related("organization").get(pk=quote_id)
        return access_service_quote(actor, quote_id)
    except (ServiceQuote.DoesNotExist, Http404):
        raise NotFound("not_found", f"There is no services quote {quote_id}.") from None


def _engagement_for_staff(actor: User | None, engagement_id: int) -> Engagement:
    try:
        if actor is None:
            return Engagement.objects.select_related("quote").get(pk=engagement_id)
        return access_engagement(actor, engagement_id)
    except (Engagement.DoesNotExist, Http404):
        raise NotFound("not_found", f"There is no engagement {engagement_id}.") from None


def _offering(value: ServiceOffering | int | None) -> ServiceOffering:
    if isinstance(value, ServiceOffering):
        return value
    offering = ServiceOffering.objects.filter(pk=value).first() if value is not None else None
    if offering is None:
        raise InvalidInput(
            "offering_not_found", "Choose a service offering of the catalogue.", field="offering"
        )
    return offering


def check_create_service_quote(
    actor: User | None,
    *,
    offering: ServiceOffering | int | None,
    organization: Organization | int | None = None,
    case: Case | str | None = None,
    valid_until: dt.date | None = None,
    scope: str = "",
    send: bool = False,
) -> ServiceQuote:
    """Quote an offering to an organization, or on a case (its organization); ``send``
    sends it at once. Needs ``billing.add_servicequote`` (and ``change`` to send)."""
    authorize_quote_services(actor)
    if send:
        authorize_change_service_quote(actor)
    if isinstance(case, str):
        found = Case.objects.select_related("organization").filter(public_id=case).first()
        if found is None:
            raise InvalidInput("case_not_found", f"There is no case {case}.", field="case")
        case = found
    if isinstance(organization, int):
        organization = Organization.objects.filter(pk=organization).first()
    if organization is None:
        if case is None:
            raise InvalidInput(
                "organization_not_found", "Choose an organization or a case.", field="organization"
            )
        organization = case.organization
    with transaction.atomic():
        quote = do_create_service_quote(
            organization=organization,
            offering=_offering(offering),
            case=case,
            valid_until=valid_until,
            scope=scope,
            actor=actor,
        )
        if send:
            quote = do_send_service_quote(quote, actor=actor)
    return quote


def check_send_service_quote(actor: User | None, quote_id: int) -> ServiceQuote:
    authorize_change_service_quote(actor)
    return do_send_service_quote(_quote_for_staff(actor, quote_id), actor=actor)


def check_withdraw_service_quote(actor: User | None, quote_id: int) -> ServiceQuote:
    authorize_change_service_quote(actor)
    return do_withdraw_service_quote(_quote_for_staff(actor, quote_id), actor=actor)


def _deciding_contact(actor: User, quote_id: int) -> tuple[Contact, ServiceQuote]:
    """The contact deciding and the quote: another organization's quote (or a draft) is
    404; a contact who is neither a customer admin nor the case's requester is 403."""
    contact = customer_contact(actor)
    if contact is None:
        raise NotPermitted("customer_decides", "Only the customer accepts or declines a quote.")
    try:
        quote = access_service_quote(actor, quote_id)
    except Http404:
        raise NotFound("not_found", f"There is no services quote {quote_id}.") from None
    requester = quote.case.contact_id if quote.case is not None else None
    if not (contact.is_customer_admin or requester == contact.pk):
        who = " or the contact who opened the case" if requester else ""
        raise NotPermitted(
            "not_quote_decider",
            f"Only a customer administrator of {quote.organization.name}{who} may accept "
            "or decline this quote.",
        )
    return contact, quote


def check_accept_service_quote(actor: User, quote_id: int) -> ServiceQuote:
    contact, quote = _deciding_contact(actor, quote_id)
    return do_accept_service_quote(quote, contact=contact, actor=actor)


def check_decline_service_quote(actor: User, quote_id: int, *, reason: str = "") -> ServiceQuote:
    contact, quote = _deciding_contact(actor, quote_id)
    if len(reason) > 2000:
        raise InvalidInput("reason_too_long", "Keep the reason under 2,000 characters.")
    return do_decline_service_quote(quote, contact=contact, reason=reason, actor=actor)


def _decimal(value: Any, field: str) -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise InvalidInput("invalid_amount", f"{value!r} is not an amount.", field=field) from None
    if not amount.is_finite():
        raise InvalidInput("invalid_amount", f"{value!r} is not an amount.", field=field)
    return amount


def check_split_milestones(
    actor: User | None, engagement_id: int, *, parts: Sequence[tuple[str, Any]]
) -> list[EngagementMilestone]:
    authorize_change_engagement(actor)
    engagement = _engagement_for_staff(actor, engagement_id)
    cleaned = [(str(title), _decimal(amount, "milestones")) for title, amount in parts]
    return do_split_milestones(engagement, parts=cleaned, actor=actor)


def check_deliver_milestone(actor: User | None, milestone_id: int) -> EngagementMilestone:
    authorize_change_engagement(actor)
    milestone = EngagementMilestone.objects.filter(pk=milestone_id).first()
    if milestone is None:
        raise NotFound("not_found", f"There is no milestone {milestone_id}.")
    _engagement_for_staff(actor, milestone.engagement_id)
    return do_deliver_milestone(milestone, actor=actor)


def check_log_engagement_time(
    actor: User | None,
    engagement_id: int,
    *,
    minutes: int,
    work_date: dt.date | None = None,
    note: str = "",
) -> EngagementTimeEntry:
    authorize_log_engagement_time(actor)
    engagement = _engagement_for_staff(actor, engagement_id)
    if actor is None:
        raise InvalidInput("agent_required", "Time is logged by a person.", field="minutes")
    if len(note) > 500:
        raise InvalidInput("note_too_long", "Keep the note under 500 characters.", field="note")
    return do_log_engagement_time(
        engagement, agent=actor, minutes=minutes, work_date=work_date, note=note, actor=actor
    )
