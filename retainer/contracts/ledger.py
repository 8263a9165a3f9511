"""Pure rules of the allowance ledger: how a consumption splits, and when to warn.

No ORM import: the actions load and lock the contract, call these, and write entries.
"""

from __future__ import annotations

from dataclasses import dataclass

from retainer.contracts.choices import ExhaustionPolicy


class Exhausted(Exception):
    """Nothing is left and the policy is ``block``: the consumption is refused."""


@dataclass(frozen=True)
class Split:
    covered: int  # drawn from the balance
    overage: int  # billable beyond the balance, never drawn from it

    @property
    def total(self) -> int:
        return self.covered + self.overage


def split_consumption(*, balance: int, quantity: int, policy: str) -> Split:
    """Split ``quantity`` (> 0) into the part the balance covers and the overage.

    - ``bill``: the balance covers what it can; the rest is billable overage.
    - ``block``: refused (``Exhausted``) when nothing is left; a consumption larger than
      what is left is split like ``bill``, because the work was accepted at intake.
    - ``allow``: everything is drawn from the balance, which may go negative.
    """
    if quantity <= 0:
        raise ValueError("A consumption is a positive quantity.")
    if policy == ExhaustionPolicy.ALLOW:
        return Split(covered=quantity, overage=0)
    available = max(balance, 0)
    if policy == ExhaustionPolicy.BLOCK and available == 0:
        raise Exhausted
    covered = min(available, quantity)
    return Split(covered=covered, overage=quantity - covered)


def crosses_low_balance(*, before: int, after: int, threshold: int | None, armed: bool) -> bool:
    """True when the balance moves from above ``threshold`` to at or below it while armed."""
    return threshold is not None and armed and before > threshold >= after
