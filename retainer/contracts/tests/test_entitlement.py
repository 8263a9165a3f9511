"""The pure decision: plain values in, a decision out (no database)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from retainer.contracts.entitlement import ContactFacts, ContractFacts, Reason, Request, decide
from retainer.contracts.ledger import Exhausted, split_consumption

DAY = dt.date(2026, 6, 1)
ALL = frozenset({"web", "email", "phone", "api"})


def contract(id: int, **changes) -> ContractFacts:
    values: dict[str, Any] = {
        "id": id,
        "organization_id": 1,
        "status": "active",
        "start": dt.date(2026, 1, 1),
        "end": dt.date(2026, 12, 31),
        "unit": "incidents",
        "balance": 5,
        "quantity": 10,
        "exhaustion_policy": "block",
        "product_ids": frozenset({7}),
        "channels": ALL,
    }
    values.update(changes)
    return ContractFacts(**values)


def request(**changes) -> Request:
    values: dict[str, Any] = {
        "contact": ContactFacts(id=3, organization_id=1),
        "organization_id": 1,
        "product_id": 7,
        "channel": "email",
        "on": DAY,
    }
    values.update(changes)
    return Request(**values)


def test_no_contract_is_not_entitled() -> None:
    decision = decide(request(), [])
    assert (decision.outcome, decision.reason) == ("not_entitled", Reason.NO_CONTRACT)


def test_an_inactive_contact_is_not_entitled() -> None:
    decision = decide(request(contact=ContactFacts(3, 1, is_active=False)), [contract(1)])
    assert decision.reason == Reason.CONTACT_INACTIVE


def test_exhausted_with_block_is_refused_and_with_bill_is_billable() -> None:
    blocked = decide(request(), [contract(1, balance=0)])
    assert (blocked.outcome, blocked.reason) == ("not_entitled", Reason.EXHAUSTED)
    billed = decide(request(), [contract(1, balance=0, exhaustion_policy="bill")])
    assert (billed.outcome, billed.contract_id) == ("covered_billable", 1)


def test_soonest_expiring_allowance_is_used_first() -> None:
    later = contract(1, end=dt.date(2026, 12, 31))
    sooner = contract(2, end=dt.date(2026, 9, 30))
    assert decide(request(), [later, sooner]).contract_id == 2


def test_the_channel_must_be_covered() -> None:
    decision = decide(request(channel="phone"), [contract(1, channels=frozenset({"web"}))])
    assert decision.reason == Reason.CHANNEL_NOT_COVERED


@given(
    contracts=st.lists(
        st.builds(
            contract,
            id=st.integers(1, 10_000),
            status=st.sampled_from(["draft", "active", "expired", "cancelled"]),
            balance=st.integers(-5, 5),
            exhaustion_policy=st.sampled_from(["block", "bill", "allow"]),
            is_warranty=st.booleans(),
            unit=st.sampled_from(["incidents", "hours", "none"]),
            end=st.one_of(st.none(), st.dates(dt.date(2026, 1, 1), dt.date(2027, 1, 1))),
        ),
        max_size=6,
        unique_by=lambda c: c.id,
    )
)
def test_every_contract_is_reported_and_the_chosen_one_passed_every_check(contracts) -> None:
    decision = decide(request(), contracts)
    assert sorted(c.contract_id for c in decision.considered) == sorted(c.id for c in contracts)
    chosen = [c for c in decision.considered if c.reason == Reason.CHOSEN]
    if decision.contract_id is None:
        assert decision.outcome == "not_entitled" and not chosen
    else:
        assert [c.contract_id for c in chosen] == [decision.contract_id]
        picked = next(c for c in contracts if c.id == decision.contract_id)
        assert picked.status == "active" and (picked.end is None or picked.end >= DAY)
        eligible_warranty = [
            c
            for c in decision.considered
            if c.eligible and next(x for x in contracts if x.id == c.contract_id).is_warranty
        ]
        if eligible_warranty:
            assert decision.outcome == "warranty"
    assert decision.sentence


@given(
    balance=st.integers(-100, 100),
    quantity=st.integers(1, 200),
    policy=st.sampled_from(["block", "bill", "allow"]),
)
def test_a_split_never_loses_or_invents_a_minute(balance, quantity, policy) -> None:
    try:
        split = split_consumption(balance=balance, quantity=quantity, policy=policy)
    except Exhausted:
        assert policy == "block" and balance <= 0
        return
    assert split.total == quantity
    if policy != "allow":
        assert balance - split.covered >= min(balance, 0)
        assert split.covered <= max(balance, 0)
