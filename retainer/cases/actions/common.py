"""What every case action shares: the row lock, the case's contract, saving a change."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils import timezone

from retainer.cases.models import Case
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
