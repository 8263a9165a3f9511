from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from retainer.accounts.access import request_user
from retainer.catalog import checks
from retainer.catalog.models import (
    CatalogEvent,
    Environment,
    Product,
    Release,
    ScopePolicy,
    ServiceOffering,
)
from retainer.lib.admin import ActionModelAdmin, EventAdmin


class ReleaseInline(admin.TabularInline):
    model = Release
    extra = 0
    fields = ("version", "order", "ga_date", "end_of_support_date")
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Product)
class ProductAdmin(ActionModelAdmin):
    list_display = (
        "name",
        "code",
        "list_price",
        "net_price",
        "currency",
        "release_count",
        "is_active",
    )
    list_filter = ("is_active", "currency")
    search_fields = ("name", "code")
    inlines = [ReleaseInline]

    @admin.display(description="Releases")
    def release_count(self, obj: Product) -> int:
        return obj.releases.count()

    def save_with_action(
        self, request: HttpRequest, obj: Any, values: dict[str, Any], change: bool
    ) -> Any:
        return checks.check_save_product(request_user(request), obj, **values)


@admin.register(Release)
class ReleaseAdmin(ActionModelAdmin):
    list_display = ("product", "version", "order", "ga_date", "end_of_support_date")
    list_filter = ("product",)
    search_fields = ("version", "product__name")
    list_select_related = ("product",)
    ordering = ("product__name", "-order")

    def save_with_action(
        self, request: HttpRequest, obj: Any, values: dict[str, Any], change: bool
    ) -> Any:
        return checks.check_save_release(request_user(request), obj, **values)


@admin.register(Environment)
class EnvironmentAdmin(ActionModelAdmin):
    list_display = ("name", "version", "kind", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("name", "version")

    def save_with_action(
        self, request: HttpRequest, obj: Any, values: dict[str, Any], change: bool
    ) -> Any:
        return checks.check_save_environment(request_user(request), obj, **values)


@admin.register(ScopePolicy)
class ScopePolicyAdmin(ActionModelAdmin):
    list_display = (
        "product",
        "supported_previous_releases",
        "honour_end_of_support_dates",
        "modified_source_supported",
        "third_party_supported",
    )
    list_select_related = ("product",)
    filter_horizontal = ("supported_environments",)

    def save_with_action(
        self, request: HttpRequest, obj: Any, values: dict[str, Any], change: bool
    ) -> Any:
        return checks.check_save_scope_policy(request_user(request), obj, **values)


@admin.register(ServiceOffering)
class ServiceOfferingAdmin(ActionModelAdmin):
    list_display = ("name", "kind", "product", "price", "currency", "unit", "is_active")
    list_filter = ("kind", "unit", "is_active", "product")
    search_fields = ("name", "description")
    list_select_related = ("product",)

    def save_with_action(
        self, request: HttpRequest, obj: Any, values: dict[str, Any], change: bool
    ) -> Any:
        return checks.check_save_offering(request_user(request), obj, **values)


@admin.register(CatalogEvent)
class CatalogEventAdmin(EventAdmin):
    list_display = ["created_at", "type", "object_repr", "actor"]
    search_fields = ("object_repr",)
