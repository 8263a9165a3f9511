"""Professional services end to end: an out-of-scope case quoted at the catalogue price,
accepted in the portal or the API, its engagement billed exactly once (milestones and
time, to the cent), refusals that write nothing, and the figures metrics reads."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.db.models import Model
from django.urls import reverse
from django.utils import timezone

from retainer.billing import selectors, services
from retainer.billing.choices import BillingEventType, ItemKind, ServiceQuoteStatus
from retainer.billing.models import (
    BilledItem,
    BillingEvent,
    Engagement,
    EngagementMilestone,
    EngagementTimeEntry,
    InvoiceLine,
    ServiceQuote,
)
from retainer.billing.tests.conftest import post, run_billing, sell, this_period, url
from retainer.cases import actions as case_actions
from retainer.cases.models import Case
from retainer.catalog import actions as catalog_actions
from retainer.catalog.models import Product, ServiceOffering
from retainer.contracts.choices import Outcome, Preset
from retainer.lib.models import OutboxMessage
from retainer.lib.tests.hostile import PAYLOADS


@pytest.fixture
def desk(cast, product: Product) -> dict[str, Any]:
    """Ledgerline with five releases and a scope of the current one plus two, a bank
    contract for Acme, and the catalogue's backport (fixed) and consulting (per hour)."""
    today = timezone.localdate()
    releases = [
        catalog_actions.do_save_release(
            None,
            actor=cast.admin,
            product=product,
            version=version,
            ga_date=today - dt.timedelta(days=400 * (5 - n)),
        )
        for n, version in enumerate(["1.0", "2.0", "3.0", "4.0", "5.0"])
    ]
    catalog_actions.do_save_scope_policy(
        None, actor=cast.admin, product=product, supported_previous_releases=2
    )
    backport = catalog_actions.do_save_offering(
        None,
        actor=cast.admin,
        kind="backport",
        name="Backport",
        description="A fix ported to your release, tested on it.",
        price=Decimal(2400),
    )
    consulting = catalog_actions.do_save_offering(
        None,
        actor=cast.admin,
        kind="customization",
        name="Customization",
        price=Decimal("137.50"),
        unit="per_hour",
    )
    sell(cast, product, Preset.BANK)
    return {"old": releases[0], "backport": backport, "consulting": consulting}


def out_of_scope_case(cast, product: Product, desk: dict[str, Any]) -> Case:
    case = case_actions.check_open_case(
        contact=cast.contact,
        product=product,
        release=desk["old"],
        subject="Posting fails on 1.0",
        description="The nightly job stops.",
        channel="web",
        actor=cast.contact.user,
    )
    assert case.entitlement == Outcome.OUT_OF_SCOPE
    return case


def quote_case(cast, case: Case, **data: Any) -> dict[str, Any]:
    response = post(
        cast.client_for(cast.billing), "service_quote_list", case=case.public_id, send=True, **data
    )
    assert response.status_code == 201, response.json()
    return response.json()


def accept(cast, who, quote_id: int) -> Any:
    return post(cast.client_for(who), "service_quote_accept", quote_id)


COUNTED: tuple[type[Model], ...] = (
    ServiceQuote,
    Engagement,
    EngagementMilestone,
    EngagementTimeEntry,
    BillingEvent,
    OutboxMessage,
)


def counts() -> dict[str, int]:
    return {model.__name__: model._default_manager.count() for model in COUNTED}


def test_an_out_of_scope_case_is_quoted_at_the_catalogue_price_with_its_terms(cast, product, desk):
    case = out_of_scope_case(cast, product, desk)
    page = cast.client_for(cast.billing).get(
        "/console/services/quotes/new/", {"case": case.public_id}
    )
    assert page.status_code == 200
    assert f'value="{desk["backport"].pk}" selected' in page.content.decode()
    listed = cast.client_for(cast.billing).get("/console/services/quotes/")
    assert "Offer services" in listed.content.decode() and case.reference in listed.content.decode()

    quote = quote_case(cast, case, offering=desk["backport"].pk)

    assert (quote["status"], quote["pricing"], quote["amount"]) == ("sent", "fixed", "2400.0000")
    assert quote["case_reference"] == case.reference and quote["organization"] == cast.acme.pk
    assert quote["terms"].startswith("A fix ported to your release")
    assert services.STANDARD_TERMS in quote["terms"]
    assert quote["number"] == f"SQ-{quote['id']:05d}"
    types = list(
        BillingEvent.objects.filter(service_quote_id=quote["id"])
        .order_by("id")
        .values_list("type", flat=True)
    )
    assert types == [BillingEventType.SERVICE_QUOTE_CREATED, BillingEventType.SERVICE_QUOTE_SENT]
    # A later catalogue change never changes the quote.
    catalog_actions.do_save_offering(
        desk["backport"], actor=cast.admin, kind="backport", name="Backport", price=Decimal(9999)
    )
    assert ServiceQuote.objects.get(pk=quote["id"]).amount == Decimal(2400)


def test_the_customer_sees_the_quote_and_cannot_accept_it_twice(cast, product, desk):
    case = out_of_scope_case(cast, product, desk)
    quote = quote_case(cast, case, offering=desk["backport"].pk)
    portal = cast.client_for(cast.contact)
    assert quote["number"] in portal.get("/portal/quotes/").content.decode()
    detail = portal.get(f"/portal/quotes/{quote['id']}/").content.decode()
    assert "Accept the quote" in detail and services.STANDARD_TERMS[:40] in detail

    response = portal.post(f"/portal/quotes/{quote['id']}/accept/")
    assert response.status_code == 302
    before = counts()
    again = accept(cast, cast.contact, quote["id"])

    assert again.status_code == 409 and again.json()["code"] == "quote_accepted"
    assert "was accepted on" in again.json()["detail"]
    assert counts() == before  # nothing written the second time
    engagement = Engagement.objects.get(quote_id=quote["id"])
    (milestone,) = engagement.milestones.all()
    assert (milestone.amount, milestone.title) == (Decimal(2400), "Backport")
    stored = ServiceQuote.objects.get(pk=quote["id"])
    assert (stored.decided_by, stored.status) == (cast.contact, ServiceQuoteStatus.ACCEPTED)
    assert set(
        BillingEvent.objects.filter(engagement=engagement).values_list("type", flat=True)
    ) == {BillingEventType.SERVICE_QUOTE_ACCEPTED, BillingEventType.ENGAGEMENT_CREATED}


def test_refused_acceptances_answer_clearly_and_write_nothing(cast, product, desk):
    case = out_of_scope_case(cast, product, desk)
    quote = quote_case(cast, case, offering=desk["backport"].pk)
    valid_until = dt.date.fromisoformat(quote["valid_until"])
    before = counts()

    outsider = accept(cast, cast.outsider, quote["id"])
    plain = accept(cast, cast.unauthorized, quote["id"])
    staff = accept(cast, cast.billing, quote["id"])
    late = dt.datetime.combine(valid_until + dt.timedelta(days=2), dt.time(12), tzinfo=dt.UTC)
    with time_machine.travel(late, tick=False):
        expired = accept(cast, cast.contact, quote["id"])
        portal = cast.client_for(cast.customer_admin).post(
            f"/portal/quotes/{quote['id']}/accept/", follow=True
        )

    assert (outsider.status_code, outsider.json()["code"]) == (404, "not_found")
    assert (plain.status_code, plain.json()["code"]) == (403, "not_quote_decider")
    assert "customer administrator of Acme" in plain.json()["detail"]
    assert (staff.status_code, staff.json()["code"]) == (403, "customer_decides")
    assert (expired.status_code, expired.json()["code"]) == (409, "quote_expired")
    assert f"expired on {valid_until:%Y-%m-%d}" in expired.json()["detail"]
    assert f"expired on {valid_until:%Y-%m-%d}" in portal.content.decode()
    assert counts() == before
    assert ServiceQuote.objects.get(pk=quote["id"]).status == ServiceQuoteStatus.SENT


def test_a_declined_quote_cannot_be_accepted_and_a_draft_is_not_shown(cast, product, desk):
    case = out_of_scope_case(cast, product, desk)
    quote = quote_case(cast, case, offering=desk["backport"].pk)
    declined = post(
        cast.client_for(cast.customer_admin),
        "service_quote_decline",
        quote["id"],
        reason="Not this quarter.",
    )
    assert declined.status_code == 200 and declined.json()["status"] == "declined"
    refused = accept(cast, cast.customer_admin, quote["id"])
    assert (refused.status_code, refused.json()["code"]) == (409, "quote_closed")

    draft = post(
        cast.client_for(cast.billing),
        "service_quote_list",
        organization=cast.acme.pk,
        offering=desk["consulting"].pk,
    ).json()
    assert draft["status"] == "draft"
    assert (
        cast.client_for(cast.contact).get(url("service_quote_detail", draft["id"])).status_code
        == 404
    )
    assert cast.client_for(cast.contact).get(f"/portal/quotes/{draft['id']}/").status_code == 404


def test_a_split_must_add_up_to_the_quote_exactly_and_writes_nothing_otherwise(cast, product, desk):
    case = out_of_scope_case(cast, product, desk)
    quote = quote_case(cast, case, offering=desk["backport"].pk)
    accept(cast, cast.contact, quote["id"])
    engagement = Engagement.objects.get(quote_id=quote["id"])
    billing = cast.client_for(cast.billing)
    before = counts()

    wrong = post(
        billing,
        "engagement_milestones",
        engagement.pk,
        milestones=[{"title": "Analysis", "amount": "800"}, {"title": "Fix", "amount": "1599.99"}],
    )

    assert (wrong.status_code, wrong.json()["code"]) == (400, "milestones_sum")
    assert "2399.99 EUR" in wrong.json()["detail"] and "2400.00 EUR" in wrong.json()["detail"]
    assert counts() == before
    split = post(
        billing,
        "engagement_milestones",
        engagement.pk,
        milestones=[{"title": "Analysis", "amount": "800"}, {"title": "Fix", "amount": "1600"}],
    )
    assert split.status_code == 201, split.json()
    assert [m["amount"] for m in split.json()["milestones"]] == ["800.0000", "1600.0000"]
    assert engagement.milestones.filter(replaced_at__isnull=False).count() == 1


def test_a_run_bills_milestones_and_time_once_to_the_cent(cast, product, desk):
    """A fixed-price backport split 800 + 1600 with the first delivered, and a customization
    at 137.50/h with 7 + 50 minutes: 800.00, and 57 min × 137.50 / 60 = 130.625 → 130.63."""
    case = out_of_scope_case(cast, product, desk)
    fixed = quote_case(cast, case, offering=desk["backport"].pk)
    hourly = quote_case(cast, case, offering=desk["consulting"].pk)
    for quote in (fixed, hourly):
        assert accept(cast, cast.contact, quote["id"]).status_code == 200
    billing = cast.client_for(cast.billing)
    fixed_engagement = Engagement.objects.get(quote_id=fixed["id"]).pk
    hourly_engagement = Engagement.objects.get(quote_id=hourly["id"]).pk
    split = post(
        billing,
        "engagement_milestones",
        fixed_engagement,
        milestones=[{"title": "Analysis", "amount": "800"}, {"title": "Fix", "amount": "1600"}],
    ).json()
    first = split["milestones"][0]["id"]
    assert post(billing, "engagement_milestone_deliver", first).status_code == 200
    entries = [
        post(billing, "engagement_time_entries", hourly_engagement, minutes=minutes).json()["id"]
        for minutes in (7, 50)
    ]

    run = run_billing(billing)

    lines = InvoiceLine.objects.filter(kind=ItemKind.SERVICES).order_by("amount")
    assert [(line.amount, line.minutes, line.case_id) for line in lines] == [
        (Decimal("130.63"), 57, case.pk),
        (Decimal("800.00"), None, case.pk),
    ]
    assert lines[0].description.startswith(f"Services {hourly['number']}: Customization")
    assert lines[1].description == f"Services {fixed['number']}: Backport, milestone 1: Analysis"
    keys = set(
        BilledItem.objects.filter(kind=ItemKind.SERVICES).values_list("source_key", flat=True)
    )
    assert keys == {f"milestone:{first}", *(f"engagement-time:{pk}" for pk in entries)}
    assert run["items_total"] >= 3

    again = run_billing(billing)
    assert again["lines_created"] == 0 and again["items_done"] == 0
    assert InvoiceLine.objects.filter(kind=ItemKind.SERVICES).count() == 2
    page = billing.get(f"/console/services/engagements/{fixed_engagement}/").content.decode()
    assert "Mark delivered" in page and "invoice" in page


def test_time_on_a_fixed_price_engagement_and_a_split_after_delivery_are_refused(
    cast, product, desk
):
    case = out_of_scope_case(cast, product, desk)
    quote = quote_case(cast, case, offering=desk["backport"].pk)
    accept(cast, cast.contact, quote["id"])
    engagement = Engagement.objects.get(quote_id=quote["id"])
    billing = cast.client_for(cast.billing)
    services.check_deliver_milestone(cast.billing, engagement.milestones.get().pk)
    before = counts()

    time = post(billing, "engagement_time_entries", engagement.pk, minutes=30)
    split = post(
        billing,
        "engagement_milestones",
        engagement.pk,
        milestones=[{"title": "All", "amount": "2400"}],
    )

    assert (time.status_code, time.json()["code"]) == (400, "not_time_and_materials")
    assert (split.status_code, split.json()["code"]) == (409, "milestone_delivered")
    assert counts() == before


def test_the_figures_for_metrics(cast, product, desk):
    case = out_of_scope_case(cast, product, desk)
    won = quote_case(cast, case, offering=desk["backport"].pk)
    lost = quote_case(cast, case, offering=desk["consulting"].pk)
    quote_case(cast, case, offering=desk["consulting"].pk)  # still open: not decided
    accept(cast, cast.contact, won["id"])
    post(cast.client_for(cast.contact), "service_quote_decline", lost["id"])
    milestone = Engagement.objects.get(quote_id=won["id"]).milestones.get()
    services.check_deliver_milestone(cast.billing, milestone.pk)
    run_billing(cast.client_for(cast.billing))

    conversion = selectors.quote_conversion()
    assert (conversion.accepted, conversion.declined, conversion.decided) == (1, 1, 2)
    assert conversion.rate == Decimal("0.5000")
    assert selectors.services_revenue_by_month() == [
        selectors.MonthRevenue(this_period().start, "EUR", Decimal("2400.00"))
    ]
    assert selectors.services_revenue_by_month(organization_id=cast.globex.pk) == []


def test_expired_quotes_are_marked_with_their_event(cast, product, desk):
    case = out_of_scope_case(cast, product, desk)
    quote = quote_case(cast, case, offering=desk["backport"].pk)
    later = dt.datetime.combine(
        dt.date.fromisoformat(quote["valid_until"]) + dt.timedelta(days=2),
        dt.time(12),
        tzinfo=dt.UTC,
    )
    with time_machine.travel(later, tick=False):
        assert services.do_expire_service_quotes() == 1
        assert services.do_expire_service_quotes() == 0
    assert ServiceQuote.objects.get(pk=quote["id"]).status == ServiceQuoteStatus.EXPIRED
    assert BillingEvent.objects.filter(type=BillingEventType.SERVICE_QUOTE_EXPIRED).count() == 1


@pytest.mark.parametrize("payload", PAYLOADS[:6])
def test_hostile_text_on_quotes_and_engagements_stays_text(cast, product, desk, payload):
    case = out_of_scope_case(cast, product, desk)
    quote = quote_case(cast, case, offering=desk["consulting"].pk, scope=payload)
    accept(cast, cast.contact, quote["id"])
    engagement = Engagement.objects.get(quote_id=quote["id"])
    services.check_log_engagement_time(cast.billing, engagement.pk, minutes=15, note=payload)
    pages = [
        cast.client_for(cast.billing).get(f"/console/services/quotes/{quote['id']}/"),
        cast.client_for(cast.billing).get(f"/console/services/engagements/{engagement.pk}/"),
        cast.client_for(cast.contact).get(f"/portal/quotes/{quote['id']}/"),
    ]
    for page in pages:
        assert page.status_code == 200
        assert payload not in page.content.decode()


def test_offerings_quoted_from_an_organization_need_an_active_offering(cast, desk):
    catalog_actions.do_save_offering(desk["backport"], actor=cast.admin, is_active=False)
    before = counts()
    response = post(
        cast.client_for(cast.billing),
        "service_quote_list",
        organization=cast.acme.pk,
        offering=desk["backport"].pk,
    )
    assert (response.status_code, response.json()["code"]) == (400, "offering_inactive")
    assert counts() == before
    assert isinstance(desk["backport"], ServiceOffering)


def _queries(client: Any, path: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return len(captured)


def test_the_quote_lists_take_as_many_queries_for_three_quotes_as_for_six(cast, product, desk):
    case = out_of_scope_case(cast, product, desk)
    billing, contact = cast.client_for(cast.billing), cast.client_for(cast.contact)

    def add_three() -> None:
        for _ in range(3):
            quote = quote_case(cast, case, offering=desk["consulting"].pk)
            accept(cast, cast.customer_admin, quote["id"])

    add_three()
    few = [_queries(billing, "/console/services/quotes/"), _queries(contact, "/portal/quotes/")]
    add_three()
    many = [_queries(billing, "/console/services/quotes/"), _queries(contact, "/portal/quotes/")]
    assert many == few


def test_the_console_quotes_a_case_and_logs_time_and_a_manager_only_reads(cast, product, desk):
    case = out_of_scope_case(cast, product, desk)
    billing, manager = cast.client_for(cast.billing), cast.client_for(cast.manager)
    form = {"case": case.public_id, "offering": desk["consulting"].pk, "send": "on"}
    before = counts()
    assert manager.post("/console/services/quotes/new/", form).status_code == 403
    assert counts() == before

    created = billing.post("/console/services/quotes/new/", form)

    quote = ServiceQuote.objects.get()
    assert created.status_code == 302 and created["Location"].endswith(f"/quotes/{quote.pk}/")
    assert (quote.case, quote.status, quote.amount) == (case, "sent", Decimal("137.50"))
    decline = cast.client_for(cast.contact).post(
        f"/portal/quotes/{quote.pk}/decline/", {"reason": "x" * 2001}, follow=True
    )
    assert "at most 2000 characters" in decline.content.decode()
    accept(cast, cast.contact, quote.pk)
    engagement = Engagement.objects.get(quote=quote)
    path = f"/console/services/engagements/{engagement.pk}/time/"
    assert manager.post(path, {"minutes": 30}).status_code == 403
    logged = billing.post(path, {"minutes": 30, "note": "Mapping"}, follow=True)
    assert "30 minutes logged." in logged.content.decode()
    refused = billing.post(path, {"minutes": 0}, follow=True)
    assert "greater than or equal to 1" in refused.content.decode()
    assert engagement.time_entries.count() == 1


def test_the_case_page_offers_services_on_an_out_of_scope_case(cast, product, desk):
    case = out_of_scope_case(cast, product, desk)
    link = f"/console/services/quotes/new/?case={case.public_id}"
    assert (
        link
        in cast.client_for(cast.billing)
        .get(reverse("console:case_page", args=[case.public_id]))
        .content.decode()
    )
    assert (
        link
        not in cast.client_for(cast.agent)
        .get(reverse("console:case_page", args=[case.public_id]))
        .content.decode()
    )
    assert "/portal/quotes/" in cast.client_for(cast.contact).get("/portal/cases/").content.decode()
