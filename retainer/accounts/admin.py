from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest

from retainer.accounts import actions
from retainer.accounts.forms import OrganizationAdminForm
from retainer.accounts.models import (
    AccountEvent,
    Contact,
    Organization,
    OrganizationDomain,
    Team,
    User,
)
from retainer.lib.admin import ActionModelAdmin, EventAdmin
from retainer.lib.auth import request_user


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ("full_name",)
    list_display = ("email", "full_name", "is_staff", "roles", "is_active", "last_login")
    list_filter = ("is_staff", "is_active", "groups")
    search_fields = ("email", "full_name")
    fieldsets = (
        (None, {"fields": ("email", "full_name", "password")}),
        ("Access", {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("email", "full_name", "password1", "password2")}),
    )
    readonly_fields = ("last_login", "date_joined")
    filter_horizontal = ("groups",)
    actions = ["deactivate", "reactivate"]

    @admin.display(description="Roles")
    def roles(self, obj: User) -> str:
        return ", ".join(group.name for group in obj.groups.all())

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        return super().get_queryset(request).prefetch_related("groups")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        found = super().get_actions(request)
        found.pop("delete_selected", None)
        return found

    @admin.action(description="Deactivate selected users", permissions=["change"])
    def deactivate(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        _set_active(self, request, queryset, False)

    @admin.action(description="Reactivate selected users", permissions=["change"])
    def reactivate(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        _set_active(self, request, queryset, True)


def _set_active(
    model_admin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Any], active: bool
) -> None:
    done = 0
    for obj in queryset:
        try:
            if isinstance(obj, Contact):
                actions.do_set_contact_active(obj, active, actor=request_user(request))
            else:
                actions.do_set_user_active(obj, active, actor=request_user(request))
            done += 1
        except ValidationError as exc:
            model_admin.message_user(request, f"{obj}: {' '.join(exc.messages)}", messages.ERROR)
    model_admin.message_user(request, f"{'Reactivated' if active else 'Deactivated'} {done}.")


class DomainInline(admin.TabularInline):
    model = OrganizationDomain
    extra = 0
    can_delete = False
    readonly_fields = ("domain",)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0
    can_delete = False
    fields = ("full_name", "email", "role", "is_active")
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Organization)
class OrganizationAdmin(ActionModelAdmin):
    form = OrganizationAdminForm
    list_display = (
        "name",
        "domain_names",
        "time_zone",
        "currency",
        "account_owner",
        "is_active",
        "created_at",
    )
    list_filter = ("is_active", "currency", "account_owner")
    search_fields = ("name", "domains__domain")
    list_select_related = ("account_owner",)
    autocomplete_fields = ("account_owner",)
    inlines = [ContactInline]
    actions = ["deactivate", "reactivate"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Organization]:
        return super().get_queryset(request).prefetch_related("domains")

    @admin.display(description="Domains")
    def domain_names(self, obj: Organization) -> str:
        return ", ".join(d.domain for d in obj.domains.all())

    def save_with_action(
        self, request: HttpRequest, obj: Any, values: dict[str, Any], change: bool
    ) -> Any:
        domains = OrganizationAdminForm.split_domains(values.pop("domain_list", None))
        if obj is None:
            return actions.do_create_organization(
                **values, domains=domains or (), actor=request_user(request)
            )
        actions.do_update_organization(obj, actor=request_user(request), **values)
        if domains is not None:
            actions.do_set_organization_domains(obj, domains, actor=request_user(request))
        return obj

    @admin.action(description="Deactivate selected organizations", permissions=["change"])
    def deactivate(self, request: HttpRequest, queryset: QuerySet[Organization]) -> None:
        for organization in queryset:
            actions.do_set_organization_active(organization, False, actor=request_user(request))

    @admin.action(description="Reactivate selected organizations", permissions=["change"])
    def reactivate(self, request: HttpRequest, queryset: QuerySet[Organization]) -> None:
        for organization in queryset:
            actions.do_set_organization_active(organization, True, actor=request_user(request))


@admin.register(Contact)
class ContactAdmin(ActionModelAdmin):
    list_display = ("full_name", "email", "organization", "role", "phone", "is_active", "has_login")
    list_filter = ("is_active", "role")
    search_fields = ("full_name", "email", "organization__name")
    list_select_related = ("organization",)
    autocomplete_fields = ("organization",)
    fields = ("organization", "full_name", "email", "phone", "role", "is_active", "user")
    readonly_fields = ("is_active", "user")
    actions = ["deactivate", "reactivate"]

    @admin.display(boolean=True, description="Portal login")
    def has_login(self, obj: Contact) -> bool:
        return obj.user_id is not None

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # A contact stays with its organization: history and contracts hang off it.
        return (*self.readonly_fields, "organization") if obj else self.readonly_fields

    def save_with_action(
        self, request: HttpRequest, obj: Any, values: dict[str, Any], change: bool
    ) -> Any:
        if obj is None:
            return actions.do_create_contact(**values, actor=request_user(request))
        return actions.do_update_contact(obj, actor=request_user(request), **values)

    @admin.action(description="Deactivate selected contacts", permissions=["change"])
    def deactivate(self, request: HttpRequest, queryset: QuerySet[Contact]) -> None:
        _set_active(self, request, queryset, False)

    @admin.action(description="Reactivate selected contacts", permissions=["change"])
    def reactivate(self, request: HttpRequest, queryset: QuerySet[Contact]) -> None:
        _set_active(self, request, queryset, True)


@admin.register(Team)
class TeamAdmin(ActionModelAdmin):
    list_display = ("name", "member_count", "is_active")
    search_fields = ("name",)
    filter_horizontal = ("members",)
    fields = ("name", "description", "members")

    @admin.display(description="Members")
    def member_count(self, obj: Team) -> int:
        return obj.members.count()

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "members":
            kwargs["queryset"] = User.objects.filter(is_staff=True, is_active=True)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_with_action(
        self, request: HttpRequest, obj: Any, values: dict[str, Any], change: bool
    ) -> Any:
        current = obj or Team()
        merged = {
            "name": values.get("name", current.name),
            "description": values.get("description", current.description),
            "members": values.get("members", list(current.members.all()) if obj else []),
        }
        return actions.do_save_team(obj, actor=request_user(request), **merged)


@admin.register(AccountEvent)
class AccountEventAdmin(EventAdmin):
    list_display = ["created_at", "type", "actor", "organization", "contact", "user"]
    list_select_related = ["actor", "organization", "contact", "user"]
    search_fields = ("organization__name", "contact__email", "user__email")
