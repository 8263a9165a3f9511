"""Bad input, Idempotency-Key semantics and who may read or write what."""

from __future__ import annotations

import pytest

from retainer.contracts.models import Contract, ContractEvent, LedgerEntry
from retainer.lib.models import IdempotencyKey

from .conftest import TODAY
from .helpers import create_contract, post, url


def _counts() -> tuple[int, int, int, int]:
    return (
        Contract.objects.count(),
        LedgerEntry.objects.count(),
        ContractEvent.objects.count(),
        IdempotencyKey.objects.count(),
    )


@pytest.fixture
def bank(cast, shop):
    return create_contract(
        cast.client_for(cast.manager),
        organization=cast.acme.pk,
        preset="bank",
        start_date=TODAY.isoformat(),
        covered_products=[shop.product.pk],
    )


def _contract_body(cast, shop, **changes):
    body = {
        "organization": cast.acme.pk,
        "preset": "bank",
        "start_date": TODAY.isoformat(),
        "covered_products": [shop.product.pk],
    }
    body.update(changes)
    return body


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"preset": "platinum-deluxe"}, "unknown_preset"),
        ({"end_date": "2026-01-01"}, "invalid"),
        ({"terms": {"quantity": -5}}, "invalid"),
        ({"terms": {"currency": "USD"}}, "currency_mismatch"),
        ({"covered_products": []}, "invalid"),
    ],
)
def test_bad_contract_input_is_a_json_400_and_writes_nothing(cast, shop, changes, code) -> None:
    client = cast.client_for(cast.manager)
    before = _counts()
    response = post(client, "contract_list", key="k-1", **_contract_body(cast, shop, **changes))
    assert response.status_code == 400
    assert response.json()["code"] == code and response.json()["detail"]
    assert _counts() == before


@pytest.mark.parametrize("quantity", [0, -3])
def test_zero_or_negative_quantities_are_refused(cast, bank, quantity) -> None:
    client = cast.client_for(cast.billing)
    before = _counts()
    for name, extra in (
        ("contract_top_up", {"key": "t"}),
        ("contract_consume", {"key": "c", "source_type": "case"}),
    ):
        response = post(client, name, bank["id"], quantity=quantity, **extra)
        assert response.status_code == 400 and response.json()["code"] == "invalid"
    assert _counts() == before


def test_a_top_up_in_another_currency_is_refused(cast, bank) -> None:
    before = _counts()
    response = post(
        cast.client_for(cast.billing),
        "contract_top_up",
        bank["id"],
        quantity=5,
        price="500",
        currency="USD",
        key="t1",
    )
    assert response.status_code == 400 and response.json()["code"] == "currency_mismatch"
    assert _counts() == before


def test_a_top_up_on_a_cancelled_contract_is_refused(cast, bank) -> None:
    client = cast.client_for(cast.billing)
    assert post(client, "contract_cancel", bank["id"], reason="churned").status_code == 200
    before = _counts()
    response = post(client, "contract_top_up", bank["id"], quantity=5, key="t1")
    assert response.status_code == 409 and response.json()["code"] == "contract_not_active"
    assert _counts() == before


@pytest.mark.parametrize("key", ["", "x" * 256, "bad\x07key"])
def test_a_malformed_idempotency_key_is_a_400(cast, shop, key) -> None:
    before = _counts()
    response = post(
        cast.client_for(cast.manager), "contract_list", key=key, **_contract_body(cast, shop)
    )
    assert response.status_code == 400
    assert response.json()["code"] == "idempotency_key_invalid"
    assert _counts() == before


def test_replaying_a_key_with_the_same_body_returns_the_stored_response(cast, shop) -> None:
    client = cast.client_for(cast.manager)
    first = post(client, "contract_list", key="order-1", **_contract_body(cast, shop))
    count = _counts()
    again = post(client, "contract_list", key="order-1", **_contract_body(cast, shop))
    assert (again.status_code, again.json()) == (first.status_code, first.json())
    assert again.headers["Idempotent-Replayed"] == "true"
    assert _counts() == count


def test_reusing_a_key_with_another_body_is_a_409(cast, shop) -> None:
    client = cast.client_for(cast.manager)
    post(client, "contract_list", key="order-1", **_contract_body(cast, shop))
    count = _counts()
    other = post(
        client, "contract_list", key="order-1", **_contract_body(cast, shop, reference="B")
    )
    assert other.status_code == 409 and other.json()["code"] == "idempotency_key_reused"
    assert other.json()["detail"]
    assert _counts() == count


def test_keys_are_per_user(cast, shop) -> None:
    post(cast.client_for(cast.manager), "contract_list", key="k", **_contract_body(cast, shop))
    response = post(
        cast.client_for(cast.admin), "contract_list", key="k", **_contract_body(cast, shop)
    )
    assert response.status_code == 201
    assert Contract.objects.count() == 2


def test_a_failed_request_stores_no_key_and_can_be_retried(cast, shop) -> None:
    client = cast.client_for(cast.manager)
    bad = post(client, "contract_list", key="k", **_contract_body(cast, shop, preset="nope"))
    assert bad.status_code == 400
    good = post(client, "contract_list", key="k", **_contract_body(cast, shop))
    assert good.status_code == 201


def test_the_outsider_gets_404_on_acmes_contract_and_ledger(cast, bank) -> None:
    client = cast.client_for(cast.outsider)
    for name in ("contract_detail", "contract_balance", "contract_ledger", "contract_events"):
        response = client.get(url(name, bank["id"]))
        assert response.status_code == 404, name
        assert response.json()["code"] == "not_found"
    assert client.get(url("contract_list")).json()["results"] == []


def test_customers_read_their_own_contracts_balance_and_ledger(cast, bank) -> None:
    client = cast.client_for(cast.contact)
    assert [c["id"] for c in client.get(url("contract_list")).json()["results"]] == [bank["id"]]
    assert client.get(url("contract_balance", bank["id"])).json()["balance"] == 10
    ledger = client.get(url("contract_ledger", bank["id"])).json()["results"]
    assert [entry["kind"] for entry in ledger] == ["grant"]


@pytest.mark.parametrize("who", ["customer_admin", "contact"])
def test_customers_cannot_write(cast, shop, bank, who) -> None:
    client = cast.client_for(getattr(cast, who))
    before = _counts()
    assert post(client, "contract_list", **_contract_body(cast, shop)).status_code == 403
    assert post(client, "contract_top_up", bank["id"], quantity=1, key="x").status_code == 403
    assert post(client, "contract_cancel", bank["id"]).status_code == 403
    assert post(client, "contract_renew", bank["id"]).status_code == 403
    response = post(client, "contract_consume", bank["id"], quantity=1, source_type="case", key="c")
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    assert _counts() == before


def test_agents_cannot_create_contracts_but_billing_and_managers_can(cast, shop) -> None:
    denied = post(cast.client_for(cast.agent), "contract_list", **_contract_body(cast, shop))
    assert denied.status_code == 403
    for user in (cast.billing, cast.manager, cast.admin):
        response = post(cast.client_for(user), "contract_list", **_contract_body(cast, shop))
        assert response.status_code == 201


def test_an_agent_overrides_a_decision_with_a_reason_in_history(cast, shop, bank) -> None:
    agent = cast.client_for(cast.agent)
    recorded = post(
        agent,
        "decision_list",
        contact=cast.unauthorized.pk,
        product=shop.other.pk,
        channel="email",
        date=TODAY.isoformat(),
        source_type="case",
        source_id="77",
    )
    assert recorded.status_code == 201, recorded.json()
    decision = recorded.json()
    assert (decision["outcome"], decision["reason"]) == ("not_entitled", "product_not_covered")
    response = post(
        agent,
        "decision_override",
        decision["id"],
        new_outcome="covered",
        contract=bank["id"],
        reason="Same platform; goodwill for the renewal talks.",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["outcome"], body["effective_outcome"]) == ("not_entitled", "covered")
    event = ContractEvent.objects.get(type="decision_overridden")
    assert event.actor == cast.agent and event.data["old"]["outcome"] == "not_entitled"
    customer = cast.client_for(cast.contact)
    assert (
        post(
            customer, "decision_override", decision["id"], new_outcome="covered", reason="x"
        ).status_code
        == 403
    )


def test_the_preview_writes_nothing(cast, shop, bank) -> None:
    before = _counts()
    response = post(
        cast.client_for(cast.agent),
        "decision_preview",
        contact=cast.contact.pk,
        product=shop.product.pk,
        channel="phone",
        date=TODAY.isoformat(),
    )
    assert response.json()["outcome"] == "covered"
    assert _counts() == before


def test_plans_are_versioned_and_contracts_keep_their_snapshot(cast, shop) -> None:
    client = cast.client_for(cast.manager)
    plan = post(
        client,
        "plan_list",
        code="gold-bank",
        name="Gold bank",
        preset="bank",
        products=[shop.product.pk],
        terms={"tier": "gold", "quantity": 20},
    ).json()
    assert plan["tier_rank"] == 3
    contract = create_contract(
        client,
        organization=cast.acme.pk,
        preset="bank",
        plan=plan["id"],
        start_date=TODAY.isoformat(),
    )
    v2 = post(client, "plan_new_version", plan["id"], terms={"quantity": 5})
    assert v2.status_code == 201 and v2.json()["version"] == 2
    assert client.get(url("plan_detail", plan["id"])).json()["is_current"] is False
    stored = client.get(url("contract_detail", contract["id"])).json()
    assert stored["terms"]["quantity"] == 20 and stored["balance"] == 20
    stale = post(client, "plan_new_version", plan["id"], terms={"quantity": 6})
    assert stale.status_code == 409 and stale.json()["code"] == "plan_not_current"


def test_the_schema_documents_the_contracts_api(cast) -> None:
    response = cast.client_for(cast.admin).get("/api/schema/")
    assert response.status_code == 200
    assert b"/api/v1/contracts/{id}/top-ups/" in response.content
    assert b"Idempotency-Key" in response.content


def test_fields_a_write_does_not_take_are_refused(cast, bank) -> None:
    before = _counts()
    response = post(
        cast.client_for(cast.billing),
        "contract_top_up",
        bank["id"],
        quantity=5,
        key="t9",
        balance=1000,
    )
    assert response.status_code == 400 and response.json()["code"] == "field_not_allowed"
    assert _counts() == before
