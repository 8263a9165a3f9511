"""Billing runs, invoices and their lines, billed items, credit notes and renewal quotes.

Ledger rows belong to contracts and are never updated, so "this item is billed" is
recorded here, in ``BilledItem``: one row per billable source (contract term fee, ledger
entry, …), unique on its source key while it is not released. Invoices are drafts until
issued; issuing gives them the next number of their series and freezes them.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from django.db import models
from django.utils import timezone

from retainer.accounts.models import Contact, Organization, User
from retainer.billing.choices import (
    RUN_FINISHED_STATUSES,
    BillingEventType,
    InvoiceStatus,
    ItemKind,
    LineUnit,
    QuoteStatus,
    RunStatus,
    ServicePricing,
    ServiceQuoteStatus,
)
from retainer.cases.models import Case
from retainer.catalog.models import ServiceOffering
from retainer.contracts.models import Contract, LedgerEntry
from retainer.lib.money import AmountField, CurrencyField, validate_currency


class ImmutableError(Exception):
    """Raised when code tries to change an issued invoice or credit note."""


class BillingProfile(models.Model):
    """How one organization is invoiced: its tax rate (percent) and label, its tax number
    and the billing address printed on its invoices."""

    organization = models.OneToOneField(
        Organization, on_delete=models.PROTECT, related_name="billing_profile"
    )
    tax_rate = models.DecimalField(
        max_digits=6, decimal_places=3, help_text="Percent, e.g. 19.000 for 19 %."
    )
    tax_label = models.CharField(max_length=40, default="VAT")
    tax_id = models.CharField(max_length=60, blank=True, help_text="The customer's tax number.")
    billing_address = models.TextField(
        blank=True, max_length=500, help_text="Printed on invoices as written, line by line."
    )
    billing_email = models.EmailField(blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(tax_rate__gte=0) & models.Q(tax_rate__lte=100),
                name="billing_profile_tax_rate_percent",
                violation_error_message="The tax rate is a percentage between 0 and 100.",
            )
        ]

    def __str__(self) -> str:
        return f"Billing profile of {self.organization}"


class NumberSeries(models.Model):
    """The counter of one number series (``INV-2026``, ``CN-2026``).

    A number is taken only inside the transaction that issues the document, with the
    row locked (``SELECT … FOR UPDATE``), so a rolled-back issue leaves no gap.
    """

    name = models.CharField(max_length=20, unique=True)
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name_plural = "number series"

    def __str__(self) -> str:
        return f"{self.name} (last {self.last_number})"


#: A running run whose heartbeat is older than this has lost its worker (killed, or the
#: machine went away): it may be continued.
RUN_STALE_AFTER = dt.timedelta(minutes=10)


class BillingRun(models.Model):
    """A job that bills one period, for one organization or for all of them.

    ``items_done`` / ``items_total`` is the progress, written in the same transaction as
    each batch of invoices, so it always describes what is committed; ``heartbeat_at``
    is the time of the last batch. The rate and the time left are derived from them.
    """

    period = models.DateField(help_text="First day of the billed calendar month.")
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    issue = models.BooleanField(default=True, help_text="Issue the invoices it creates.")
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.PENDING)
    items_total = models.PositiveIntegerField(default=0)
    items_done = models.PositiveIntegerField(default=0)
    invoices_created = models.PositiveIntegerField(default=0)
    lines_created = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Billing run {self.pk} for {self.period:%Y-%m} ({self.status})"

    @property
    def is_succeeded(self) -> bool:
        return self.status == RunStatus.SUCCEEDED

    def is_alive(self, now: dt.datetime) -> bool:
        """Running, with a worker that wrote a batch less than ``RUN_STALE_AFTER`` ago."""
        return (
            self.status == RunStatus.RUNNING
            and self.heartbeat_at is not None
            and now - self.heartbeat_at < RUN_STALE_AFTER
        )

    @property
    def progress_percent(self) -> int:
        if not self.items_total:
            return 100 if self.is_succeeded else 0
        return self.items_done * 100 // self.items_total

    @property
    def items_per_second(self) -> float | None:
        """Items billed per second since the run first started, up to its last batch
        (``None`` before the first batch). A continued run counts its pause too."""
        if self.started_at is None or self.heartbeat_at is None or not self.items_done:
            return None
        seconds = (self.heartbeat_at - self.started_at).total_seconds()
        return None if seconds <= 0 else round(self.items_done / seconds, 1)

    @property
    def seconds_left(self) -> int | None:
        """The estimated seconds to the end at the current rate, counted from the last
        batch; ``None`` when there is no rate yet, 0 once the run is finished."""
        if self.status in RUN_FINISHED_STATUSES:
            return 0
        rate = self.items_per_second
        if not rate:
            return None
        return math.ceil(max(self.items_total - self.items_done, 0) / rate)


class Invoice(models.Model):
    """An invoice to one organization in one currency.

    A draft may change; an issued invoice is frozen (``save`` refuses anything but the
    status fields), and corrections are credit notes. Amounts are rounded: each line
    once, the tax once on the subtotal.
    """

    #: Fields that still change after issuing (the status workflow).
    AFTER_ISSUE_FIELDS = frozenset(
        {"status", "paid_at", "payment_reference", "voided_at", "void_reason"}
    )

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="invoices"
    )
    currency = CurrencyField(validators=[validate_currency])
    status = models.CharField(
        max_length=10, choices=InvoiceStatus.choices, default=InvoiceStatus.DRAFT
    )
    number = models.CharField(max_length=30, null=True, blank=True, unique=True)
    period_start = models.DateField()
    period_end = models.DateField(help_text="Last day of the period (inclusive).")
    run = models.ForeignKey(
        BillingRun, on_delete=models.PROTECT, null=True, blank=True, related_name="invoices"
    )
    subtotal = AmountField(default=0)
    tax_rate = models.DecimalField(max_digits=6, decimal_places=3, default=0)
    tax_label = models.CharField(max_length=40, default="VAT")
    tax_amount = AmountField(default=0)
    total = AmountField(default=0)
    notes = models.TextField(blank=True)
    issued_at = models.DateTimeField(null=True, blank=True)
    due_date = models.DateField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    payment_reference = models.CharField(max_length=120, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    void_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["organization", "status"]),
            models.Index(fields=["period_start", "status"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status=InvoiceStatus.DRAFT)
                | models.Q(number__isnull=True, status=InvoiceStatus.VOID)
                | models.Q(number__isnull=False),
                name="billing_invoice_number_when_issued",
                violation_error_message="An issued invoice has a number.",
            ),
        ]

    def __str__(self) -> str:
        return self.number or f"Draft invoice {self.pk}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        loaded = getattr(self, "_loaded_status", None)
        if not self._state.adding and loaded not in (None, InvoiceStatus.DRAFT):
            fields = kwargs.get("update_fields")
            if fields is None or not set(fields) <= self.AFTER_ISSUE_FIELDS:
                raise ImmutableError(f"Invoice {self} is issued; it cannot be edited.")
        super().save(*args, **kwargs)
        self._loaded_status: str | None = self.status

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise ImmutableError("Invoices are never deleted; void them instead.")

    @classmethod
    def from_db(cls, db: Any, field_names: Any, values: Any) -> Invoice:
        instance = super().from_db(db, field_names, values)
        instance._loaded_status = instance.__dict__.get("status")
        return instance


class InvoiceLine(models.Model):
    """One line: ``amount`` is ``unit_price × quantity`` rounded once, half-up.

    For hour lines ``minutes`` is the exact quantity (``quantity`` shows it in hours) and
    the amount is ``unit_price × minutes / 60`` rounded once.
    """

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="lines")
    position = models.PositiveIntegerField(default=0)
    kind = models.CharField(max_length=10, choices=ItemKind.choices)
    description = models.CharField(max_length=500)
    quantity = models.DecimalField(max_digits=14, decimal_places=4)
    unit = models.CharField(max_length=10, choices=LineUnit.choices)
    minutes = models.IntegerField(null=True, blank=True)
    unit_price = models.DecimalField(max_digits=14, decimal_places=4)
    amount = models.DecimalField(max_digits=14, decimal_places=4)
    contract = models.ForeignKey(
        Contract, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    period_start = models.DateField()
    period_end = models.DateField()
    item_count = models.PositiveIntegerField(default=0, help_text="Billed items on this line.")

    class Meta:
        ordering = ["invoice", "position", "id"]

    def __str__(self) -> str:
        return self.description

    def save(self, *args: Any, **kwargs: Any) -> None:
        status = Invoice.objects.values_list("status", flat=True).get(pk=self.invoice_id)
        if status != InvoiceStatus.DRAFT:
            raise ImmutableError("The invoice is issued; its lines cannot change.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise ImmutableError("Invoice lines are never deleted.")


class BilledItem(models.Model):
    """One billable source on one invoice: the once-only record.

    ``source_key`` names the source (``contract:12:fee``, ``ledger:345``); it is unique
    among rows that are not released, so the same source can never be billed twice,
    whatever runs overlap or are killed. Voiding an invoice releases its items so the
    next run bills them again. ``line`` is empty when items netted to nothing (a
    consumption reversed before it was billed).
    """

    source_key = models.CharField(max_length=80)
    kind = models.CharField(max_length=10, choices=ItemKind.choices)
    # Indexes are kept to what reads need (the once-only key, by ledger entry, by
    # contract and kind, by invoice): a run inserts one row per billed item.
    contract = models.ForeignKey(
        Contract, on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    ledger_entry = models.ForeignKey(
        LedgerEntry, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    quantity = models.IntegerField(default=1, help_text="Minutes, incidents, or 1.")
    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, null=True, blank=True, related_name="items"
    )
    line = models.ForeignKey(
        InvoiceLine,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="items",
        db_index=False,
    )
    run = models.ForeignKey(
        BillingRun,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="items",
        db_index=False,
    )
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["contract", "kind"], name="billing_item_contract_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["source_key"],
                condition=models.Q(released_at__isnull=True),
                name="billing_item_billed_once",
                violation_error_message="This item is already billed.",
            )
        ]

    def __str__(self) -> str:
        return self.source_key


class CreditNote(models.Model):
    """A correction of an issued invoice, numbered in its own series; never edited."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="credit_notes")
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="credit_notes"
    )
    number = models.CharField(max_length=30, unique=True)
    currency = CurrencyField(validators=[validate_currency])
    reason = models.TextField()
    subtotal = AmountField(default=0)
    tax_rate = models.DecimalField(max_digits=6, decimal_places=3, default=0)
    tax_amount = AmountField(default=0)
    total = AmountField(default=0)
    issued_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.number

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ImmutableError("Credit notes are never edited.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise ImmutableError("Credit notes are never deleted.")


class CreditNoteLine(models.Model):
    credit_note = models.ForeignKey(CreditNote, on_delete=models.PROTECT, related_name="lines")
    invoice_line = models.ForeignKey(
        InvoiceLine, on_delete=models.PROTECT, related_name="credit_lines"
    )
    description = models.CharField(max_length=500)
    amount = AmountField()

    class Meta:
        ordering = ["credit_note", "id"]

    def __str__(self) -> str:
        return self.description


class RenewalQuote(models.Model):
    """The offer to renew a contract approaching its end, with the uplift applied."""

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="renewal_quotes")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=QuoteStatus.choices, default=QuoteStatus.OPEN)
    current_price = AmountField()
    price = AmountField(help_text="The next term's price, uplift applied.")
    uplift_percent = models.DecimalField(max_digits=7, decimal_places=3, default=0)
    currency = CurrencyField(validators=[validate_currency])
    term_start = models.DateField()
    valid_until = models.DateField()
    renewal = models.OneToOneField(
        Contract, on_delete=models.PROTECT, null=True, blank=True, related_name="renewal_quote"
    )
    accepted_on = models.DateField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["valid_until", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["contract"],
                name="billing_one_renewal_quote_per_term",
                violation_error_message="This term already has a renewal quote.",
            )
        ]

    def __str__(self) -> str:
        return f"Renewal quote for contract {self.contract_id}"


class BillingEvent(models.Model):
    """Append-only history of runs, invoices, credit notes, profiles and quotes.

    Written only through ``retainer.lib.events.record`` with the typed events of
    ``billing/events.py``, so every row has its outbox message."""

    type = models.CharField(max_length=30, choices=BillingEventType.choices)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    run = models.ForeignKey(
        BillingRun, on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    credit_note = models.ForeignKey(
        CreditNote, on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    quote = models.ForeignKey(
        RenewalQuote, on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    # Professional services: what a quote's or an engagement's event is about.
    service_quote = models.ForeignKey(
        "ServiceQuote", on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    engagement = models.ForeignKey(
        "Engagement", on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.type} at {self.created_at:%Y-%m-%d %H:%M}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ImmutableError("Billing events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise ImmutableError("Billing events are never deleted.")


# --- Professional services: quotes, engagements, milestones, time ----------------------------


class ServiceQuote(models.Model):
    """A priced offer of one catalogue service to one organization, optionally for a case
    whose request was out of scope.

    The price, its unit, the currency and the terms are copied from the offering when the
    quote is made (standard, non-negotiable terms): a later change to the catalogue never
    changes a quote. ``amount`` is the total of a fixed-price quote, or the rate per hour
    of a time-and-materials one. Quotes are never deleted; a draft is withdrawn.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="service_quotes"
    )
    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    offering = models.ForeignKey(ServiceOffering, on_delete=models.PROTECT, related_name="+")
    title = models.CharField(max_length=120, help_text="The offering's name when quoted.")
    scope = models.TextField(
        blank=True, max_length=5000, help_text="What the work covers, in the vendor's words."
    )
    pricing = models.CharField(max_length=15, choices=ServicePricing.choices)
    amount = AmountField(help_text="The fixed price, or the rate per hour.")
    currency = CurrencyField(validators=[validate_currency])
    terms = models.TextField(help_text="The standard terms, copied when quoted.")
    status = models.CharField(
        max_length=10, choices=ServiceQuoteStatus.choices, default=ServiceQuoteStatus.DRAFT
    )
    valid_until = models.DateField(help_text="The last day the customer may accept.")
    created_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        Contact, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decline_reason = models.TextField(blank=True, max_length=2000)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "status"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gte=0),
                name="billing_service_quote_amount_non_negative",
                violation_error_message="A quote's amount cannot be negative.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.number}: {self.title}"

    @property
    def number(self) -> str:
        """``SQ-00012``: derived from the primary key, so it never needs a query."""
        return f"SQ-{self.pk or 0:05d}"

    @property
    def is_fixed_price(self) -> bool:
        return self.pricing == ServicePricing.FIXED

    def is_expired_on(self, day: dt.date) -> bool:
        """Sent and past its last valid day (the status may not say so yet)."""
        return self.status == ServiceQuoteStatus.SENT and day > self.valid_until


class Engagement(models.Model):
    """The paid work an accepted quote started: fixed-price milestones, or time logged at
    the quote's hourly rate. Billed by the billing run, each milestone and time entry once.
    """

    quote = models.OneToOneField(ServiceQuote, on_delete=models.PROTECT, related_name="engagement")
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="engagements"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Engagement for {self.quote_id and self.quote.number}"


class EngagementMilestone(models.Model):
    """One billable part of a fixed-price engagement. The current milestones (not
    ``replaced_at``) add up exactly to the quote's amount; a split replaces them, keeping
    the old rows. Billed once delivered (``delivered_on``, organization-local)."""

    engagement = models.ForeignKey(Engagement, on_delete=models.PROTECT, related_name="milestones")
    position = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    amount = AmountField()
    delivered_on = models.DateField(null=True, blank=True)
    delivered_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    replaced_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["engagement", "position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gte=0),
                name="billing_milestone_amount_non_negative",
                violation_error_message="A milestone's amount cannot be negative.",
            ),
            models.UniqueConstraint(
                fields=["engagement", "position"],
                condition=models.Q(replaced_at__isnull=True),
                name="billing_milestone_position_once",
            ),
        ]

    def __str__(self) -> str:
        return f"Milestone {self.position}: {self.title}"


class EngagementTimeEntry(models.Model):
    """Work on a time-and-materials engagement, in minutes, billed once at the quote's
    hourly rate. Service time never draws on a support contract's allowance, so it is
    not a case's ``TimeEntry``."""

    engagement = models.ForeignKey(
        Engagement, on_delete=models.PROTECT, related_name="time_entries"
    )
    agent = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    work_date = models.DateField()
    minutes = models.PositiveIntegerField()
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-work_date", "-id"]
        verbose_name_plural = "engagement time entries"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(minutes__gt=0),
                name="billing_engagement_time_minutes_positive",
                violation_error_message="Log at least one minute.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.minutes} min on engagement {self.engagement_id}"
