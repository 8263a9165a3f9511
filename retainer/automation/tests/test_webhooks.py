"""Webhooks against a real local receiver: signatures, at-least-once delivery with
retries, automatic disabling, replay, and refused destinations (SSRF)."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from retainer.automation import actions, webhooks
from retainer.automation.choices import AutomationEventType, DeliveryStatus
from retainer.automation.models import AutomationEvent, WebhookDelivery, WebhookEndpoint
from retainer.automation.tests.conftest import make_endpoint, pump
from retainer.kb import actions as kb_actions

DOC = Path(__file__).resolve().parents[3] / "docs" / "automation.md"


def documented_verify() -> Any:
    """The verification snippet of docs/automation.md, run as written."""
    text = DOC.read_text()
    start = text.index("<!-- verification snippet")
    code = re.search(r"```python\n(.*?)```", text[start:], re.S)
    assert code is not None
    namespace: dict[str, Any] = {}
    exec(compile(code.group(1), str(DOC), "exec"), namespace)  # noqa: S102 - our own docs
    return namespace["verify"]


def categories(cast: Any, *names: str) -> None:
    for name in names:
        kb_actions.do_save_category(None, values={"name": name}, actor=cast.admin)


def later(minutes: float) -> Any:
    return time_machine.travel(timezone.now() + dt.timedelta(minutes=minutes), tick=True)


def test_the_signature_verifies_with_the_documented_snippet(cast, receiver):
    endpoint = make_endpoint(cast, receiver.url)
    categories(cast, "Networking")
    assert pump() == 1
    (request,) = receiver.requests
    verify = documented_verify()
    assert verify(endpoint.secret, request.headers, request.body)
    assert not verify("whsec_wrong", request.headers, request.body)
    assert not verify(endpoint.secret, request.headers, request.body + b" ")
    body = json.loads(request.body)
    assert body["type"] == "category.saved" == request.headers["Retainer-Event-Type"]
    assert str(body["id"]) == request.headers["Retainer-Event-Id"]
    assert body["data"]["category_name"] == "Networking"
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert delivery.last_status_code == 204 and delivery.last_response_ms is not None


def test_a_receiver_down_for_a_while_gets_every_event_once_it_is_back(cast, receiver):
    make_endpoint(cast, receiver.url)
    receiver.down = True
    categories(cast, "One", "Two", "Three")
    assert pump() == 3
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"failed"}
    with later(1):
        assert pump() == 3  # the second attempt, after 30 s, fails too
    receiver.down = False
    with later(1.5):
        assert pump() == 0  # not due yet: the third attempt waits a minute after the second
    with later(4):
        assert pump() == 3
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"delivered"}
    accepted = receiver.accepted()
    ids = [r.headers["Retainer-Event-Id"] for r in accepted]
    assert len(set(ids)) == 3 == len(ids)
    names = sorted(json.loads(r.body)["data"]["category_name"] for r in accepted)
    assert names == ["One", "Three", "Two"]
    # Every attempt of one event carried the same id and the same body.
    for event_id in ids:
        bodies = {r.body for r in receiver.requests if r.headers["Retainer-Event-Id"] == event_id}
        assert len(bodies) == 1
    assert WebhookEndpoint.objects.get().consecutive_failures == 0


def test_an_attempt_that_timed_out_is_sent_again_with_the_same_event_id(cast, receiver):
    make_endpoint(cast, receiver.url)
    receiver.delay = 1.5  # longer than the 1 s timeout: the answer comes too late
    categories(cast, "Slow")
    pump()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED and "timed out" in delivery.last_error
    receiver.delay = 0
    with later(1):
        pump()
    assert len(receiver.accepted()) == 2  # the receiver saw it twice ...
    first, second = receiver.accepted()
    assert first.headers["Retainer-Event-Id"] == second.headers["Retainer-Event-Id"]
    assert first.body == second.body  # ... as the same event, and drops the repeat by its id


def test_an_event_handed_over_twice_is_queued_once(cast, receiver):
    endpoint = make_endpoint(cast, receiver.url)
    categories(cast, "Twice")
    from retainer.lib.models import OutboxMessage
    from retainer.lib.outbox import Message

    row = OutboxMessage.objects.get(topic="category.saved")
    message = Message(row.pk, row.topic, row.payload, row.occurred_at)
    webhooks.handle(message)
    webhooks.handle(message)
    assert endpoint.deliveries.count() == 1


def test_an_endpoint_is_disabled_after_repeated_failures_and_catches_up_when_enabled(
    cast, receiver, settings
):
    settings.RETAINER_WEBHOOK_DISABLE_AFTER = 3
    endpoint = make_endpoint(cast, receiver.url)
    receiver.down = True
    categories(cast, "A", "B", "C")
    pump()
    endpoint.refresh_from_db()
    assert not endpoint.active and endpoint.disabled_at is not None
    assert "3 failed attempts in a row" in endpoint.disabled_reason
    event = AutomationEvent.objects.get(type=AutomationEventType.ENDPOINT_DISABLED)
    assert event.actor is None and event.data["consecutive_failures"] == 3
    categories(cast, "D")  # a disabled endpoint gets no new deliveries ...
    with later(60):
        assert pump() == 0  # ... and its waiting ones wait
    assert endpoint.deliveries.count() == 3
    receiver.down = False
    client = cast.client_for(cast.admin)
    response = client.post(reverse("automation:endpoint_enable", args=[endpoint.pk]))
    assert response.status_code == 302
    assert pump() == 3
    assert len(receiver.accepted()) == 3
    endpoint.refresh_from_db()
    assert endpoint.active and endpoint.consecutive_failures == 0


def test_a_delivery_is_given_up_after_the_last_attempt(cast, receiver, settings):
    settings.RETAINER_WEBHOOK_MAX_ATTEMPTS = 2
    make_endpoint(cast, receiver.url)
    receiver.down = True
    categories(cast, "Gone")
    pump()
    with later(1):
        pump()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.GIVEN_UP and delivery.next_attempt_at is None
    assert delivery.last_status_code == 503


def test_replay_sends_a_delivered_event_again_with_the_same_id(cast, receiver):
    make_endpoint(cast, receiver.url)
    categories(cast, "Replayed")
    pump()
    delivery = WebhookDelivery.objects.get()
    client = cast.client_for(cast.admin)
    response = client.post(reverse("automation:delivery_replay", args=[delivery.pk]))
    assert response.status_code == 302
    assert webhooks.send(delivery.pk, force=True) == DeliveryStatus.DELIVERED
    first, second = receiver.accepted()
    assert first.headers["Retainer-Event-Id"] == second.headers["Retainer-Event-Id"]
    assert AutomationEvent.objects.filter(type=AutomationEventType.DELIVERY_REPLAYED).count() == 1
    api = client.post(reverse("api:webhook_delivery_replay", args=[delivery.pk]))
    assert api.status_code == 200 and api.json()["status"] == "pending"


def test_replay_is_refused_to_a_manager(cast, receiver):
    make_endpoint(cast, receiver.url)
    categories(cast, "Mine")
    pump()
    delivery = WebhookDelivery.objects.get()
    client = cast.client_for(cast.manager)
    # A manager does not learn the delivery exists: 404 from both doors.
    assert (
        client.post(reverse("api:webhook_delivery_replay", args=[delivery.pk])).status_code == 404
    )
    assert client.post(reverse("automation:delivery_replay", args=[delivery.pk])).status_code == 404
    assert not AutomationEvent.objects.filter(type=AutomationEventType.DELIVERY_REPLAYED).exists()


# --- Where a webhook may point ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://hooks.example.com/x", "must use https"),
        ("https://127.0.0.1/x", "loopback"),
        ("https://10.1.2.3/x", "private"),
        ("https://169.254.169.254/latest/meta-data", "link-local"),
        ("https://[::1]/x", "loopback"),
        ("https://224.0.0.1/x", "multicast"),
        ("https://localhost/x", "private, loopback"),
        ("https://user:pw@hooks.example.com/x", "user name or password"),
    ],
)
def test_a_destination_that_is_not_public_https_is_refused_with_a_clear_error(cast, url, reason):
    client = cast.client_for(cast.admin)
    response = client.post(
        reverse("api:webhook_list"),
        {"url": url, "event_types": ["case.opened"]},
        content_type="application/json",
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "webhook_url_refused"
    assert reason in body["detail"]
    page = client.post(
        reverse("automation:endpoint_new"), {"url": url, "event_types": ["case.opened"]}
    )
    assert page.status_code == 400 and reason in page.content.decode().replace("&#x27;", "'")
    assert not WebhookEndpoint.objects.exists()


def test_the_destination_is_checked_again_when_sending(cast, receiver, settings):
    endpoint = make_endpoint(cast, receiver.url)
    settings.RETAINER_WEBHOOK_ALLOW_HOSTS = ""  # 127.0.0.1 is no longer allowed
    categories(cast, "Blocked")
    pump()
    assert receiver.requests == []
    delivery = endpoint.deliveries.get()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.last_error.startswith("Refused: Webhook URLs must use https")


def test_an_unknown_event_type_is_refused(cast, receiver):
    client = cast.client_for(cast.admin)
    response = client.post(
        reverse("api:webhook_list"),
        {"url": receiver.url, "event_types": ["case.exploded", "webhook_endpoint.created"]},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "unknown_event_type"
    assert "case.exploded, webhook_endpoint.created" in response.json()["detail"]


# --- The console ------------------------------------------------------------------------------


def test_the_secret_is_shown_once_after_creating_an_endpoint(cast, receiver):
    client = cast.client_for(cast.admin)
    response = client.post(
        reverse("automation:endpoint_new"),
        {"url": receiver.url, "description": "CRM", "event_types": ["case.opened"]},
        follow=True,
    )
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.secret in response.content.decode()
    again = client.get(reverse("automation:endpoint_detail", args=[endpoint.pk]))
    assert endpoint.secret not in again.content.decode()
    listed = client.get(reverse("api:webhook_list")).json()["results"]
    assert "secret" not in listed[0]


def test_rotating_the_secret_signs_with_the_new_one(cast, receiver):
    endpoint = make_endpoint(cast, receiver.url)
    old = endpoint.secret
    client = cast.client_for(cast.admin)
    answer = client.post(reverse("api:webhook_rotate_secret", args=[endpoint.pk]))
    new = answer.json()["secret"]
    assert new != old and new.startswith("whsec_")
    categories(cast, "Rotated")
    pump()
    (request,) = receiver.requests
    assert documented_verify()(new, request.headers, request.body)


def test_the_endpoint_page_shows_the_delivery_log(cast, receiver, django_assert_max_num_queries):
    endpoint = make_endpoint(cast, receiver.url)
    receiver.down = True
    categories(cast, *[f"Category {n}" for n in range(5)])
    pump()
    client = cast.client_for(cast.admin)
    with django_assert_max_num_queries(12):
        page = client.get(reverse("automation:endpoint_detail", args=[endpoint.pk]))
    text = page.content.decode()
    assert page.status_code == 200
    assert text.count("HTTP 503") == 5 and "Failed, will retry" in text
    listing = client.get(reverse("automation:endpoint_list"))
    assert listing.status_code == 200 and receiver.url in listing.content.decode()


def test_disabling_by_hand_records_who_did_it(cast, receiver):
    endpoint = make_endpoint(cast, receiver.url)
    client = cast.client_for(cast.admin)
    assert client.post(reverse("api:webhook_disable", args=[endpoint.pk])).json()["active"] is False
    event = AutomationEvent.objects.get(type=AutomationEventType.ENDPOINT_DISABLED)
    assert event.actor == cast.admin
    actions.do_enable_endpoint(endpoint, actor=cast.admin)
    assert WebhookEndpoint.objects.get().active


def test_events_no_active_endpoint_subscribes_to_cost_no_dispatch(cast, receiver):
    from retainer.lib.models import OutboxMessage

    def settled_at_birth(name: str) -> bool:
        row = OutboxMessage.objects.get(topic="category.saved", payload__category_name=name)
        return row.dispatched_at is not None

    categories(cast, "Before any endpoint")
    endpoint = make_endpoint(cast, receiver.url)  # this process notices at once
    categories(cast, "Watched")
    assert not settled_at_birth("Watched")
    assert pump() == 1
    actions.do_disable_endpoint(endpoint, reason="Paused", actor=cast.admin)
    categories(cast, "After disabling")
    assert settled_at_birth("Before any endpoint") and settled_at_birth("After disabling")
    assert pump() == 0
    assert [json.loads(r.body)["data"]["category_name"] for r in receiver.requests] == ["Watched"]
