"""How far a success plan has come: realization % and the survey's perception split.

Pure definitions, no ORM:

- **realization %** = the weight of the milestones done ÷ the weight of all milestones
  (weights are whole numbers, at least 1): weights 3, 2 and 5 with the first two done
  give 5 ÷ 10 = 50 %; a plan without milestones has no realization (``None``);
- **perception %**: of the answered success-perception surveys, the share of positive,
  neutral and none-or-negative answers; unanswered surveys are left out, and no answer
  at all is no perception (``None``).

Percentages are ``Decimal`` rounded half up to one decimal place (``adoption.percent``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from retainer.success.adoption import percent

POSITIVE, NEUTRAL, NEGATIVE = "positive", "neutral", "negative"


@dataclass(frozen=True)
class Step:
    """A milestone as realization sees it."""

    weight: int
    done: bool


@dataclass(frozen=True)
class Realization:
    done_weight: int
    total_weight: int
    done: int
    total: int
    pct: Decimal | None


def realization(steps: Iterable[Step]) -> Realization:
    """Completed weight ÷ total weight. A weight below 1 is a programming error: the
    model and the actions refuse it before it gets here."""
    items = list(steps)
    for step in items:
        if step.weight < 1:
            raise ValueError("A milestone weighs at least 1.")
    done_weight = sum(s.weight for s in items if s.done)
    total_weight = sum(s.weight for s in items)
    return Realization(
        done_weight=done_weight,
        total_weight=total_weight,
        done=sum(1 for s in items if s.done),
        total=len(items),
        pct=percent(done_weight, total_weight),
    )


@dataclass(frozen=True)
class PerceptionSplit:
    answered: int
    positive: int
    neutral: int
    negative: int
    positive_pct: Decimal | None
    neutral_pct: Decimal | None
    negative_pct: Decimal | None


def perception(answers: Iterable[str]) -> PerceptionSplit:
    """The split of ``answers`` (``positive``, ``neutral``, ``negative``; an empty string
    is an unanswered survey and is left out)."""
    given = [a for a in answers if a]
    unknown = set(given) - {POSITIVE, NEUTRAL, NEGATIVE}
    if unknown:
        raise ValueError(f"Unknown perception answers: {sorted(unknown)}")
    counts = {kind: given.count(kind) for kind in (POSITIVE, NEUTRAL, NEGATIVE)}
    total = len(given)
    return PerceptionSplit(
        answered=total,
        positive=counts[POSITIVE],
        neutral=counts[NEUTRAL],
        negative=counts[NEGATIVE],
        positive_pct=percent(counts[POSITIVE], total),
        neutral_pct=percent(counts[NEUTRAL], total),
        negative_pct=percent(counts[NEGATIVE], total),
    )
