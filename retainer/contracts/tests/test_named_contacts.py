"""Named contacts of a contract, in the console and the admin: at most the plan's limit
plus the contract's extra named contacts (``actions.check_named_contacts``)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from retainer.contracts import actions
from retainer.contracts.choices import ContractEventType, Preset
from retainer.contracts.models import Contract, LedgerEntry

from .conftest import TODAY


@pytest.fixture
def named(cast, shop) -> Contract:
    """A maintenance contract for at most 2 named contacts."""
    return actions.do_create_contract(
        organization=cast.acme, preset=Preset.MAINTENANCE, start_date=TODAY,
        covered_products=[shop.product], actor=cast.admin,
        terms={"authorization_policy": "named", "max_named_contacts": 2},
    )  # fmt: skip


def url(contract: Contract) -> str:
    return f"/console/contracts/{contract.pk}/named-contacts/"


def test_contacts_are_named_up_to_the_limit_and_one_more_is_refused(cast, named):
    client = cast.client_for(cast.billing)
    for contact in (cast.customer_admin, cast.contact):
        assert client.post(url(named), {"op": "add", "contact": contact.pk}).status_code == 302
    response = client.post(url(named), {"op": "add", "contact": cast.unauthorized.pk})
    assert response.status_code == 400
    assert "This contract allows at most 2 named contacts." in response.content.decode()
    assert set(named.named_contacts.all()) == {cast.customer_admin, cast.contact}
    assert named.events.filter(type=ContractEventType.NAMED_CONTACTS_CHANGED).count() == 2


def test_extra_named_contacts_raise_the_limit(cast, shop):
    contract = actions.do_create_contract(
        organization=cast.acme, preset=Preset.MAINTENANCE, start_date=TODAY,
        covered_products=[shop.product], extra_named_contacts=1, actor=cast.admin,
        terms={"authorization_policy": "named", "max_named_contacts": 1},
    )  # fmt: skip
    client = cast.client_for(cast.manager)
    assert "at most 2 (1 in the plan, 1 extra)" in client.get(url(contract)).content.decode()
    for contact in (cast.customer_admin, cast.contact):
        client.post(url(contract), {"op": "add", "contact": contact.pk})
    assert contract.named_contacts.count() == 2


def test_a_contact_is_removed_and_the_freed_place_can_be_used(cast, named):
    actions.do_set_named_contacts(named, [cast.customer_admin, cast.contact], actor=None)
    client = cast.client_for(cast.billing)
    client.post(url(named), {"op": "remove", "contact": cast.contact.pk})
    client.post(url(named), {"op": "add", "contact": cast.unauthorized.pk})
    assert set(named.named_contacts.all()) == {cast.customer_admin, cast.unauthorized}


def test_only_contacts_of_the_contracts_organization_can_be_named(cast, named):
    response = cast.client_for(cast.billing).post(
        url(named), {"op": "add", "contact": cast.outsider.pk}
    )
    assert response.status_code == 400
    assert not named.named_contacts.exists()


def test_an_agent_sees_the_named_contacts_but_may_not_change_them(cast, named):
    actions.do_set_named_contacts(named, [cast.contact], actor=None)
    client = cast.client_for(cast.agent)
    page = client.get(url(named)).content.decode()
    assert "Carl Contact" in page and "Name this contact" not in page
    response = client.post(url(named), {"op": "add", "contact": cast.customer_admin.pk})
    assert response.status_code == 403
    assert list(named.named_contacts.all()) == [cast.contact]


def test_the_admin_refuses_too_many_named_contacts_as_a_form_error(cast, named):
    entries = list(LedgerEntry.objects.filter(contract=named))
    form = {
        "name": named.name, "reference": "",
        "named_contacts": [cast.customer_admin.pk, cast.contact.pk, cast.unauthorized.pk],
        "ledger-TOTAL_FORMS": len(entries), "ledger-INITIAL_FORMS": len(entries),
        "ledger-MIN_NUM_FORMS": 0, "ledger-MAX_NUM_FORMS": 1000,
    }  # fmt: skip
    for n, entry in enumerate(entries):
        form[f"ledger-{n}-id"] = entry.pk
        form[f"ledger-{n}-contract"] = named.pk
    client = cast.client_for(cast.admin)
    response = client.post(reverse("admin:contracts_contract_change", args=[named.pk]), form)
    assert response.status_code == 200
    assert "This contract allows at most 2 named contacts." in response.content.decode()
    assert not named.named_contacts.exists()
    form["named_contacts"] = [cast.customer_admin.pk, cast.contact.pk]
    form["name"] = "Acme — named support"
    response = client.post(reverse("admin:contracts_contract_change", args=[named.pk]), form)
    assert response.status_code == 302
    named.refresh_from_db()
    assert named.named_contacts.count() == 2 and named.name == "Acme — named support"
