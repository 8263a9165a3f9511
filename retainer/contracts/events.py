"""The typed events of plans, contracts, ledgers, decisions and training (history:
``ContractEvent``).

What each event is about lives in the history row's columns (``plan``, ``contract``,
``decision``, ``actor``), not in the payload. Quantities are in the ledger's unit
(incidents, or minutes for hour contracts); money is a decimal string with its currency.

A customer reads the events of their own organization's contracts: what the contract and
ledger endpoints already show them (prices, quantities, balances, named contacts). Why a
contract was cancelled, how a decision was overridden and plan changes are staff-only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from retainer.contracts.choices import ContractEventType
from retainer.lib.events import Event


@dataclass(frozen=True, kw_only=True)
class ContractEventBase(Event):
    history = "contracts.contractevent"


# --- Plans ---------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class PlanCreated(ContractEventBase):
    """The first version of a support plan."""

    name = "plan.created"
    type = ContractEventType.PLAN_CREATED

    code: str
    version: int


@dataclass(frozen=True, kw_only=True)
class PlanVersioned(ContractEventBase):
    """The next version of a plan; contracts already sold keep their terms."""

    name = "plan.versioned"
    type = ContractEventType.PLAN_VERSIONED

    code: str
    version: int
    #: ``{term: {"old": …, "new": …}}`` of the terms that changed.
    changes: dict[str, dict[str, Any]]


# --- Contracts -----------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ContractCreated(ContractEventBase):
    """A contract was sold (its first grant is a ledger entry)."""

    name = "contract.created"
    type = ContractEventType.CONTRACT_CREATED
    customer_fields = frozenset({"preset", "price", "currency"})

    preset: str
    price: str
    currency: str


@dataclass(frozen=True, kw_only=True)
class ContractRenewed(ContractEventBase):
    """The contract's next term started as contract ``renewal`` (on the old term's row)."""

    name = "contract.renewed"
    type = ContractEventType.CONTRACT_RENEWED
    customer_fields = frozenset({"renewal", "price", "rolled_over"})

    old_status: str
    renewal: int
    price: str
    rolled_over: int


@dataclass(frozen=True, kw_only=True)
class ContractCancelled(ContractEventBase):
    """The contract was cancelled; ``expired`` is the unused allowance that expired."""

    name = "contract.cancelled"
    type = ContractEventType.CONTRACT_CANCELLED
    customer_fields = frozenset({"expired"})

    old: str
    reason: str
    expired: int


@dataclass(frozen=True, kw_only=True)
class ContractExpired(ContractEventBase):
    """The term ended; ``expired`` is the unused allowance that expired with it."""

    name = "contract.expired"
    type = ContractEventType.CONTRACT_EXPIRED
    customer_fields = frozenset({"expired"})

    expired: int


@dataclass(frozen=True, kw_only=True)
class ContractExpiring(ContractEventBase):
    """An active term ends within ``RETAINER_CONTRACT_EXPIRING_DAYS``: published once per
    contract and end date (a renewal's new term, or a changed end date, is announced
    again). ``end_date`` is the last covered day (ISO date); ``days_left`` counts from the
    day of the announcement."""

    name = "contract.expiring"
    type = ContractEventType.CONTRACT_EXPIRING
    customer_fields = frozenset({"organization", "end_date", "days_left"})

    organization: int
    end_date: str
    days_left: int


@dataclass(frozen=True, kw_only=True)
class ContractToppedUp(ContractEventBase):
    """Allowance added to the balance; ``price`` (if any) is billed (``LedgerEntry.price``)."""

    name = "contract.topped_up"
    type = ContractEventType.CONTRACT_TOPPED_UP
    customer_fields = frozenset({"quantity", "price", "currency", "entry"})

    quantity: int
    price: str | None
    currency: str
    entry: int


@dataclass(frozen=True, kw_only=True)
class ContractRenamed(ContractEventBase):
    """The contract's name changed."""

    name = "contract.renamed"
    type = ContractEventType.CONTRACT_RENAMED
    customer_fields = frozenset({"old", "new"})

    old: str
    new: str


@dataclass(frozen=True, kw_only=True)
class NamedContactsChanged(ContractEventBase):
    """The contacts named on the contract changed (contact ids, sorted)."""

    name = "contract.named_contacts_changed"
    type = ContractEventType.NAMED_CONTACTS_CHANGED
    customer_fields = frozenset({"old", "new"})

    old: list[int]
    new: list[int]


# --- The ledger ----------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class LedgerAdjusted(ContractEventBase):
    """A manual correction of the balance, with its reason (also on the ledger entry)."""

    name = "ledger.adjusted"
    type = ContractEventType.LEDGER_ADJUSTED
    customer_fields = frozenset({"quantity", "reason", "entry"})

    quantity: int
    reason: str
    entry: int


@dataclass(frozen=True, kw_only=True)
class LowBalance(ContractEventBase):
    """The balance went from above the low-balance threshold to at or below it."""

    name = "contract.balance_low"
    type = ContractEventType.LOW_BALANCE
    customer_fields = frozenset({"balance", "threshold", "entry"})

    balance: int
    threshold: int | None
    entry: int


@dataclass(frozen=True, kw_only=True)
class ExhaustedBalance(ContractEventBase):
    """The balance went from above zero to zero or below: the allowance is used up (once
    per crossing; a top-up above zero lets the next draw-down cross again)."""

    name = "contract.balance_exhausted"
    type = ContractEventType.EXHAUSTED_BALANCE
    customer_fields = frozenset({"balance", "entry"})

    balance: int
    entry: int


@dataclass(frozen=True, kw_only=True)
class NegativeBalance(ContractEventBase):
    """The balance went below zero (``allow`` policy)."""

    name = "contract.balance_negative"
    type = ContractEventType.NEGATIVE_BALANCE
    customer_fields = frozenset({"balance", "entry"})

    balance: int
    entry: int


# --- Decisions and training ----------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class DecisionRecorded(ContractEventBase):
    """Declared for completeness: a recorded decision is its own row and writes no event."""

    name = "decision.recorded"
    type = ContractEventType.DECISION_RECORDED

    outcome: str = ""
    reason: str = ""
    source_type: str = ""
    source_id: str = ""


@dataclass(frozen=True, kw_only=True)
class DecisionOverridden(ContractEventBase):
    """An agent overrode a decision; ``old``/``new`` are ``{"outcome", "contract"}``."""

    name = "decision.overridden"
    type = ContractEventType.DECISION_OVERRIDDEN

    old: dict[str, Any]
    new: dict[str, Any]
    reason: str


@dataclass(frozen=True, kw_only=True)
class TrainingRecorded(ContractEventBase):
    """A contact completed a course (``completed_on``: ISO date), or completed it again
    (``renewed``); ``expires_on`` is the first day the record no longer counts (ISO date,
    ``None``: never)."""

    name = "training.recorded"
    type = ContractEventType.TRAINING_RECORDED
    customer_fields = frozenset({"course", "completed_on", "expires_on", "certificate"})

    contact: int
    course: str
    completed_on: str
    expires_on: str | None = None
    certificate: str = ""
    renewed: bool = False
