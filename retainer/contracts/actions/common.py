"""What every contract action shares: errors, movements, the event writer, the row lock."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from retainer.accounts.models import User
from retainer.contracts.models import (
    Contract,
    ContractEvent,
    LedgerEntry,
)

MAX_KEY_LENGTH = 255


class ContractError(Exception):
    """A request that conflicts with the contract's state (e.g. topping up a cancelled one)."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class Movement:
    """The result of a ledger action: the entry, and whether it was a replay."""

    entry: LedgerEntry
    replayed: bool


def record_contract_event(type: str, *, actor: User | None, **refs: Any) -> ContractEvent:
    data = refs.pop("data", {})
    return ContractEvent.objects.create(type=type, actor=actor, data=data, **refs)


def lock_contract(contract_id: int) -> Contract:
    """Lock the contract row for the rest of the transaction and return it fresh.

    PostgreSQL takes ``SELECT … FOR UPDATE``; on SQLite the settings open every
    transaction with ``BEGIN IMMEDIATE``, which already holds the database write lock.
    Must be called inside ``transaction.atomic()``.
    """
    return Contract.objects.select_for_update().get(pk=contract_id)
