from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest

from retainer.accounts import checks
from retainer.accounts.access import request_user
from retainer.accounts.forms import OrganizationAdminForm
from retainer.accounts.models import (
    AccountEvent,
    Contact,
    Organization,
    OrganizationDomain,
    Team,
    User,
)
from retainer.accounts.selectors import staff_people
from retainer.lib.admin import ActionModelAdmin, EventAdmin
from retainer.lib.errors import DomainError, report


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    """Vendor staff are added here (customer logins come with their contact); every change
    goes through the accounts actions, so each one is checked and recorded."""

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
    # Staff status is decided when the user is made, superusers on the command line.
    readonly_fields = ("is_staff", "is_superuser", "last_login", "date_joined")
    filter_horizontal = ("groups",)
    actions = ["deactivate", "reactivate"]

    @admin.display(description="Roles")
    def roles(self, obj: User) -> str:
        return ", ".join(group.name for group in obj.groups.all())

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        return super().get_queryset(request).prefetch_related("groups")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is not None and not obj.is_staff:
            # A customer's login follows their contact: change the contact instead.
            return (*self.readonly_fields, "email", "full_name", "groups")
        return self.readonly_fields

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        found = super().get_actions(request)
        found.pop("delete_selected", None)
        return found

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:
        actor = request_user(request)
        if not change:
            user = checks.check_create_staff_user(
                actor,
                email=form.cleaned_data["email"],
                full_name=form.cleaned_data["full_name"],
                roles=[],
                password=form.cleaned_data.get("password1") or None,
            )
            obj.pk = user.pk
            obj._state.adding = False
            return
        user = User.objects.get(pk=obj.pk)  # the form has already set the new values on obj
        details = {
            name: form.cleaned_data[name]
            for name in ("email", "full_name")
            if name in form.changed_data
        }
        try:
            if details:
                checks.check_update_staff_user(actor, user, **details)
            if "is_active" in form.changed_data:
                checks.check_set_user_active(actor, user, form.cleaned_data["is_active"])
        except (DomainError, ValidationError) as exc:
            report(request, exc)

    def save_related(
        self, request: HttpRequest, form: ModelForm, formsets: Any, change: bool
    ) -> None:
        if change and "groups" in form.changed_data:
            user = User.objects.get(pk=form.instance.pk)
            names = [group.name for group in form.cleaned_data["groups"]]
            try:
                checks.check_set_staff_roles(request_user(request), user, names)
            except (DomainError, ValidationError) as exc:
                report(request, exc)

    @admin.action(description="Deactivate selected users", permissions=["change"])
    def deactivate(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        _set_active(self, request, queryset, False)

    @admin.action(description="Reactivate selected users", permissions=["change"])
    def reactivate(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        _set_active(self, request, queryset, True)


def _set_active(
    model_admin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Any], active: bool
) -> None:
    """Deactivate or reactivate each selected person (or organization) on its own: one
    refusal is reported and does not stop the others."""
    actor = request_user(request)
    done = 0
    for obj in queryset:
        try:
            if isinstance(obj, Contact):
                checks.check_set_contact_active(actor, obj, active)
            elif isinstance(obj, Organization):
                checks.check_set_organization_active(actor, obj, active)
            else:
                checks.check_set_user_active(actor, obj, active)
            done += 1
        except DomainError as exc:
            report(request, type(exc)(exc.code, f"{obj}: {exc.detail}"))
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
        # The form has checked every value and domain already (OrganizationAdminForm.clean).
        actor = request_user(request)
        domains = OrganizationAdminForm.split_domains(values.pop("domain_list", None))
        if obj is None:
            return checks.check_create_organization(actor, **values, domains=domains or ())
        return checks.check_update_organization(actor, obj, **values, domains=domains)

    @admin.action(description="Deactivate selected organizations", permissions=["change"])
    def deactivate(self, request: HttpRequest, queryset: QuerySet[Organization]) -> None:
        _set_active(self, request, queryset, False)

    @admin.action(description="Reactivate selected organizations", permissions=["change"])
    def reactivate(self, request: HttpRequest, queryset: QuerySet[Organization]) -> None:
        _set_active(self, request, queryset, True)


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
        actor = request_user(request)
        if obj is None:
            return checks.check_create_contact(actor, **values)
        return checks.check_update_contact(actor, obj, **values)

    @admin.action(description="Deactivate selected contacts", permissions=["change"])
    def deactivate(self, request: HttpRequest, queryset: QuerySet[Contact]) -> None:
        _set_active(self, request, queryset, False)

    @admin.action(description="Reactivate selected contacts", permissions=["change"])
    def reactivate(self, request: HttpRequest, queryset: QuerySet[Contact]) -> None:
        _set_active(self, request, queryset, True)


@admin.register(Team)
class TeamAdmin(ActionModelAdmin):
    list_display = ("name", "lead", "member_count", "is_active")
    list_select_related = ("lead",)
    search_fields = ("name",)
    filter_horizontal = ("members",)
    fields = ("name", "description", "lead", "members")

    @admin.display(description="Members")
    def member_count(self, obj: Team) -> int:
        return obj.members.count()

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "members":
            kwargs["queryset"] = staff_people()
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "lead":
            kwargs["queryset"] = staff_people()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_with_action(
        self, request: HttpRequest, obj: Any, values: dict[str, Any], change: bool
    ) -> Any:
        current = obj or Team()
        merged = {
            "name": values.get("name", current.name),
            "description": values.get("description", current.description),
            "members": values.get("members", list(current.members.all()) if obj else []),
            "lead": values.get("lead", current.lead),
        }
        return checks.check_save_team(request_user(request), obj, **merged)


@admin.register(AccountEvent)
class AccountEventAdmin(EventAdmin):
    list_display = ["created_at", "type", "actor", "organization", "contact", "user"]
    list_select_related = ["actor", "organization", "contact", "user"]
    search_fields = ("organization__name", "contact__email", "user__email")
