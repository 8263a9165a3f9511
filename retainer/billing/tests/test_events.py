"""Billing's typed events: each type reads back from its history row, every row has its
outbox message, customers read only the allow-list, and a rolled-back action or batch
leaves neither row."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest
from django.db import transaction

from retainer.billing import actions, events, run
from retainer.billing.choices import BillingEventType, InvoiceStatus, RunStatus
from retainer.billing.models import BillingEvent, BillingRun, Invoice, NumberSeries
from retainer.billing.tests.conftest import open_case, run_billing, sell, this_period
from retainer.contracts.choices import Preset
from retainer.lib.events import Audience, Event, parse, record
from retainer.lib.models import OutboxMessage

SOURCE = "billing.billingevent"
SAMPLES: list[Event] = [
    events.RunStarted(period="2026-10", organization=None, issue=True),
    events.RunFinished(invoices=2, lines=3, items=4),
    events.RunFailed(error="OperationalError"),
    events.InvoiceCreated(),
    events.InvoiceChanged(changes={"notes": {"old": "", "new": "Call first"}}),
    events.InvoiceLineAdded(line=7, amount="200.0000"),
    events.InvoiceIssued(number="INV-2026-000001", total="238.0000"),
    events.InvoicePaid(reference="Bank 4711"),
    events.InvoiceVoided(reason="Wrong address", released_items=2),
    events.CreditNoteIssued(number="CN-2026-000001", total="50.0000"),
    events.ProfileChanged(organization=1, old=None, new={"tax_rate": "19"}),
    events.QuoteCreated(contract=3, price="12360.0000"),
    events.QuoteAccepted(contract=3, renewal=4, price="12360.0000"),
    # Professional services.
    events.ServiceQuoteCreated(
        number="SQ-00001", offering=2, case=5, pricing="fixed", amount="2400.0000", currency="EUR"
    ),
    events.ServiceQuoteSent(number="SQ-00001", valid_until="2026-12-31"),
    events.ServiceQuoteAccepted(number="SQ-00001", contact=8),
    events.ServiceQuoteDeclined(number="SQ-00002", contact=8, reason="Too expensive"),
    events.ServiceQuoteWithdrawn(number="SQ-00003"),
    events.ServiceQuoteExpired(number="SQ-00004", valid_until="2026-11-30"),
    events.EngagementCreated(quote=1, pricing="fixed", amount="2400.0000"),
    events.MilestonesSplit(
        milestones=[{"id": 3, "title": "Analysis", "amount": "800.0000"}], replaced=[1]
    ),
    events.MilestoneDelivered(milestone=3, amount="800.0000", delivered_on="2026-12-01"),
    events.EngagementTimeLogged(entry=4, minutes=95, work_date="2026-12-01"),
]


class Boom(Exception):
    pass


def outbox_by_row() -> Counter[int]:
    return Counter(OutboxMessage.objects.filter(source=SOURCE).values_list("source_id", flat=True))


def test_every_billing_event_type_has_a_typed_event():
    assert sorted(type(event).type for event in SAMPLES) == sorted(BillingEventType.values)


@pytest.mark.parametrize("event", SAMPLES, ids=lambda event: event.name)
def test_each_event_reads_back_from_its_row_and_publishes_its_topic(db, event):
    with transaction.atomic():
        row = record(BillingEvent, event)

    assert parse(BillingEvent.objects.get(pk=row.pk)) == event
    message = OutboxMessage.objects.get(source=SOURCE, source_id=row.pk)
    assert (message.topic, message.payload["refs"]) == (event.name, {})


def test_customers_read_the_number_and_total_of_an_issued_invoice_and_no_more():
    issued = events.InvoiceIssued(number="INV-2026-000001", total="238.0000")
    voided = events.InvoiceVoided(reason="Wrong address", released_items=2)

    assert issued.visible_to(Audience.CUSTOMER) == issued.data
    assert voided.visible_to(Audience.CUSTOMER) == {"reason": "Wrong address"}
    assert events.InvoicePaid(reference="Bank 4711").visible_to(Audience.CUSTOMER) == {}
    assert events.RunFinished(invoices=1, lines=1).visible_to(Audience.CUSTOMER) == {}


def test_a_run_writes_one_event_per_invoice_each_with_one_outbox_message(cast, product):
    sell(cast, product, Preset.PAY_AS_YOU_GO, unit="incidents", overage_rate="95")
    sell(
        cast,
        product,
        Preset.FIXED_FEE,
        organization=cast.globex,
        price_amount="100",
        currency="USD",
    )
    open_case(cast, product)

    billed = run_billing(cast.client_for(cast.billing))

    rows = BillingEvent.objects.filter(run_id=billed["id"])
    types = Counter(rows.values_list("type", flat=True))
    assert types == {
        BillingEventType.RUN_STARTED: 1,
        BillingEventType.INVOICE_ISSUED: 2,
        BillingEventType.RUN_FINISHED: 1,
    }
    for row in rows.filter(type=BillingEventType.INVOICE_ISSUED).select_related("invoice"):
        event, invoice = parse(row), row.invoice
        assert isinstance(event, events.InvoiceIssued) and invoice is not None
        assert (event.number, Decimal(event.total)) == (invoice.number, invoice.total)
    assert outbox_by_row() == Counter(BillingEvent.objects.values_list("pk", flat=True))


def test_a_draft_run_writes_invoice_created_for_its_invoices(cast, product):
    sell(cast, product, Preset.PAY_AS_YOU_GO, unit="incidents", overage_rate="95")
    open_case(cast, product)

    billed = run_billing(cast.client_for(cast.billing), issue=False)

    invoice = Invoice.objects.get()
    types = list(
        BillingEvent.objects.filter(invoice=invoice, run_id=billed["id"]).values_list(
            "type", flat=True
        )
    )
    assert types == [BillingEventType.INVOICE_CREATED]


def test_a_rolled_back_issue_leaves_neither_history_nor_outbox_nor_a_number(cast):
    invoice = actions.do_create_invoice(
        organization=cast.acme, period=this_period(), actor=cast.billing
    )
    actions.do_add_line(
        invoice,
        description="Consulting",
        quantity=Decimal(1),
        unit_price=Decimal(100),
        currency="EUR",
        actor=cast.billing,
    )
    history, outbox = BillingEvent.objects.count(), OutboxMessage.objects.count()

    with pytest.raises(Boom), transaction.atomic():
        actions.do_issue_invoice(invoice, actor=cast.billing)
        raise Boom

    assert (BillingEvent.objects.count(), OutboxMessage.objects.count()) == (history, outbox)
    assert Invoice.objects.get(pk=invoice.pk).status == InvoiceStatus.DRAFT
    assert not NumberSeries.objects.filter(last_number__gt=0).exists()


def test_a_batch_that_fails_after_writing_leaves_no_invoice_and_no_event(
    cast, product, monkeypatch
):
    sell(cast, product, Preset.PAY_AS_YOU_GO, unit="incidents", overage_rate="95")
    open_case(cast, product)
    write_batch = run._write_batch

    def failing_write_batch(*args, **kwargs):
        write_batch(*args, **kwargs)
        raise Boom

    monkeypatch.setattr(run, "_write_batch", failing_write_batch)
    billing_run = actions.do_create_run(period=this_period(), actor=None)
    with pytest.raises(Boom):
        run.execute_run(billing_run)

    types = list(
        BillingEvent.objects.filter(run=billing_run).order_by("pk").values_list("type", flat=True)
    )
    assert types == [BillingEventType.RUN_STARTED, BillingEventType.RUN_FAILED]
    assert BillingRun.objects.get(pk=billing_run.pk).status == RunStatus.FAILED
    assert not Invoice.objects.exists()
    assert outbox_by_row() == Counter(BillingEvent.objects.values_list("pk", flat=True))
