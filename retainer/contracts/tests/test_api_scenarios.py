"""The issue's scenarios, end to end through the API."""

from __future__ import annotations

from decimal import Decimal

from retainer.contracts.choices import ContractEventType
from retainer.contracts.models import ContractEvent, LedgerEntry

from .conftest import TODAY
from .helpers import create_contract, post, url


def _preview(client, cast, shop, who, **extra):
    body = {"contact": who.pk, "product": shop.product.pk, "channel": "web", **extra}
    response = post(client, "decision_preview", **body)
    assert response.status_code == 200, response.json()
    return response.json()


def test_fixed_fee_capped_at_100_hours_bills_20_of_120_hours_as_overage(cast, shop) -> None:
    client = cast.client_for(cast.billing)
    contract = create_contract(
        client,
        organization=cast.acme.pk,
        preset="fixed_fee",
        start_date=TODAY.isoformat(),
        covered_products=[shop.product.pk],
        terms={"quantity": 100 * 60, "overage_rate": "140.00", "price_amount": "12000"},
    )
    for n in range(12):  # twelve time entries of ten hours
        response = post(
            client,
            "contract_consume",
            contract["id"],
            quantity=600,
            source_type="time_entry",
            source_id=str(n),
            key=f"te-{n}",
        )
        assert response.status_code == 201, response.json()
    entries = LedgerEntry.objects.filter(contract_id=contract["id"], kind="consume")
    covered = -sum(e.quantity for e in entries)
    overage = sum(e.overage_quantity for e in entries)
    assert (covered, overage) == (100 * 60, 20 * 60)
    assert {e.overage_rate for e in entries if e.overage_quantity} == {Decimal("140.00")}
    balance = client.get(url("contract_balance", contract["id"])).json()
    assert balance["balance"] == 0 and balance["overage"] == 1200 and balance["ledger_sum"] == 0


def _bank(client, cast, shop, policy):
    return create_contract(
        client,
        organization=cast.acme.pk,
        preset="bank",
        start_date=TODAY.isoformat(),
        covered_products=[shop.product.pk],
        terms={
            "unit": "incidents",
            "quantity": 10,
            "low_balance_threshold": 2,
            "exhaustion_policy": policy,
            "overage_rate": "450",
        },
    )


def _incident(client, contract_id, n):
    return post(
        client,
        "contract_consume",
        contract_id,
        quantity=1,
        source_type="case",
        source_id=str(n),
        key=f"case:{n}:incident",
    )


def test_a_bank_of_10_warns_once_at_the_8th_and_blocks_the_11th(cast, shop) -> None:
    client = cast.client_for(cast.billing)
    contract = _bank(client, cast, shop, "block")
    warnings = ContractEvent.objects.filter(
        contract_id=contract["id"], type=ContractEventType.LOW_BALANCE
    )
    for n in range(1, 8):
        assert _incident(client, contract["id"], n).status_code == 201
    assert warnings.count() == 0
    assert _incident(client, contract["id"], 8).status_code == 201
    assert warnings.count() == 1
    for n in (9, 10):
        assert _incident(client, contract["id"], n).status_code == 201
    entries = LedgerEntry.objects.count()
    refused = _incident(client, contract["id"], 11)
    assert refused.status_code == 409
    assert refused.json()["code"] == "allowance_exhausted"
    assert LedgerEntry.objects.count() == entries
    assert warnings.count() == 1
    events = client.get(url("contract_events", contract["id"]), {"type": "low_balance"}).json()
    assert len(events["results"]) == 1 and events["results"][0]["data"]["balance"] == 2


def test_a_bank_of_10_with_bill_bills_the_11th(cast, shop) -> None:
    client = cast.client_for(cast.billing)
    contract = _bank(client, cast, shop, "bill")
    for n in range(1, 11):
        assert _incident(client, contract["id"], n).status_code == 201
    eleventh = _incident(client, contract["id"], 11)
    assert eleventh.status_code == 201
    entry = eleventh.json()["entry"]
    assert (entry["quantity"], entry["overage_quantity"], entry["overage_rate"]) == (
        0,
        1,
        "450.0000",
    )
    assert eleventh.json()["balance"] == 0


def test_a_contact_not_on_the_named_list_is_not_entitled(cast, shop) -> None:
    staff = cast.client_for(cast.manager)
    create_contract(
        staff,
        organization=cast.acme.pk,
        preset="maintenance",
        start_date=TODAY.isoformat(),
        covered_products=[shop.product.pk],
        named_contacts=[cast.customer_admin.pk, cast.contact.pk],
        terms={"authorization_policy": "named", "max_named_contacts": 2},
    )
    agent = cast.client_for(cast.agent)
    named = _preview(agent, cast, shop, cast.contact, date=TODAY.isoformat())
    assert named["outcome"] == "covered"
    decision = _preview(agent, cast, shop, cast.unauthorized, date=TODAY.isoformat())
    assert decision["outcome"] == "not_entitled"
    assert decision["reason"] == "contact_not_named"
    assert decision["considered"][0]["reason"] == "contact_not_named"
    assert "named contact" in decision["sentence"]


def test_trained_only_plan_accepts_the_contact_after_a_completed_training(cast, shop) -> None:
    staff = cast.client_for(cast.manager)
    create_contract(
        staff,
        organization=cast.acme.pk,
        preset="subscription",
        start_date=TODAY.isoformat(),
        covered_products=[shop.product.pk],
        terms={"authorization_policy": "trained", "required_course": "Ledgerline Admin 101"},
    )
    agent = cast.client_for(cast.agent)
    before = _preview(agent, cast, shop, cast.contact, date=TODAY.isoformat())
    assert (before["outcome"], before["reason"]) == ("not_entitled", "contact_not_trained")
    assert "Ledgerline Admin 101" in before["sentence"]
    record = post(
        staff,
        "training_record_list",
        contact=cast.contact.pk,
        course="ledgerline admin 101",
        completed_on="2026-01-15",
    )
    assert record.status_code == 201, record.json()
    after = _preview(agent, cast, shop, cast.contact, date=TODAY.isoformat())
    assert after["outcome"] == "covered"


def test_a_release_older_than_current_plus_2_is_out_of_scope_with_a_backport(cast, shop) -> None:
    staff = cast.client_for(cast.manager)
    create_contract(
        staff,
        organization=cast.acme.pk,
        preset="maintenance",
        start_date=TODAY.isoformat(),
        covered_products=[shop.product.pk],
    )
    agent = cast.client_for(cast.agent)
    current, oldest_supported, too_old = shop.releases[-1], shop.releases[-3], shop.releases[-4]
    for release in (current, oldest_supported):
        ok = _preview(agent, cast, shop, cast.contact, release=release.pk, date=TODAY.isoformat())
        assert ok["outcome"] == "covered"
    decision = _preview(agent, cast, shop, cast.contact, release=too_old.pk, date="2026-03-02")
    assert decision["outcome"] == "out_of_scope"
    assert decision["reason"] == "release_too_old"
    assert decision["offering_kind"] == "backport"
    assert decision["offering"]["name"] == shop.backport.name
    assert decision["contract"] is None


def test_a_90_day_warranty_covers_day_90_and_not_day_91(cast, shop) -> None:
    staff = cast.client_for(cast.manager)
    warranty = create_contract(
        staff,
        organization=cast.acme.pk,
        preset="warranty",
        start_date="2026-01-01",
        purchase_date="2026-01-01",
        covered_products=[shop.product.pk],
        terms={"term_days": 90},
    )
    assert warranty["end_date"] == "2026-03-31" and warranty["price"] == "0.0000"
    agent = cast.client_for(cast.agent)
    day_90 = _preview(agent, cast, shop, cast.contact, date="2026-03-31")
    assert (day_90["outcome"], day_90["contract"]) == ("warranty", warranty["id"])
    day_91 = _preview(agent, cast, shop, cast.contact, date="2026-04-01")
    assert (day_91["outcome"], day_91["reason"]) == ("not_entitled", "contract_expired")


def test_maintenance_at_18_percent_of_50000_is_9000_and_renews_at_3_percent_to_9270(
    cast, shop
) -> None:
    staff = cast.client_for(cast.manager)
    maintenance = create_contract(
        staff,
        organization=cast.acme.pk,
        preset="maintenance",
        start_date="2026-01-01",
        covered_products=[shop.product.pk],
        terms={"price_percent": "18", "uplift_percent": "3"},
    )
    assert Decimal(maintenance["price"]) == Decimal("9000")
    assert maintenance["end_date"] == "2026-12-31"
    renewed = post(staff, "contract_renew", maintenance["id"])
    assert renewed.status_code == 201, renewed.json()
    assert Decimal(renewed.json()["price"]) == Decimal("9270")
    assert renewed.json()["start_date"] == "2027-01-01"
    assert staff.get(url("contract_detail", maintenance["id"])).json()["status"] == "renewed"


def test_warranty_comes_before_an_allowance_and_payg_comes_last(cast, shop) -> None:
    staff = cast.client_for(cast.manager)
    common = {
        "organization": cast.acme.pk,
        "start_date": TODAY.isoformat(),
        "covered_products": [shop.product.pk],
    }
    payg = create_contract(staff, preset="payg", **common)
    bank = create_contract(staff, preset="bank", **common)
    warranty = create_contract(staff, preset="warranty", **common)
    agent = cast.client_for(cast.agent)
    first = _preview(agent, cast, shop, cast.contact, date=TODAY.isoformat())
    assert (first["outcome"], first["contract"]) == ("warranty", warranty["id"])
    reasons = {c["contract"]: c["reason"] for c in first["considered"]}
    assert reasons == {
        warranty["id"]: "chosen",
        bank["id"]: "not_preferred",
        payg["id"]: "not_preferred",
    }
    post(staff, "contract_cancel", warranty["id"], reason="sold in error")
    second = _preview(agent, cast, shop, cast.contact, date=TODAY.isoformat())
    assert (second["outcome"], second["contract"]) == ("covered", bank["id"])
    post(staff, "contract_cancel", bank["id"], reason="replaced")
    third = _preview(agent, cast, shop, cast.contact, date=TODAY.isoformat())
    assert (third["outcome"], third["contract"]) == ("covered_billable", payg["id"])
