"""Admin conventions: saves go through actions, history is read-only, nothing is deleted."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models
from django.forms import ModelForm
from django.http import HttpRequest

from retainer.lib import outbox
from retainer.lib.models import DeliveryStatus, OutboxDelivery, OutboxMessage


class ActionModelAdmin(admin.ModelAdmin):
    """Saves through the app's action; deleting is not offered (deactivate instead).

    Subclasses implement ``save_with_action``. The form's cleaned values are passed
    as keyword arguments, so the action validates them the same way as the API does.
    """

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def save_with_action(
        self, request: HttpRequest, obj: Any, values: dict[str, Any], change: bool
    ) -> Any:
        raise NotImplementedError

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:
        if change:
            # The form has already written the new values onto ``obj``; the action needs the
            # stored row to record what changed.
            original = type(obj)._default_manager.get(pk=obj.pk)
            values = {
                name: form.cleaned_data[name]
                for name in form.changed_data
                if name in form.cleaned_data
            }
            self.save_with_action(request, original, values, change)
        else:
            saved = self.save_with_action(request, None, dict(form.cleaned_data), change)
            obj.pk = saved.pk
            obj._state.adding = False

    def save_related(
        self, request: HttpRequest, form: ModelForm, formsets: Any, change: bool
    ) -> None:
        # Many-to-many values are set by the action; inline formsets still save here.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)


class ReadOnlyAdmin(admin.ModelAdmin):
    """For records changed only through their app's actions (or never): look, don't touch."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class EventAdmin(admin.ModelAdmin):
    """Read-only view of an append-only event table."""

    list_display = ["created_at", "type", "actor"]
    list_filter = ["type"]
    date_hierarchy = "created_at"
    list_select_related = ["actor"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False


class OutboxDeliveryInline(admin.TabularInline):
    model = OutboxDelivery
    extra = 0
    can_delete = False
    fields = ("subscriber", "status", "attempts", "last_error", "next_attempt_at", "updated_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    """Published events and what became of them for each subscriber."""

    list_display = ["id", "topic", "occurred_at", "dispatched_at"]
    list_filter = ("topic", ("dispatched_at", admin.EmptyFieldListFilter))
    inlines = [OutboxDeliveryInline]
    actions = ["retry_failed_deliveries"]

    @admin.action(description="Retry failed deliveries", permissions=["view"])
    def retry_failed_deliveries(self, request: HttpRequest, queryset: Any) -> None:
        failed = OutboxDelivery.objects.filter(message__in=queryset, status=DeliveryStatus.FAILED)
        count = 0
        for delivery in failed:
            outbox.retry_failed(delivery)
            count += 1
        self.message_user(request, f"{count} failed deliveries will be tried again.")
