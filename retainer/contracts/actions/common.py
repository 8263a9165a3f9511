"""What every contract action shares: movements and the row lock."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from retainer.contracts.models import Contract, LedgerEntry
from retainer.lib import compiled

MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class Movement:
    """The result of a ledger action: the entry, and whether it was a replay."""

    entry: LedgerEntry
    replayed: bool


def lock_contract(contract_id: int) -> Contract:
    """Lock the contract row for the rest of the transaction and return it fresh.

    PostgreSQL takes ``SELECT … FOR UPDATE``; on SQLite the settings open every
    transaction with ``BEGIN IMMEDIATE``, which already holds the database write lock.
    Must be called inside ``transaction.atomic()``.
    """
    if transaction.get_autocommit():
        raise transaction.TransactionManagementError("lock_contract needs a transaction.")
    locked = _LOCKED.first(contract_id)
    if locked is None:
        raise Contract.DoesNotExist(f"No contract {contract_id}.")
    return locked


# Taken on every consumption: compiled once (``lib/compiled.py``).
_LOCKED = compiled.Select[Contract](
    lambda contract_id: Contract.objects.select_for_update().filter(pk=contract_id)
)
