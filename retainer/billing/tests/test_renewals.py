"""Renewal quotes: contracts ending soon are quoted with the uplift; accepting renews the
contract and the next billing run bills the new term."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from retainer.billing.choices import QuoteStatus
from retainer.billing.models import RenewalQuote
from retainer.billing.tests.conftest import invoices, post, run_billing, sell, url
from retainer.contracts.choices import Preset
from retainer.contracts.models import Contract


def ending_soon(cast, product, **terms):
    return sell(
        cast,
        product,
        Preset.FIXED_FEE,
        start=timezone.localdate() - dt.timedelta(days=330),
        price_amount="12000",
        uplift_percent="3",
        **terms,
    )


def test_contracts_ending_within_60_days_get_one_quote_with_the_uplift(cast, product):
    contract = ending_soon(cast, product)
    sell(cast, product, Preset.FIXED_FEE, start=timezone.localdate(), price_amount="500")
    client = cast.client_for(cast.billing)

    first = post(client, "renewal_quote_generate", within_days=60)
    again = post(client, "renewal_quote_generate", within_days=60)

    assert first.status_code == 201, first.json()
    (quote,) = first.json()
    assert quote["contract"] == contract.pk
    assert Decimal(quote["current_price"]) == Decimal(12000)
    assert Decimal(quote["price"]) == Decimal(12360)
    assert quote["term_start"] == str(contract.end_date + dt.timedelta(days=1))
    assert again.json() == []
    listed = client.get(url("renewal_quote_list")).json()["results"]
    assert [row["id"] for row in listed] == [quote["id"]]


def test_agents_and_customers_cannot_see_or_accept_quotes(cast, product):
    ending_soon(cast, product)
    post(cast.client_for(cast.billing), "renewal_quote_generate")
    quote = RenewalQuote.objects.get()
    for who in (cast.agent, cast.customer_admin):
        client = cast.client_for(who)
        assert client.get(url("renewal_quote_list")).status_code == 403
        assert post(client, "renewal_quote_accept", quote.pk).status_code == 403
    assert RenewalQuote.objects.get().status == QuoteStatus.OPEN


def test_accepting_a_quote_renews_the_contract_and_the_next_run_bills_it(cast, product):
    contract = ending_soon(cast, product)
    client = cast.client_for(cast.billing)
    run_billing(client)  # the current term's fee
    post(client, "renewal_quote_generate")
    quote = RenewalQuote.objects.get()

    accepted = post(client, "renewal_quote_accept", quote.pk)
    twice = post(client, "renewal_quote_accept", quote.pk)
    run_billing(client)

    assert accepted.status_code == 200, accepted.json()
    assert accepted.json()["status"] == QuoteStatus.ACCEPTED
    assert twice.json()["renewal"] == accepted.json()["renewal"]
    renewal = Contract.objects.get(pk=accepted.json()["renewal"])
    assert renewal.previous_id == contract.pk
    assert renewal.price == Decimal(12360)
    second, first = invoices(client)
    assert [Decimal(line["amount"]) for line in first["lines"]] == [Decimal(12000)]
    assert [(line["contract"], Decimal(line["amount"])) for line in second["lines"]] == [
        (renewal.pk, Decimal(12360))
    ]


def test_the_quote_list_shows_quotes_of_every_status_and_filters_by_status(cast, product):
    ending_soon(cast, product)
    client = cast.client_for(cast.billing)
    post(client, "renewal_quote_generate")
    quote = RenewalQuote.objects.get()
    post(client, "renewal_quote_accept", quote.pk)

    every = client.get(url("renewal_quote_list")).json()["results"]
    accepted = client.get(url("renewal_quote_list"), {"status": QuoteStatus.ACCEPTED}).json()
    still_open = client.get(url("renewal_quote_list"), {"status": QuoteStatus.OPEN}).json()

    assert [(row["id"], row["status"]) for row in every] == [(quote.pk, QuoteStatus.ACCEPTED)]
    assert [row["id"] for row in accepted["results"]] == [quote.pk]
    assert still_open["results"] == []
