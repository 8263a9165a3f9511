"""Hypothesis state machine over the ledger: any sequence of grants, consumes,
reversals, top-ups, expiries, renewals and replays keeps the invariants."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from retainer.contracts import actions, selectors
from retainer.contracts.choices import ContractStatus, SourceType
from retainer.contracts.models import Contract, LedgerEntry
from retainer.lib.errors import DomainError

from .conftest import TODAY


def make_machine(cast, shop, policy):
    class LedgerMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.policy = policy
            self.contract = actions.do_create_contract(
                organization=cast.acme,
                preset="bank",
                start_date=TODAY,
                covered_products=[shop.product],
                terms={
                    "unit": "hours",
                    "quantity": 600,
                    "exhaustion_policy": self.policy,
                    "overage_rate": "120",
                    "low_balance_threshold": 1,  # hour
                    "rollover_cap": 120,
                },
                actor=None,
            )
            self.keys: list[str] = []
            self.reversed: set[str] = set()
            self.n = 0

        def _key(self, prefix: str) -> str:
            self.n += 1
            return f"{prefix}:{self.contract.pk}:{self.n}"

        def _live(self) -> bool:
            self.contract.refresh_from_db()
            return self.contract.status == ContractStatus.ACTIVE

        @rule(minutes=st.integers(min_value=1, max_value=400))
        def consume(self, minutes: int) -> None:
            key = self._key("te")
            try:
                actions.do_consume(
                    self.contract, quantity=minutes, key=key, source_type=SourceType.TIME_ENTRY,
                    actor=None,
                )  # fmt: skip
                self.keys.append(key)
            except DomainError as exc:
                assert exc.code in ("allowance_exhausted", "contract_not_active")

        @precondition(lambda self: bool(self.keys))
        @rule(data=st.data())
        def replay(self, data: st.DataObject) -> None:
            key = data.draw(st.sampled_from(self.keys))
            before = LedgerEntry.objects.count()
            movement = actions.do_consume(
                self.contract, quantity=999, key=key, source_type=SourceType.CASE, actor=None
            )
            assert movement.replayed and movement.entry.key == key
            assert LedgerEntry.objects.count() == before

        @precondition(lambda self: bool(self.keys))
        @rule(data=st.data())
        def reverse(self, data: st.DataObject) -> None:
            key = data.draw(st.sampled_from(self.keys))
            if key in self.reversed:
                with pytest.raises(DomainError):
                    actions.do_reverse_entry(
                        self.contract, reverses_key=key, key=self._key("again"), actor=None
                    )
                return
            actions.do_reverse_entry(self.contract, reverses_key=key, actor=None)
            self.reversed.add(key)

        @rule(minutes=st.integers(min_value=1, max_value=300))
        def top_up(self, minutes: int) -> None:
            if self._live():
                actions.do_top_up(self.contract, quantity=minutes, key=self._key("top"), actor=None)

        @rule(minutes=st.integers(min_value=1, max_value=300))
        def grant_by_adjustment(self, minutes: int) -> None:
            actions.do_adjust_balance(
                self.contract, quantity=minutes, key=self._key("adj"), reason="goodwill",
                actor=None,
            )  # fmt: skip

        @rule()
        def expire(self) -> None:
            actions.do_expire_contract(self.contract, actor=None)

        @rule()
        def renew(self) -> None:
            if self.contract.status in (ContractStatus.ACTIVE, ContractStatus.EXPIRED) or (
                self._live()
            ):
                renewal = actions.do_renew_contract(self.contract, actor=None)
                old = Contract.objects.get(pk=self.contract.pk)
                assert old.balance == selectors.ledger_sum(contract=old)
                assert old.balance <= 0 or not old.plan_terms.allowance_expires
                self.contract, self.keys, self.reversed = renewal, [], set()

        @invariant()
        def balance_is_the_sum_of_entries(self) -> None:
            self.contract.refresh_from_db()
            assert self.contract.balance == selectors.ledger_sum(contract=self.contract)

        @invariant()
        def never_below_zero_under_block_or_bill(self) -> None:
            assert self.contract.balance >= 0

        @invariant()
        def no_entry_applied_twice(self) -> None:
            keys = list(
                LedgerEntry.objects.filter(contract=self.contract).values_list("key", flat=True)
            )
            assert len(keys) == len(set(keys))
            reversed_ids = list(
                LedgerEntry.objects.filter(
                    contract=self.contract, reverses__isnull=False
                ).values_list("reverses_id", flat=True)
            )
            assert len(reversed_ids) == len(set(reversed_ids))

    return LedgerMachine


@pytest.mark.parametrize("policy", ["block", "bill"])
def test_ledger_state_machine(cast, shop, policy) -> None:
    machine = make_machine(cast, shop, policy)
    machine.TestCase.settings = settings(
        max_examples=25,
        stateful_step_count=25,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    machine.TestCase().runTest()
