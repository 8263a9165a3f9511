"""Admin for billing: runs with their progress, invoices, credit notes, quotes, profiles.

Documents are created and changed through the actions (API, commands); the admin shows
them read-only. Billing profiles are edited here, through ``do_set_billing_profile``.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from retainer.accounts.access import request_user
from retainer.billing import actions
from retainer.billing.models import (
    BillingEvent,
    BillingProfile,
    BillingRun,
    CreditNote,
    Invoice,
    InvoiceLine,
    RenewalQuote,
)
from retainer.lib.admin import ActionModelAdmin, EventAdmin, ReadOnlyAdmin


@admin.register(BillingRun)
class BillingRunAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "period",
        "organization",
        "status",
        "items_done",
        "items_total",
        "progress_percent",
        "items_per_second",
        "seconds_left",
        "invoices_created",
        "started_at",
        "finished_at",
    )
    list_filter = ("status",)


class InvoiceLineInline(admin.TabularInline):
    model = InvoiceLine
    extra = 0
    can_delete = False
    fields = ("position", "kind", "description", "quantity", "unit", "unit_price", "amount")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "organization", "status", "currency", "total", "issued_at")
    list_filter = ("status", "currency")
    search_fields = ("number", "organization__name")
    list_select_related = ("organization",)
    inlines = [InvoiceLineInline]


@admin.register(CreditNote)
class CreditNoteAdmin(ReadOnlyAdmin):
    list_display = ("number", "invoice", "organization", "total", "issued_at")
    list_select_related = ("invoice", "organization")


@admin.register(RenewalQuote)
class RenewalQuoteAdmin(ReadOnlyAdmin):
    list_display = ("contract", "organization", "status", "price", "currency", "valid_until")
    list_filter = ("status",)


@admin.register(BillingProfile)
class BillingProfileAdmin(ActionModelAdmin):
    list_display = ("organization", "tax_rate", "tax_label", "tax_id")
    fields = ("organization", "tax_rate", "tax_label", "tax_id", "billing_email")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ("organization",) if obj is not None else ()

    def save_with_action(
        self, request: HttpRequest, obj: Any, values: dict[str, Any], change: bool
    ) -> Any:
        organization = obj.organization if obj is not None else values["organization"]
        current: dict[str, Any] = {
            "tax_rate": obj.tax_rate if obj else None,
            "tax_label": obj.tax_label if obj else "VAT",
            "tax_id": obj.tax_id if obj else "",
            "billing_email": obj.billing_email if obj else "",
        }
        current.update({k: v for k, v in values.items() if k != "organization"})
        return actions.do_set_billing_profile(organization, **current, actor=request_user(request))


@admin.register(BillingEvent)
class BillingEventAdmin(EventAdmin):
    list_display = ["created_at", "type", "actor", "invoice", "run"]
