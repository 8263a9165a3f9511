"""What every case action shares: errors, the event writer, the row lock."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils import timezone

from retainer.accounts.models import User
from retainer.cases.models import (
    Case,
    CaseEvent,
)
from retainer.contracts.choices import Outcome
from retainer.contracts.models import Contract

CONSUMING_OUTCOMES = (Outcome.COVERED, Outcome.COVERED_BILLABLE)
INTAKE_RELATIONS = (
    "organization",
    "contact",
    "product",
    "release",
    "environment",
    "contract",
    "opened_by",
)
CSAT_SALT = "retainer.cases.csat"


class CaseError(Exception):
    """A refused case operation, with a stable code for the API and a sentence for people."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def record_case_event(
    case: Case, type: str, *, actor: User | None, internal: bool = False, **data: Any
) -> CaseEvent:
    return CaseEvent.objects.create(
        case=case, type=type, actor=actor, is_internal=internal, data=data
    )


def touch(case: Case, fields: Iterable[str]) -> None:
    case.updated_at = timezone.now()
    case.save(update_fields=[*fields, "updated_at"])


def decrement_point(case: Case) -> str | None:
    if case.contract_id is None:
        return None
    return case_contract(case).plan_terms.decrement_point


def case_contract(case: Case) -> Contract:
    """The case's contract, loaded once per case object (its terms never change)."""
    contract = case.contract
    assert contract is not None  # noqa: S101 - callers check contract_id
    return contract


def lock_case(case: Case) -> Case:
    """Re-read the case row under a lock (``SELECT … FOR UPDATE``; SQLite's immediate
    transactions already serialize writers)."""
    return Case.objects.select_for_update().get(pk=case.pk)
