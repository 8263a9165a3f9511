"""Support plans, contracts, the allowance ledger, entitlement decisions and training.

Money is ``Decimal`` with a currency; allowances are integers (incidents, or minutes
for hours). Ledger entries and events are append-only: the model refuses updates
and deletes, and database triggers (migration ``0002``) refuse them too.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from retainer.accounts.models import Contact, Organization, User
from retainer.catalog.models import Product
from retainer.contracts.choices import (
    AllowanceUnit,
    ContractEventType,
    ContractStatus,
    EntryKind,
    Outcome,
    Preset,
    SourceType,
    Tier,
)
from retainer.contracts.terms import PlanTerms
from retainer.lib.money import AmountField, CurrencyField, validate_currency, validate_non_negative


class AppendOnlyError(Exception):
    """Raised when code tries to change or delete an append-only row."""


class AppendOnlyModel(models.Model):
    """Rows are inserted once and never updated or deleted."""

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise AppendOnlyError(f"{type(self).__name__} rows are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise AppendOnlyError(f"{type(self).__name__} rows are never deleted.")


NAME_MAX_LENGTH = 200


class SupportPlan(models.Model):
    """One version of a plan the vendor sells. A version is never edited once created:
    changing a plan creates the next version, and contracts keep their own snapshot."""

    code = models.SlugField(max_length=60, help_text="Stable name shared by all versions.")
    version = models.PositiveIntegerField(default=1)
    name = models.CharField(max_length=120)
    tier = models.CharField(max_length=10, choices=Tier.choices, blank=True)
    tier_rank = models.PositiveSmallIntegerField(default=0)
    preset = models.CharField(max_length=20, choices=Preset.choices)
    unit = models.CharField(max_length=10, choices=AllowanceUnit.choices)
    currency = CurrencyField(default="EUR", validators=[validate_currency])
    terms = models.JSONField(help_text="The full terms (see PlanTerms).")
    products = models.ManyToManyField(Product, blank=True, related_name="support_plans")
    is_current = models.BooleanField(default=True)
    previous = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="next_version"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["code", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["code", "version"],
                name="contracts_plan_version_unique",
                violation_error_message="This version of the plan already exists.",
            ),
            models.UniqueConstraint(
                fields=["code"],
                condition=models.Q(is_current=True),
                name="contracts_plan_one_current",
                violation_error_message="Only one version of a plan is current.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"

    @property
    def plan_terms(self) -> PlanTerms:
        return PlanTerms.from_json(self.terms)


class Contract(models.Model):
    """One organization's instance of a plan for a term, with its ledger.

    ``terms`` is the snapshot of what was sold. ``balance`` caches the sum of the
    ledger entries and is only ever written in the transaction that writes an entry,
    while the contract row is locked.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="contracts"
    )
    name = models.CharField(
        max_length=NAME_MAX_LENGTH,
        help_text="What people call it, e.g. “Globex — Gold 2027” (generated when not given).",
    )
    plan = models.ForeignKey(
        SupportPlan, on_delete=models.PROTECT, null=True, blank=True, related_name="contracts"
    )
    preset = models.CharField(max_length=20, choices=Preset.choices)
    unit = models.CharField(max_length=10, choices=AllowanceUnit.choices)
    terms = models.JSONField(help_text="Snapshot of the plan terms when sold.")
    status = models.CharField(
        max_length=10, choices=ContractStatus.choices, default=ContractStatus.ACTIVE
    )
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True, help_text="Last covered day; empty: none.")
    purchase_date = models.DateField(null=True, blank=True)
    purchase_price = AmountField(null=True, blank=True, validators=[validate_non_negative])
    price = AmountField(validators=[validate_non_negative], help_text="Price of this term.")
    currency = CurrencyField(validators=[validate_currency])
    named_engineer = models.BooleanField(default=False)
    extra_named_contacts = models.PositiveIntegerField(default=0)
    named_contacts = models.ManyToManyField(Contact, blank=True, related_name="contracts")
    covered_products = models.ManyToManyField(Product, related_name="contracts")
    term_number = models.PositiveIntegerField(default=1)
    previous = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="renewal"
    )
    balance = models.IntegerField(default=0, help_text="Sum of the ledger entries (cached).")
    low_balance_at = models.IntegerField(null=True, blank=True)
    low_balance_warned = models.BooleanField(default=False)
    expiry_announced_for = models.DateField(
        null=True,
        blank=True,
        editable=False,
        help_text="The end date ``contract.expiring`` was published for (once per end date).",
    )
    reference = models.CharField(max_length=60, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-start_date", "-id"]
        indexes = [models.Index(fields=["organization", "status"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_date__isnull=True)
                | models.Q(end_date__gte=models.F("start_date")),
                name="contracts_contract_end_after_start",
                violation_error_message="The term cannot end before it starts.",
            ),
            models.CheckConstraint(
                condition=models.Q(price__gte=0),
                name="contracts_contract_price_non_negative",
                violation_error_message="The price cannot be negative.",
            ),
        ]

    def __str__(self) -> str:
        return self.name or f"{self.get_preset_display()} {self.start_date:%Y}"

    @property
    def plan_terms(self) -> PlanTerms:
        """The sold terms, parsed once per loaded row (a snapshot never changes)."""
        cached: tuple[object, PlanTerms] | None = getattr(self, "_plan_terms", None)
        if cached is None or cached[0] is not self.terms:
            cached = (self.terms, PlanTerms.from_json(self.terms))
            self._plan_terms = cached
        return cached[1]


class LedgerEntry(AppendOnlyModel):
    """An append-only movement of a contract's allowance.

    ``quantity`` is signed and is what the balance sums. ``overage_quantity`` is the
    billable part beyond the balance (never in the balance), priced later by billing at
    ``overage_rate`` (per hour for hour contracts, per incident otherwise) in
    ``currency``. A reversal negates both quantities of the entry it reverses.
    ``price`` is what a priced top-up costs, in ``currency``.

    ``case`` and ``time_entry`` link the entry to what it was drawn for; the ledger fills
    them from ``source_type``/``source_id`` when it writes the entry (cases sit above
    this app, so the links name their models by label).
    """

    # Led by the (contract, key) unique index.
    contract = models.ForeignKey(
        Contract, on_delete=models.PROTECT, related_name="ledger", db_index=False
    )
    kind = models.CharField(max_length=10, choices=EntryKind.choices)
    quantity = models.IntegerField()
    overage_quantity = models.IntegerField(default=0)
    overage_rate = AmountField(null=True, blank=True)
    price = AmountField(null=True, blank=True, validators=[validate_non_negative])
    currency = models.CharField(max_length=3, blank=True)
    balance_after = models.IntegerField()
    key = models.CharField(max_length=255, help_text="Idempotency key, unique per contract.")
    source_type = models.CharField(max_length=20, choices=SourceType.choices)
    source_id = models.CharField(max_length=64, blank=True)
    case = models.ForeignKey(
        "cases.Case",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_entries",
    )
    time_entry = models.ForeignKey(
        "cases.TimeEntry",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_entries",
    )
    reason = models.TextField(blank=True)
    reverses = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversed_by"
    )
    actor = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["contract", "id"]
        verbose_name_plural = "ledger entries"
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "key"],
                name="contracts_ledger_key_unique",
                violation_error_message="This movement was already recorded.",
            ),
            models.CheckConstraint(
                condition=~models.Q(key=""), name="contracts_ledger_key_not_empty"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.quantity:+d} on contract {self.contract_id}"


class ContractEvent(AppendOnlyModel):
    """Append-only history of plans, contracts and decisions (incl. low-balance warnings)."""

    type = models.CharField(max_length=40, choices=ContractEventType.choices)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    plan = models.ForeignKey(
        SupportPlan, on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    contract = models.ForeignKey(
        Contract, on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    decision = models.ForeignKey(
        "EntitlementDecision",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="events",
    )
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.type} at {self.created_at:%Y-%m-%d %H:%M}"


class EntitlementDecision(models.Model):
    """The recorded answer to "is this request covered, and by which contract".

    The computed outcome stays as it was; an agent's override is stored beside it with
    the reason and is recorded as an event.
    """

    source_type = models.CharField(max_length=20, choices=SourceType.choices)
    source_id = models.CharField(max_length=64, blank=True)
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="entitlement_decisions"
    )
    # One row per intake: the links nobody looks decisions up by have no index (a
    # contact, product or user is deactivated, never deleted).
    contact = models.ForeignKey(
        Contact, on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    channel = models.CharField(max_length=10)
    decided_on = models.DateField()
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    reason = models.CharField(max_length=40, blank=True)
    offering_kind = models.CharField(max_length=20, blank=True)
    sentence = models.TextField()
    contract = models.ForeignKey(
        Contract, on_delete=models.PROTECT, null=True, blank=True, related_name="decisions"
    )
    considered = models.JSONField(default=list)
    facts = models.JSONField(default=dict)
    override_outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)
    override_contract = models.ForeignKey(
        Contract, on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    override_reason = models.TextField(blank=True)
    overridden_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    overridden_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["source_type", "source_id"])]
        permissions = [("override_entitlementdecision", "Can override entitlement decisions")]

    def __str__(self) -> str:
        return f"{self.effective_outcome} for {self.source_type} {self.source_id}".strip()

    @property
    def effective_outcome(self) -> str:
        return self.override_outcome or self.outcome

    @property
    def effective_contract_id(self) -> int | None:
        return self.override_contract_id if self.override_outcome else self.contract_id


class TrainingRecord(models.Model):
    """A course a contact completed (their certificate); trained-only plans require a
    current one. ``expires_on`` is the first day the record no longer counts (``None``:
    it never expires); completing the course again renews the same record."""

    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="training_records")
    course = models.CharField(max_length=120)
    completed_on = models.DateField()
    expires_on = models.DateField(
        null=True, blank=True, help_text="The first day it no longer counts; empty: never."
    )
    certificate = models.CharField(
        max_length=40, blank=True, help_text="The certificate number, when one was issued."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-completed_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                "contact",
                Lower("course"),
                name="contracts_training_once_per_course",
                violation_error_message="This contact already has this course on record.",
            ),
            models.CheckConstraint(
                condition=models.Q(expires_on__isnull=True)
                | models.Q(expires_on__gt=models.F("completed_on")),
                name="contracts_training_expires_after_completion",
                violation_error_message="A training expires after the day it was completed.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.course} ({self.completed_on:%Y-%m-%d})"

    def is_current(self, on: dt.date) -> bool:
        """Whether the record counts on ``on``: it has not reached ``expires_on``."""
        return self.expires_on is None or on < self.expires_on
