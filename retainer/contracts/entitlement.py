"""The entitlement decision, as a pure function over plain values (no ORM import).

Given who asks, about what, through which channel and on which day, and the
organization's contracts with their balances, decide: ``covered``,
``covered_billable``, ``warranty``, ``out_of_scope`` or ``not_entitled``. Every
contract considered is reported with the reason it was or was not chosen.

Order (docs/contracts.md describes it for people): among contracts that pass every
check, warranty first, then prepaid or included allowances (soonest-expiring first,
those with allowance left before those that would bill overage), then pay-as-you-go.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext_noop

from retainer.catalog.scope import PolicyFacts, ReleaseFacts, ScopeVerdict, evaluate_scope
from retainer.contracts.choices import (
    AllowanceUnit,
    AuthorizationPolicy,
    ContractStatus,
    ExhaustionPolicy,
    Outcome,
)


class Reason:
    """Machine reason codes, stable across versions."""

    NO_CONTRACT = "no_contract"
    CONTACT_INACTIVE = "contact_inactive"
    CONTACT_OTHER_ORGANIZATION = "contact_other_organization"
    OTHER_ORGANIZATION = "other_organization"
    NOT_ACTIVE = "contract_not_active"
    CANCELLED = "contract_cancelled"
    NOT_STARTED = "contract_not_started"
    EXPIRED = "contract_expired"
    PRODUCT_NOT_COVERED = "product_not_covered"
    CHANNEL_NOT_COVERED = "channel_not_covered"
    CONTACT_NOT_NAMED = "contact_not_named"
    CONTACT_NOT_TRAINED = "contact_not_trained"
    EXHAUSTED = "allowance_exhausted"
    NOT_PREFERRED = "not_preferred"
    CHOSEN = "chosen"


# The checks in the order they run; a contract that fails a later check got "further",
# and its reason is the one given to the customer when no contract applies.
CHECK_ORDER = [
    Reason.OTHER_ORGANIZATION,
    Reason.CANCELLED,
    Reason.NOT_ACTIVE,
    Reason.NOT_STARTED,
    Reason.EXPIRED,
    Reason.PRODUCT_NOT_COVERED,
    Reason.CHANNEL_NOT_COVERED,
    Reason.CONTACT_NOT_NAMED,
    Reason.CONTACT_NOT_TRAINED,
    Reason.EXHAUSTED,
]

SENTENCES: dict[str, str] = {
    Reason.NO_CONTRACT: gettext_noop("Your organization has no support contract for this product."),
    Reason.CONTACT_INACTIVE: gettext_noop(
        "Your contact record is inactive, so you cannot open cases."
    ),
    Reason.CONTACT_OTHER_ORGANIZATION: gettext_noop("You are not a contact of this organization."),
    Reason.OTHER_ORGANIZATION: gettext_noop(
        "Your organization has no support contract for this product."
    ),
    Reason.CANCELLED: gettext_noop("Your support contract was cancelled."),
    Reason.NOT_ACTIVE: gettext_noop("Your support contract is not active yet."),
    Reason.NOT_STARTED: gettext_noop("Your support contract has not started yet."),
    Reason.EXPIRED: gettext_noop(
        "Your support contract has expired; please contact us to renew it."
    ),
    Reason.PRODUCT_NOT_COVERED: gettext_noop("Your support contract does not cover this product."),
    Reason.CHANNEL_NOT_COVERED: gettext_noop(
        "Your support contract does not cover requests by this channel."
    ),
    Reason.CONTACT_NOT_NAMED: gettext_noop(
        "You are not a named contact on your organization's support contract; "
        "please ask one of your named contacts or your administrator."
    ),
    Reason.CONTACT_NOT_TRAINED: gettext_noop(
        "Your support contract requires contacts to complete the {course} course first."
    ),
    Reason.EXHAUSTED: gettext_noop(
        "Your support allowance is used up. We can help per incident, or you can top up your bank."
    ),
}


@dataclass(frozen=True)
class ContactFacts:
    id: int
    organization_id: int
    is_active: bool = True
    completed_courses: frozenset[str] = frozenset()  # lower-case course names


@dataclass(frozen=True)
class ContractFacts:
    """A candidate contract. ``end`` is the last covered day (None: open-ended).

    ``balance`` is in the contract's unit (incidents, or minutes for hours).
    """

    id: int
    organization_id: int
    status: str
    start: dt.date
    end: dt.date | None
    unit: str
    balance: int
    quantity: int
    exhaustion_policy: str
    is_warranty: bool = False
    product_ids: frozenset[int] = frozenset()
    channels: frozenset[str] = frozenset()
    authorization_policy: str = AuthorizationPolicy.ANY_CONTACT
    named_contact_ids: frozenset[int] = frozenset()
    required_course: str = ""
    overage_rate: Decimal = Decimal(0)
    currency: str = "EUR"

    @property
    def is_pay_as_you_go(self) -> bool:
        return (
            self.unit != AllowanceUnit.NONE
            and self.quantity == 0
            and self.exhaustion_policy == ExhaustionPolicy.BILL
        )


@dataclass(frozen=True)
class Request:
    """The (possibly hypothetical) case being decided."""

    contact: ContactFacts
    organization_id: int
    product_id: int
    channel: str
    on: dt.date
    release: ReleaseFacts | None = None
    environment_id: int | None = None
    modified_source: bool = False
    third_party: bool = False


@dataclass(frozen=True)
class Considered:
    contract_id: int
    eligible: bool
    reason: str
    billable: bool = False


@dataclass(frozen=True)
class Decision:
    outcome: str
    reason: str
    sentence: str
    contract_id: int | None = None
    considered: tuple[Considered, ...] = ()
    offering_kind: str = ""
    scope_findings: tuple[str, ...] = field(default=())

    @property
    def consumes(self) -> bool:
        return self.outcome in (Outcome.COVERED, Outcome.COVERED_BILLABLE)


def _rejection(request: Request, contract: ContractFacts) -> str | None:
    """The first check ``contract`` fails for ``request``, or None when it applies."""
    contact = request.contact
    if contract.organization_id != request.organization_id:
        return Reason.OTHER_ORGANIZATION
    if contract.status == ContractStatus.CANCELLED:
        return Reason.CANCELLED
    if contract.status == ContractStatus.DRAFT:
        return Reason.NOT_ACTIVE
    if request.on < contract.start:
        return Reason.NOT_STARTED
    if contract.status in (ContractStatus.EXPIRED, ContractStatus.RENEWED) or (
        contract.end is not None and request.on > contract.end
    ):
        return Reason.EXPIRED
    if request.product_id not in contract.product_ids:
        return Reason.PRODUCT_NOT_COVERED
    if request.channel not in contract.channels:
        return Reason.CHANNEL_NOT_COVERED
    if (
        contract.authorization_policy == AuthorizationPolicy.NAMED
        and contact.id not in contract.named_contact_ids
    ):
        return Reason.CONTACT_NOT_NAMED
    if (
        contract.authorization_policy == AuthorizationPolicy.TRAINED
        and contract.required_course.lower() not in contact.completed_courses
    ):
        return Reason.CONTACT_NOT_TRAINED
    if (
        contract.unit != AllowanceUnit.NONE
        and contract.balance <= 0
        and contract.exhaustion_policy == ExhaustionPolicy.BLOCK
    ):
        return Reason.EXHAUSTED
    return None


def _is_billable(contract: ContractFacts) -> bool:
    return contract.unit != AllowanceUnit.NONE and (
        contract.balance <= 0 and contract.exhaustion_policy == ExhaustionPolicy.BILL
    )


def _preference(contract: ContractFacts) -> tuple[int, int, dt.date, int]:
    """Sort key: warranty, then allowances with something left, then overage, then PAYG."""
    if contract.is_warranty:
        group = 0
    elif contract.is_pay_as_you_go:
        group = 3
    elif _is_billable(contract):
        group = 2
    else:
        group = 1
    return (group, 0, contract.end or dt.date.max, contract.id)


def _sentence(reason: str, contract: ContractFacts | None) -> str:
    text = SENTENCES.get(reason, gettext_noop("This request is not covered."))
    if reason == Reason.CONTACT_NOT_TRAINED and contract is not None:
        text = text.format(course=contract.required_course)
    return text


def decide(
    request: Request,
    contracts: list[ContractFacts] | tuple[ContractFacts, ...],
    *,
    scope: ScopeVerdict | None = None,
    policy: PolicyFacts | None = None,
    releases: list[ReleaseFacts] | tuple[ReleaseFacts, ...] = (),
) -> Decision:
    """Decide how ``request`` is covered by ``contracts``.

    Pass either a ready ``scope`` verdict, or the product's scope ``policy`` and
    ``releases`` to evaluate it here; with neither, the request is taken as in scope.
    Being entitled is checked before scope: an out-of-scope answer (with the matching
    service offering) goes to contacts who hold a contract that would otherwise apply.
    """
    refused = _contact_refusal(request)
    if refused is not None:
        return refused
    eligible, rejected = _partition(request, contracts)
    if not eligible:
        return _not_entitled(rejected)
    eligible.sort(key=_preference)
    chosen = eligible[0]
    considered = tuple(
        [Considered(chosen.id, True, Reason.CHOSEN, _is_billable(chosen))]
        + [Considered(c.id, True, Reason.NOT_PREFERRED, _is_billable(c)) for c in eligible[1:]]
        + [Considered(c.id, False, r) for c, r in rejected]
    )
    if scope is None and policy is not None:
        scope = _scope(request, policy, releases)
    if scope is not None and not scope.in_scope:
        return _out_of_scope(scope, considered)
    return _covered(chosen, considered)


def _contact_refusal(request: Request) -> Decision | None:
    """The answer when the contact may not ask at all, whatever the contracts."""
    contact = request.contact
    if contact.organization_id != request.organization_id:
        reason = Reason.CONTACT_OTHER_ORGANIZATION
    elif not contact.is_active:
        reason = Reason.CONTACT_INACTIVE
    else:
        return None
    return Decision(Outcome.NOT_ENTITLED, reason, _sentence(reason, None))


def _partition(
    request: Request, contracts: list[ContractFacts] | tuple[ContractFacts, ...]
) -> tuple[list[ContractFacts], list[tuple[ContractFacts, str]]]:
    """The contracts that apply, and the others with the first check each fails."""
    eligible: list[ContractFacts] = []
    rejected: list[tuple[ContractFacts, str]] = []
    for contract in contracts:
        reason = _rejection(request, contract)
        if reason is None:
            eligible.append(contract)
        else:
            rejected.append((contract, reason))
    return eligible, rejected


def _not_entitled(rejected: list[tuple[ContractFacts, str]]) -> Decision:
    """No contract applies: the reason is that of the contract that got furthest."""
    if not rejected:
        return Decision(
            Outcome.NOT_ENTITLED, Reason.NO_CONTRACT, _sentence(Reason.NO_CONTRACT, None)
        )
    furthest, reason = max(rejected, key=lambda item: CHECK_ORDER.index(item[1]))
    return Decision(
        Outcome.NOT_ENTITLED,
        reason,
        _sentence(reason, furthest),
        considered=tuple(Considered(c.id, False, r) for c, r in rejected),
    )


def _scope(
    request: Request,
    policy: PolicyFacts,
    releases: list[ReleaseFacts] | tuple[ReleaseFacts, ...],
) -> ScopeVerdict:
    return evaluate_scope(
        policy=policy,
        releases=list(releases),
        release=request.release,
        environment_id=request.environment_id,
        on=request.on,
        modified_source=request.modified_source,
        third_party=request.third_party,
    )


def _out_of_scope(scope: ScopeVerdict, considered: tuple[Considered, ...]) -> Decision:
    first = scope.findings[0]
    return Decision(
        Outcome.OUT_OF_SCOPE,
        first.code,
        " ".join(f.message for f in scope.findings)
        + " This is outside the scope of support; we can offer it as a paid service.",
        contract_id=None,
        considered=considered,
        offering_kind=first.offering_kind,
        scope_findings=tuple(scope.reason_codes),
    )


def _covered(chosen: ContractFacts, considered: tuple[Considered, ...]) -> Decision:
    """The answer when ``chosen`` covers the request: warranty, billable, or covered."""
    if chosen.is_warranty:
        outcome, sentence = Outcome.WARRANTY, gettext_noop("Your request is covered by warranty.")
    elif chosen.is_pay_as_you_go:
        outcome = Outcome.COVERED_BILLABLE
        sentence = gettext_noop(
            "Your request is covered on a pay-as-you-go basis and will be billed."
        )
    elif _is_billable(chosen):
        outcome = Outcome.COVERED_BILLABLE
        sentence = gettext_noop(
            "Your allowance is used up; this request is covered and billed as overage."
        )
    else:
        outcome, sentence = (
            Outcome.COVERED,
            gettext_noop("Your request is covered by your support contract."),
        )
    return Decision(outcome, Reason.CHOSEN, sentence, contract_id=chosen.id, considered=considered)
