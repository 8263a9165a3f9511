"""Cases in the admin: for looking things up. Work on cases goes through the API and the
console, whose actions keep the ledger and the history right, so the admin edits nothing."""

from __future__ import annotations

from django.contrib import admin

from retainer.cases.models import Case, CaseEvent, CaseMessage, CsatResponse, Defect, TimeEntry
from retainer.lib.admin import EventAdmin, ReadOnlyAdmin


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    list_display = [
        "reference",
        "subject",
        "organization",
        "contact",
        "status",
        "severity",
        "entitlement",
        "assignee",
        "created_at",
    ]
    list_filter = ["status", "severity", "entitlement", "channel", "type", "root_cause", "product"]
    search_fields = ["subject", "public_id", "contact__email", "organization__name"]
    list_select_related = ["organization", "contact", "assignee"]
    date_hierarchy = "created_at"


@admin.register(TimeEntry)
class TimeEntryAdmin(ReadOnlyAdmin):
    list_display = [
        "case",
        "agent",
        "work_date",
        "minutes",
        "billable",
        "covered_minutes",
        "overage_minutes",
        "is_deleted",
    ]
    list_filter = ["billable", "is_deleted", "agent"]
    list_select_related = ["case", "agent"]


@admin.register(Defect)
class DefectAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "product", "status", "fix_release", "created_at"]
    list_filter = ["status", "product"]
    search_fields = ["title"]


@admin.register(CaseMessage)
class CaseMessageAdmin(ReadOnlyAdmin):
    list_display = ["case", "author", "is_internal", "by_customer", "created_at"]
    list_filter = ["is_internal", "by_customer"]
    list_select_related = ["case", "author"]


@admin.register(CsatResponse)
class CsatResponseAdmin(ReadOnlyAdmin):
    list_display = ["case", "rating", "answered_at"]
    list_filter = ["rating"]


@admin.register(CaseEvent)
class CaseEventAdmin(EventAdmin):
    list_display = ["created_at", "type", "case", "actor", "is_internal"]
    list_select_related = ["actor", "case"]
