"""The one-question survey after resolution."""

from __future__ import annotations

import datetime as dt

from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction

from retainer.accounts.models import User
from retainer.cases.actions.common import CSAT_SALT, lock_case
from retainer.cases.choices import CaseStatus, CsatRating
from retainer.cases.events import CaseCsatAnswered
from retainer.cases.models import Case, CaseEvent, CsatResponse
from retainer.lib.errors import Conflict, NotFound
from retainer.lib.events import record

INVALID_LINK = "This survey link is invalid or has expired."


def csat_token(case: Case) -> str:
    """A signed token for the survey link; it names the case and nothing else."""
    return signing.dumps({"case": case.public_id}, salt=CSAT_SALT)


def case_for_csat_token(token: str, *, max_age: dt.timedelta = dt.timedelta(days=60)) -> Case:
    """The case a survey link names; ``NotFound`` for a forged or expired link."""
    try:
        payload = signing.loads(token, salt=CSAT_SALT, max_age=max_age)
        return Case.objects.get(public_id=payload["case"])
    except (signing.BadSignature, Case.DoesNotExist):
        raise NotFound("invalid_survey_link", INVALID_LINK) from None


@transaction.atomic
def do_answer_csat(
    case: Case, *, rating: str, comment: str = "", actor: User | None
) -> CsatResponse:
    if rating not in CsatRating.values:
        raise ValidationError({"rating": "Choose good, neutral or bad."})
    case = lock_case(case)
    if case.status not in (CaseStatus.RESOLVED, CaseStatus.CLOSED):
        raise Conflict("case_not_resolved", "The survey opens when the case is resolved.")
    if CsatResponse.objects.filter(case=case).exists():
        raise Conflict("survey_answered", "This survey was already answered. Thank you!")
    response = CsatResponse.objects.create(case=case, rating=rating, comment=comment.strip())
    record(CaseEvent, CaseCsatAnswered(rating=rating), case=case, actor=actor)
    return response
