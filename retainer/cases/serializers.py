"""Explicit input and output shapes of the cases API.

Output for customers is a separate, smaller shape: it carries no internal notes,
time, rates, assignee or contract internals.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rest_framework import serializers

from retainer.accounts.models import Contact, Team
from retainer.accounts.selectors import staff_people
from retainer.cases.choices import CaseStatus, CaseType, CsatRating, Priority, RootCause, Severity
from retainer.cases.models import (
    Case,
    CaseAttachment,
    CaseEvent,
    CaseMessage,
    CsatResponse,
    Defect,
    TimeEntry,
)
from retainer.cases.selectors import offering_for_decision
from retainer.catalog.models import Product, Release
from retainer.catalog.serializers import CatalogRowField
from retainer.contracts.choices import Channel, Outcome
from retainer.contracts.models import Contract
from retainer.contracts.serializers import OfferingBrief
from retainer.lib.api import IntegerField
from retainer.lib.events import Audience, parse
from retainer.lib.fulltext import QUERY_MAX_LENGTH
from retainer.lib.limits import SUBJECT_MAX_LENGTH, TEXT_MAX_LENGTH

_DATETIME = serializers.DateTimeField()


def _when(value: Any) -> str | None:
    return None if value is None else _DATETIME.to_representation(value)


class CaseCustomerOut(serializers.ModelSerializer):
    """A case as its customer sees it.

    The declared fields define the shape (and the OpenAPI schema); ``to_representation``
    writes the same output directly, because building a model serializer's fields for
    every case costs more than the rest of rendering it, on intake and in every list.
    ``tests/test_serializers.py`` holds the two to the same output.
    """

    id = serializers.CharField(source="public_id")
    reference = serializers.CharField()
    decision = serializers.SerializerMethodField()

    class Meta:
        model = Case
        fields = [
            "id", "reference", "subject", "description", "status", "type", "severity", "channel",
            "product", "release", "environment", "contact", "entitlement", "decision",
            "root_cause", "created_at", "updated_at", "first_response_at", "resolved_at",
        ]  # fmt: skip

    def to_representation(self, instance: Case) -> dict[str, Any]:
        return {
            "id": instance.public_id,
            "reference": instance.reference,
            "subject": instance.subject,
            "description": instance.description,
            "status": str(instance.status),
            "type": str(instance.type),
            "severity": int(instance.severity),
            "channel": str(instance.channel),
            "product": instance.product_id,
            "release": instance.release_id,
            "environment": instance.environment_id,
            "contact": instance.contact_id,
            "entitlement": str(instance.entitlement),
            "decision": self.get_decision(instance),
            "root_cause": str(instance.root_cause),
            "created_at": _when(instance.created_at),
            "updated_at": _when(instance.updated_at),
            "first_response_at": _when(instance.first_response_at),
            "resolved_at": _when(instance.resolved_at),
        }

    def get_decision(self, obj: Case) -> dict[str, Any] | None:
        decision = obj.decision
        if decision is None:
            return None
        data: dict[str, Any] = {
            "outcome": decision.effective_outcome,
            "reason": decision.reason,
            "sentence": decision.sentence,
            "offering_kind": decision.offering_kind,
        }
        if self.context.get("with_offering"):
            # The priced service an out-of-scope answer offers, as the decision preview
            # gives it; one case's answer only (a list would read it once per row).
            offering = (
                offering_for_decision(product=obj.product, decision=decision)
                if decision.outcome == Outcome.OUT_OF_SCOPE
                else None
            )
            data["offering"] = OfferingBrief(offering).data if offering is not None else None
        return data


class CaseStaffOut(CaseCustomerOut):
    organization = IntegerField(source="organization_id")
    contract = IntegerField(source="contract_id", allow_null=True)
    assignee = IntegerField(source="assignee_id", allow_null=True)
    queue = IntegerField(source="queue_id", allow_null=True)
    defect = IntegerField(source="defect_id", allow_null=True)

    class Meta(CaseCustomerOut.Meta):
        fields = [
            *CaseCustomerOut.Meta.fields,
            "organization", "priority", "assignee", "queue", "tags", "category", "contract",
            "incident_consumed", "defect", "modified_source", "third_party",
        ]  # fmt: skip

    def to_representation(self, instance: Case) -> dict[str, Any]:
        return {
            **super().to_representation(instance),
            "organization": instance.organization_id,
            "priority": str(instance.priority),
            "assignee": instance.assignee_id,
            "queue": instance.queue_id,
            "tags": instance.tags,
            "category": instance.category,
            "contract": instance.contract_id,
            "incident_consumed": instance.incident_consumed,
            "defect": instance.defect_id,
            "modified_source": instance.modified_source,
            "third_party": instance.third_party,
        }

    def get_decision(self, obj: Case) -> dict[str, Any] | None:
        data = super().get_decision(obj)
        if data is not None and obj.decision is not None:
            data.update(
                considered=obj.decision.considered,
                computed_outcome=obj.decision.outcome,
                override_reason=obj.decision.override_reason,
            )
        return data


class CaseCreateIn(serializers.Serializer):
    """What anyone may send when opening a case."""

    product = CatalogRowField("products")
    release = CatalogRowField("releases", required=False, allow_null=True)
    environment = CatalogRowField("environments", required=False, allow_null=True)
    subject = serializers.CharField(max_length=SUBJECT_MAX_LENGTH)
    description = serializers.CharField(max_length=TEXT_MAX_LENGTH)
    type = serializers.ChoiceField(choices=CaseType.choices, required=False)
    severity = serializers.ChoiceField(choices=Severity.choices, required=False)
    modified_source = serializers.BooleanField(required=False, default=False)
    third_party = serializers.BooleanField(required=False, default=False)


class CaseCreateStaffIn(CaseCreateIn):
    """Staff also name the requester and the channel the request came through."""

    contact = serializers.PrimaryKeyRelatedField(queryset=Contact.objects.all())
    channel = serializers.ChoiceField(choices=Channel.choices, required=False)
    priority = serializers.ChoiceField(choices=Priority.choices, required=False)


class CaseUpdateIn(serializers.Serializer):
    subject = serializers.CharField(max_length=SUBJECT_MAX_LENGTH, required=False)
    severity = serializers.ChoiceField(choices=Severity.choices, required=False)
    priority = serializers.ChoiceField(choices=Priority.choices, required=False)
    type = serializers.ChoiceField(choices=CaseType.choices, required=False)
    category = serializers.CharField(max_length=60, required=False, allow_blank=True)
    tags = serializers.ListField(
        child=serializers.CharField(max_length=40), required=False, max_length=20
    )
    assignee = serializers.PrimaryKeyRelatedField(
        queryset=staff_people(), required=False, allow_null=True
    )
    queue = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.filter(is_active=True), required=False, allow_null=True
    )


class TransitionIn(serializers.Serializer):
    status = serializers.ChoiceField(choices=CaseStatus.choices)
    root_cause = serializers.ChoiceField(choices=RootCause.choices, required=False)


class CaseOverrideIn(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=Outcome.choices)
    contract = serializers.PrimaryKeyRelatedField(
        queryset=Contract.objects.all(), required=False, allow_null=True
    )
    reason = serializers.CharField(max_length=TEXT_MAX_LENGTH)


class MessageOut(serializers.ModelSerializer):
    author = serializers.CharField(source="author.full_name")

    class Meta:
        model = CaseMessage
        fields = ["id", "author", "body", "by_customer", "created_at"]


class MessageStaffOut(MessageOut):
    class Meta(MessageOut.Meta):
        fields = [*MessageOut.Meta.fields, "is_internal"]


class MessageIn(serializers.Serializer):
    body = serializers.CharField(max_length=TEXT_MAX_LENGTH)
    internal = serializers.BooleanField(required=False, default=False)


class AttachmentOut(serializers.ModelSerializer):
    name = serializers.CharField(source="display_name")

    class Meta:
        model = CaseAttachment
        fields = ["id", "name", "content_type", "size", "sha256", "created_at"]


class AttachmentStaffOut(AttachmentOut):
    class Meta(AttachmentOut.Meta):
        fields = [*AttachmentOut.Meta.fields, "is_internal"]


class AttachmentIn(serializers.Serializer):
    file = serializers.FileField()
    internal = serializers.BooleanField(required=False, default=False)


class TimeEntryOut(serializers.ModelSerializer):
    class Meta:
        model = TimeEntry
        fields = [
            "id", "agent", "work_date", "started_at", "minutes", "billable", "note", "contract",
            "version", "covered_minutes", "overage_minutes", "created_at",
        ]  # fmt: skip


class TimeEntryIn(serializers.Serializer):
    minutes = IntegerField(min_value=1, max_value=24 * 60)
    billable = serializers.BooleanField(required=False, default=True)
    work_date = serializers.DateField(required=False)
    started_at = serializers.DateTimeField(required=False)
    note = serializers.CharField(max_length=500, required=False, allow_blank=True)


class TimeEntryUpdateIn(serializers.Serializer):
    minutes = IntegerField(min_value=1, max_value=24 * 60, required=False)
    billable = serializers.BooleanField(required=False)
    work_date = serializers.DateField(required=False)
    note = serializers.CharField(max_length=500, required=False, allow_blank=True)


class DefectOut(serializers.ModelSerializer):
    linked_cases = IntegerField(source="cases.count", read_only=True)

    class Meta:
        model = Defect
        fields = [
            "id",
            "product",
            "title",
            "description",
            "status",
            "affected_releases",
            "fix_release",
            "linked_cases",
        ]


class DefectIn(serializers.Serializer):
    product = serializers.PrimaryKeyRelatedField(queryset=Product.objects.all())
    title = serializers.CharField(max_length=SUBJECT_MAX_LENGTH)
    description = serializers.CharField(
        max_length=TEXT_MAX_LENGTH, required=False, allow_blank=True
    )
    affected_releases = serializers.PrimaryKeyRelatedField(
        queryset=Release.objects.all(), many=True, required=False
    )


class FixReleaseIn(serializers.Serializer):
    release = serializers.PrimaryKeyRelatedField(queryset=Release.objects.all())


class LinkDefectIn(serializers.Serializer):
    defect = serializers.PrimaryKeyRelatedField(queryset=Defect.objects.all())


class StaffEventOut(serializers.Serializer):
    """A case's history row as staff read it: the typed event's whole payload."""

    audience: ClassVar[Audience] = Audience.STAFF

    id = IntegerField()
    type = serializers.CharField()
    actor = serializers.CharField(source="actor.full_name", default=None)
    created_at = serializers.DateTimeField()

    def get_fields(self) -> dict[str, serializers.Field]:
        # Declared here: a class attribute named ``data`` would shadow ``Serializer.data``.
        fields: dict[str, serializers.Field] = super().get_fields()
        fields["data"] = serializers.SerializerMethodField()
        return fields

    def get_data(self, row: CaseEvent) -> dict[str, Any]:
        event = parse(row)
        return {} if event is None else event.visible_to(self.audience)


class _CustomerEventList(serializers.ListSerializer):
    """Internal rows never reach a customer, whatever the queryset handed in."""

    def to_representation(self, data: Any) -> list[Any]:
        rows = data.all() if hasattr(data, "all") else data
        return [self.child.to_representation(row) for row in rows if not row.is_internal]  # type: ignore[union-attr]


class CustomerEventOut(StaffEventOut):
    """A case's history row as its customer reads it: only the event type's
    ``customer_fields`` (``cases/events.py``), and no internal row at all. The portal's
    timeline is rendered from this output too."""

    audience = Audience.CUSTOMER

    class Meta:
        list_serializer_class = _CustomerEventList

    def to_representation(self, instance: CaseEvent) -> dict[str, Any]:
        if instance.is_internal:
            raise ValueError("An internal case event is never rendered for a customer.")
        return dict(super().to_representation(instance))


class CsatIn(serializers.Serializer):
    rating = serializers.ChoiceField(choices=CsatRating.choices)
    comment = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class CsatOut(serializers.ModelSerializer):
    class Meta:
        model = CsatResponse
        fields = ["rating", "comment", "answered_at"]


# --- Case search (``cases.search.search_cases``) -----------------------------------------------


class CaseSearchIn(serializers.Serializer):
    q = serializers.CharField(
        max_length=QUERY_MAX_LENGTH, required=False, allow_blank=True, default=""
    )
    limit = IntegerField(min_value=1, max_value=50, required=False, default=10)


class CaseSnippetPartOut(serializers.Serializer):
    text = serializers.CharField(read_only=True)
    highlighted = serializers.BooleanField(read_only=True)


class CaseHitOut(serializers.Serializer):
    id = serializers.CharField(source="case.public_id", read_only=True)
    reference = serializers.CharField(source="case.reference", read_only=True)
    subject = serializers.CharField(source="case.subject", read_only=True)
    status = serializers.ChoiceField(
        source="case.status", choices=CaseStatus.choices, read_only=True
    )
    organization = serializers.CharField(source="case.organization.name", read_only=True)
    score = serializers.FloatField(read_only=True)
    matched_in = serializers.ChoiceField(
        choices=["case", "reply", "note", "organization", "reference"],
        read_only=True,
        help_text="Where the snippet comes from; `note` (an internal note) for staff only.",
    )
    snippet = CaseSnippetPartOut(many=True, read_only=True, source="snippet_parts")


class CaseSearchOut(serializers.Serializer):
    query = serializers.CharField(read_only=True)
    results = CaseHitOut(many=True, read_only=True)
