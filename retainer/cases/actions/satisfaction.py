"""The one-question survey after resolution."""

from __future__ import annotations

import datetime as dt

from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction

from retainer.accounts.models import User
from retainer.cases.actions.common import (
    CSAT_SALT,
    CaseError,
    lock_case,
    record_case_event,
)
from retainer.cases.choices import (
    CaseEventType,
    CaseStatus,
    CsatRating,
)
from retainer.cases.models import (
    Case,
    CsatResponse,
)

# --- Satisfaction ---------------------------------------------------------------------------


def csat_token(case: Case) -> str:
    """A signed token for the survey link; it names the case and nothing else."""
    return signing.dumps({"case": case.public_id}, salt=CSAT_SALT)


def case_for_csat_token(token: str, *, max_age: dt.timedelta = dt.timedelta(days=60)) -> Case:
    try:
        payload = signing.loads(token, salt=CSAT_SALT, max_age=max_age)
    except signing.BadSignature:
        raise CaseError(
            "invalid_survey_link", "This survey link is invalid or has expired."
        ) from None
    try:
        return Case.objects.get(public_id=payload["case"])
    except Case.DoesNotExist:
        raise CaseError(
            "invalid_survey_link", "This survey link is invalid or has expired."
        ) from None


@transaction.atomic
def do_answer_csat(
    case: Case, *, rating: str, comment: str = "", actor: User | None
) -> CsatResponse:
    if rating not in CsatRating.values:
        raise ValidationError({"rating": "Choose good, neutral or bad."})
    case = lock_case(case)
    if case.status not in (CaseStatus.RESOLVED, CaseStatus.CLOSED):
        raise CaseError("case_not_resolved", "The survey opens when the case is resolved.")
    if CsatResponse.objects.filter(case=case).exists():
        raise CaseError("survey_answered", "This survey was already answered. Thank you!")
    response = CsatResponse.objects.create(case=case, rating=rating, comment=comment.strip())
    record_case_event(case, CaseEventType.CSAT_ANSWERED, actor=actor, rating=rating)
    return response
