"""Admin for plans, contracts, ledgers, decisions, training records and events.

Plans and contracts are created through the actions; ledgers and events are read-only;
nothing is deleted.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from retainer.accounts.access import request_user
from retainer.contracts import actions, checks
from retainer.contracts.models import (
    Contract,
    ContractEvent,
    EntitlementDecision,
    LedgerEntry,
    SupportPlan,
    TrainingRecord,
)
from retainer.lib.admin import ActionModelAdmin, EventAdmin, ReadOnlyAdmin
from retainer.lib.errors import DomainError, add_to_form, report


@admin.register(SupportPlan)
class SupportPlanAdmin(ReadOnlyAdmin):
    """Plans are versioned: create and change them through the API (new version)."""

    list_display = ("name", "code", "version", "tier", "preset", "unit", "currency", "is_current")
    list_filter = ("is_current", "preset", "unit", "tier")
    search_fields = ("name", "code")


class LedgerInline(admin.TabularInline):
    model = LedgerEntry
    fk_name = "contract"
    extra = 0
    can_delete = False
    fields = (
        "created_at",
        "kind",
        "quantity",
        "overage_quantity",
        "overage_rate",
        "price",
        "balance_after",
        "key",
        "source_type",
        "source_id",
        "actor",
        "reason",
    )
    readonly_fields = fields
    ordering = ("-id",)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ContractAdminForm(forms.ModelForm):
    """Refuses named contacts over the plan's limit (or of another organization) as a form
    error, by the rule the action applies (``actions.check_named_contacts``), so saving
    never meets the refusal half-way."""

    class Meta:
        model = Contract
        fields = ("name", "named_contacts", "reference")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        contract = self.instance
        if "named_contacts" in data and contract.pk is not None:
            try:
                actions.check_named_contacts(
                    contract.organization,
                    contract.plan_terms,
                    list(data["named_contacts"]),
                    contract.extra_named_contacts,
                )
            except ValidationError as exc:
                add_to_form(self, exc)
        if "name" in data:
            try:
                data["name"] = actions.clean_name(data["name"])
            except ValidationError as exc:
                add_to_form(self, exc)
        return data


@admin.register(Contract)
class ContractAdmin(ActionModelAdmin):
    list_display = (
        "name",
        "organization",
        "preset",
        "status",
        "start_date",
        "end_date",
        "price",
        "currency",
        "unit",
        "balance",
        "low_balance_warned",
    )
    list_filter = ("status", "preset", "unit", "low_balance_warned")
    search_fields = ("name", "organization__name", "reference")
    list_select_related = ("organization",)
    inlines = [LedgerInline]
    readonly_fields = (
        "organization",
        "plan",
        "preset",
        "unit",
        "terms",
        "status",
        "start_date",
        "end_date",
        "purchase_date",
        "purchase_price",
        "price",
        "currency",
        "balance",
        "low_balance_at",
        "low_balance_warned",
        "term_number",
        "previous",
        "created_at",
    )
    fields = ("name", *readonly_fields, "named_contacts", "reference")
    filter_horizontal = ("named_contacts",)
    actions = ["renew", "expire"]
    form = ContractAdminForm

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # sold through the API, which prices and grants in one action

    def save_with_action(
        self, request: HttpRequest, obj: Any, values: dict[str, Any], change: bool
    ) -> Any:
        user = request_user(request)
        if "name" in values:
            obj = checks.check_rename_contract(user, obj, name=values["name"])
        if "named_contacts" in values:
            checks.check_set_named_contacts(user, obj, values["named_contacts"])
        return obj

    @admin.action(description="Renew selected contracts", permissions=["change"])
    def renew(self, request: HttpRequest, queryset: Any) -> None:
        for contract in queryset:
            try:
                checks.check_renew_contract(request_user(request), contract)
            except DomainError as exc:
                report(request, exc)

    @admin.action(description="Expire selected contracts", permissions=["change"])
    def expire(self, request: HttpRequest, queryset: Any) -> None:
        for contract in queryset:
            actions.do_expire_contract(contract, actor=request_user(request))


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "contract",
        "kind",
        "quantity",
        "overage_quantity",
        "balance_after",
        "key",
        "source_type",
        "source_id",
        "actor",
    )
    list_filter = ("kind", "source_type")
    search_fields = ("key", "source_id", "contract__organization__name")
    list_select_related = ("contract__organization", "actor")
    date_hierarchy = "created_at"


@admin.register(EntitlementDecision)
class EntitlementDecisionAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "organization",
        "contact",
        "outcome",
        "reason",
        "override_outcome",
        "contract",
        "source_type",
        "source_id",
    )
    list_filter = ("outcome", "override_outcome", "reason")
    search_fields = ("organization__name", "source_id")
    list_select_related = ("organization", "contact", "contract")


@admin.register(TrainingRecord)
class TrainingRecordAdmin(ActionModelAdmin):
    list_display = ("contact", "course", "completed_on")
    search_fields = ("contact__full_name", "contact__email", "course")
    list_select_related = ("contact",)
    autocomplete_fields = ("contact",)
    fields = ("contact", "course", "completed_on")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ("contact", "course", "completed_on") if obj else ()

    def save_with_action(
        self, request: HttpRequest, obj: Any, values: dict[str, Any], change: bool
    ) -> Any:
        if obj is not None:
            return obj
        return checks.check_record_training(request_user(request), **values)


@admin.register(ContractEvent)
class ContractEventAdmin(EventAdmin):
    list_display = ["created_at", "type", "actor", "contract", "plan", "decision"]
    list_select_related = ["actor", "contract", "plan", "decision"]
    search_fields = ("contract__organization__name",)
