"""The typed events of billing (history: ``BillingEvent``).

What an event is about lives in the history row's columns (``run``, ``invoice``,
``credit_note``, ``quote``, ``actor``), not in the payload. Amounts are decimal strings,
as the API writes them. Customers read their own organization's issued invoices, so the
number, total and void reason of an invoice are theirs to see; runs, drafts, credit
notes, profiles and quotes are staff-only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from retainer.billing.choices import BillingEventType
from retainer.lib.events import Event


@dataclass(frozen=True, kw_only=True)
class BillingEventBase(Event):
    history = "billing.billingevent"


# --- Runs ----------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class RunStarted(BillingEventBase):
    """A billing run was started for a period (queued for the job worker)."""

    name = "billing_run.started"
    type = BillingEventType.RUN_STARTED

    period: str
    organization: int | None
    issue: bool = True


@dataclass(frozen=True, kw_only=True)
class RunFinished(BillingEventBase):
    """A billing run billed everything due and not billed yet."""

    name = "billing_run.finished"
    type = BillingEventType.RUN_FINISHED

    invoices: int
    lines: int
    items: int = 0


@dataclass(frozen=True, kw_only=True)
class RunFailed(BillingEventBase):
    """A billing run stopped on an error; its finished batches stay billed."""

    name = "billing_run.failed"
    type = BillingEventType.RUN_FAILED

    error: str


# --- Invoices ------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class InvoiceCreated(BillingEventBase):
    """A draft invoice was created, by hand or by a run that leaves drafts (``run``)."""

    name = "invoice.created"
    type = BillingEventType.INVOICE_CREATED


@dataclass(frozen=True, kw_only=True)
class InvoiceChanged(BillingEventBase):
    """A draft's notes or due date changed."""

    name = "invoice.changed"
    type = BillingEventType.INVOICE_CHANGED

    #: ``{field: {"old": …, "new": …}}`` as text.
    changes: dict[str, dict[str, Any]]


@dataclass(frozen=True, kw_only=True)
class InvoiceLineAdded(BillingEventBase):
    """A manual line was added to a draft."""

    name = "invoice.line_added"
    type = BillingEventType.INVOICE_LINE_ADDED

    line: int
    amount: str


@dataclass(frozen=True, kw_only=True)
class InvoiceIssued(BillingEventBase):
    """An invoice got its number and is frozen."""

    name = "invoice.issued"
    type = BillingEventType.INVOICE_ISSUED
    customer_fields = frozenset({"number", "total"})

    number: str
    total: str


@dataclass(frozen=True, kw_only=True)
class InvoicePaid(BillingEventBase):
    """An issued invoice was marked paid."""

    name = "invoice.paid"
    type = BillingEventType.INVOICE_PAID

    reference: str


@dataclass(frozen=True, kw_only=True)
class InvoiceVoided(BillingEventBase):
    """An invoice was voided; its billed items are released for the next run."""

    name = "invoice.voided"
    type = BillingEventType.INVOICE_VOIDED
    customer_fields = frozenset({"reason"})

    reason: str
    released_items: int


# --- Credit notes, profiles, renewal quotes ------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class CreditNoteIssued(BillingEventBase):
    """A credit note corrected an issued or paid invoice."""

    name = "credit_note.issued"
    type = BillingEventType.CREDIT_NOTE_ISSUED

    number: str
    total: str


@dataclass(frozen=True, kw_only=True)
class ProfileChanged(BillingEventBase):
    """An organization's billing profile (tax rate) was created or changed."""

    name = "billing_profile.changed"
    type = BillingEventType.PROFILE_CHANGED

    organization: int
    #: ``{"tax_rate": "19.000"}``; ``None`` when the profile is new.
    old: dict[str, str] | None
    new: dict[str, str]


@dataclass(frozen=True, kw_only=True)
class QuoteCreated(BillingEventBase):
    """A contract ending soon was quoted for renewal."""

    name = "renewal_quote.created"
    type = BillingEventType.QUOTE_CREATED

    contract: int
    price: str


@dataclass(frozen=True, kw_only=True)
class QuoteAccepted(BillingEventBase):
    """A renewal quote was accepted and the contract renewed."""

    name = "renewal_quote.accepted"
    type = BillingEventType.QUOTE_ACCEPTED

    contract: int
    renewal: int
    price: str


# --- Professional services -----------------------------------------------------------------
# The rows point at ``service_quote`` and, from acceptance on, ``engagement``. A customer
# sees their own organization's quotes, so the number and amounts of these are theirs too.


@dataclass(frozen=True, kw_only=True)
class ServiceQuoteCreated(BillingEventBase):
    """A services quote was drafted from a catalogue offering (price and terms copied)."""

    name = "service_quote.created"
    type = BillingEventType.SERVICE_QUOTE_CREATED

    number: str
    offering: int
    case: int | None
    pricing: str
    amount: str
    currency: str


@dataclass(frozen=True, kw_only=True)
class ServiceQuoteSent(BillingEventBase):
    """A draft quote was sent: the customer sees it in the portal and may accept it."""

    name = "service_quote.sent"
    type = BillingEventType.SERVICE_QUOTE_SENT
    customer_fields = frozenset({"number", "valid_until"})

    number: str
    valid_until: str


@dataclass(frozen=True, kw_only=True)
class ServiceQuoteAccepted(BillingEventBase):
    """The customer accepted a sent quote; its engagement was created with it."""

    name = "service_quote.accepted"
    type = BillingEventType.SERVICE_QUOTE_ACCEPTED
    customer_fields = frozenset({"number", "contact"})

    number: str
    contact: int


@dataclass(frozen=True, kw_only=True)
class ServiceQuoteDeclined(BillingEventBase):
    """The customer declined a sent quote."""

    name = "service_quote.declined"
    type = BillingEventType.SERVICE_QUOTE_DECLINED
    customer_fields = frozenset({"number", "contact", "reason"})

    number: str
    contact: int
    reason: str


@dataclass(frozen=True, kw_only=True)
class ServiceQuoteWithdrawn(BillingEventBase):
    """The vendor withdrew a draft or sent quote before the customer answered."""

    name = "service_quote.withdrawn"
    type = BillingEventType.SERVICE_QUOTE_WITHDRAWN
    customer_fields = frozenset({"number"})

    number: str


@dataclass(frozen=True, kw_only=True)
class ServiceQuoteExpired(BillingEventBase):
    """A sent quote passed its last valid day unanswered."""

    name = "service_quote.expired"
    type = BillingEventType.SERVICE_QUOTE_EXPIRED
    customer_fields = frozenset({"number", "valid_until"})

    number: str
    valid_until: str


@dataclass(frozen=True, kw_only=True)
class EngagementCreated(BillingEventBase):
    """Accepting a quote started its engagement (fixed price: one milestone of the full
    amount; time and materials: no time yet)."""

    name = "engagement.created"
    type = BillingEventType.ENGAGEMENT_CREATED

    quote: int
    pricing: str
    amount: str


@dataclass(frozen=True, kw_only=True)
class MilestonesSplit(BillingEventBase):
    """A fixed-price engagement's milestones were replaced by new ones adding up to the
    quote's amount."""

    name = "engagement.milestones_split"
    type = BillingEventType.MILESTONES_SPLIT

    #: ``[{"id": …, "title": …, "amount": "…"}]`` of the new milestones.
    milestones: list[dict[str, Any]]
    replaced: list[int]


@dataclass(frozen=True, kw_only=True)
class MilestoneDelivered(BillingEventBase):
    """A milestone was delivered: the next billing run bills it."""

    name = "engagement.milestone_delivered"
    type = BillingEventType.MILESTONE_DELIVERED

    milestone: int
    amount: str
    delivered_on: str


@dataclass(frozen=True, kw_only=True)
class EngagementTimeLogged(BillingEventBase):
    """Time was logged on a time-and-materials engagement (billed by the next run)."""

    name = "engagement.time_logged"
    type = BillingEventType.ENGAGEMENT_TIME_LOGGED

    entry: int
    minutes: int
    work_date: str
