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
from retainer.lib.templatetags.retainer_format import money


def _money(field: str, label: str) -> Any:
    """A list column showing ``field`` in the row's currency (``€540.00``, not
    ``540.0000``)."""

    @admin.display(description=label, ordering=field)
    def column(model_admin: Any, obj: Any) -> str:
        currency = getattr(obj, "currency", None) or obj.invoice.currency
        return money(getattr(obj, field), currency)

    column.__name__ = f"{field}_display"
    return column


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
    fields = (
        "position",
        "kind",
        "description",
        "quantity",
        "unit",
        "unit_price_display",
        "amount_display",
    )
    readonly_fields = fields
    unit_price_display = _money("unit_price", "Unit price")
    amount_display = _money("amount", "Amount")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "organization", "status", "total_display", "issued_at")
    list_filter = ("status", "currency")
    search_fields = ("number", "organization__name")
    list_select_related = ("organization",)
    inlines = [InvoiceLineInline]
    total_display = _money("total", "Total")


@admin.register(CreditNote)
class CreditNoteAdmin(ReadOnlyAdmin):
    list_display = ("number", "invoice", "organization", "total_display", "issued_at")
    list_select_related = ("invoice", "organization")
    total_display = _money("total", "Total")


@admin.register(RenewalQuote)
class RenewalQuoteAdmin(ReadOnlyAdmin):
    list_display = ("contract", "organization", "status", "price_display", "valid_until")
    list_filter = ("status",)
    price_display = _money("price", "Price")


@admin.register(BillingProfile)
class BillingProfileAdmin(ActionModelAdmin):
    list_display = ("organization", "tax_rate", "tax_label", "tax_id")
    fields = ("organization", "tax_rate", "tax_label", "tax_id", "billing_address", "billing_email")

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
            "billing_address": obj.billing_address if obj else "",
        }
        current.update({k: v for k, v in values.items() if k != "organization"})
        return actions.do_set_billing_profile(organization, **current, actor=request_user(request))


@admin.register(BillingEvent)
class BillingEventAdmin(EventAdmin):
    list_display = ["created_at", "type", "actor", "invoice", "run"]
