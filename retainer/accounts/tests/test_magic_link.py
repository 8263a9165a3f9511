"""Signing in with an e-mailed link: same answer for every address, hashed single-use
tokens that expire, a per-address rate limit, and a confirm step that keeps GET safe."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from retainer.accounts.actions import MAGIC_LINK_RATE
from retainer.accounts.models import MagicLinkToken
from retainer.lib.errors import Conflict
from retainer.mail.actions.outbound import do_retry_outbound, send_due_mail
from retainer.mail.choices import OutboundKind, OutboundStatus
from retainer.mail.models import OutboundMessage

REQUEST = reverse("accounts:magic_link_request")


def ask(client: Client, email: str, callbacks: Any) -> Any:
    """Ask for a link, then send what the mail channel queued (its job, run here)."""
    with callbacks(execute=True):
        answer = client.post(REQUEST, {"email": email})
    send_due_mail()
    return answer


def link_in_outbox() -> str:
    assert len(mail.outbox) == 1
    match = re.search(r"https?://\S+/login/link/(\S+)/", str(mail.outbox[0].body))
    assert match
    return match.group(0)


def test_a_contact_gets_a_link_that_signs_them_in_once(cast, django_capture_on_commit_callbacks):
    client = Client()
    response = ask(client, "CARL@acme.test", django_capture_on_commit_callbacks)
    assert response.status_code == 200
    assert mail.outbox[0].to == ["carl@acme.test"]
    link = link_in_outbox()
    path = link.split("testserver", 1)[1]
    confirm = client.get(path)
    assert confirm.status_code == 200 and "Continue" in confirm.content.decode()
    assert "_auth_user_id" not in client.session  # GET signs nobody in
    signed_in = client.post(path)
    assert signed_in.status_code == 302
    assert client.session["_auth_user_id"] == str(cast.contact.user.pk)
    again = Client().post(path)
    assert again.status_code == 400 and "already used" in again.content.decode()


def test_the_answer_is_the_same_whether_or_not_the_account_exists(
    cast, django_capture_on_commit_callbacks
):
    known = ask(Client(), "carl@acme.test", django_capture_on_commit_callbacks)
    unknown = ask(Client(), "nobody@acme.test", django_capture_on_commit_callbacks)
    staff = ask(Client(), "agent@vendor.test", django_capture_on_commit_callbacks)
    assert known.status_code == unknown.status_code == staff.status_code == 200
    token = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')
    assert token.sub("", known.content.decode()) == token.sub("", unknown.content.decode())
    assert len(mail.outbox) == 1  # only the contact; staff sign in with their password


def test_only_the_hash_of_the_token_is_stored(cast, django_capture_on_commit_callbacks):
    ask(Client(), "carl@acme.test", django_capture_on_commit_callbacks)
    token = link_in_outbox().rstrip("/").rsplit("/", 1)[1]
    row = MagicLinkToken.objects.get()
    assert len(token) >= 43  # 256 bits, URL-safe base64
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(MagicLinkToken.objects.values_list())
    # The e-mail went through the mail channel's outbox, which forgets its body once sent
    # and never sends a link again.
    sent = OutboundMessage.objects.get(kind=OutboundKind.SIGN_IN_LINK)
    assert sent.status == OutboundStatus.SENT and sent.to == "carl@acme.test"
    assert token not in str(OutboundMessage.objects.values_list())
    OutboundMessage.objects.filter(pk=sent.pk).update(status=OutboundStatus.FAILED)
    with pytest.raises(Conflict, match="not sent again"):
        do_retry_outbound(sent, actor=None)


def test_an_expired_link_is_refused_with_a_clear_message(cast, django_capture_on_commit_callbacks):
    ask(Client(), "carl@acme.test", django_capture_on_commit_callbacks)
    path = link_in_outbox().split("testserver", 1)[1]
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=16)):
        client = Client()
        response = client.post(path)
    assert response.status_code == 400
    assert "expired" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_an_unknown_link_is_refused_with_a_clear_message(cast):
    response = Client().get(reverse("accounts:magic_link", args=["x" * 43]))
    assert response.status_code == 400
    assert "not valid" in response.content.decode()
    assert "Send me a sign-in link" in response.content.decode()


def test_a_deactivated_contact_cannot_use_a_link_sent_before(
    cast, django_capture_on_commit_callbacks
):
    from retainer.accounts import actions

    ask(Client(), "carl@acme.test", django_capture_on_commit_callbacks)
    path = link_in_outbox().split("testserver", 1)[1]
    actions.do_set_contact_active(cast.contact, False, actor=cast.admin)
    assert Client().post(path).status_code == 400


@pytest.mark.parametrize("email", ["carl@acme.test", "nobody@acme.test"])
def test_requests_are_rate_limited_per_address_with_retry_after(
    cast, django_capture_on_commit_callbacks, email
):
    for _ in range(MAGIC_LINK_RATE):
        assert ask(Client(), email, django_capture_on_commit_callbacks).status_code == 200
    limited = ask(Client(), email, django_capture_on_commit_callbacks)
    assert limited.status_code == 429
    assert 0 < int(limited["Retry-After"]) <= 3600
    assert ask(Client(), "ada@acme.test", django_capture_on_commit_callbacks).status_code == 200
    with time_machine.travel(timezone.now() + dt.timedelta(hours=1, seconds=1)):
        assert ask(Client(), email, django_capture_on_commit_callbacks).status_code == 200


def test_an_invalid_address_is_a_form_error(cast):
    response = Client().post(REQUEST, {"email": "not an address"})
    assert response.status_code == 400
    assert "valid email" in response.content.decode()
    assert not MagicLinkToken.objects.exists()


def test_the_request_needs_post_and_a_csrf_token(cast):
    assert Client().get(REQUEST).status_code == 405
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(REQUEST, {"email": "carl@acme.test"}).status_code == 403
    assert not MagicLinkToken.objects.exists()


def test_the_login_page_offers_the_link_form(cast):
    html = Client().get(reverse("accounts:login")).content.decode()
    assert "Send me a sign-in link" in html
    assert '<label for="id_link_email">' in html


def test_one_client_address_gets_a_limited_number_of_links_whatever_it_asks_for(
    db, settings
) -> None:
    """Asking for links to many addresses from one place is refused after the per-minute
    budget, with Retry-After; another client address is not affected."""
    from django.test import Client

    settings.RETAINER_SIGN_IN_LINKS_PER_MINUTE = 3
    client = Client(REMOTE_ADDR="203.0.113.7")
    answers = [
        client.post("/login/link/", {"email": f"guess{n}@example.com"}).status_code
        for n in range(4)
    ]
    assert answers == [200, 200, 200, 429]
    refused = client.post("/login/link/", {"email": "someone@example.com"})
    assert refused.status_code == 429 and 1 <= int(refused["Retry-After"]) <= 60
    other = Client(REMOTE_ADDR="198.51.100.9")
    assert other.post("/login/link/", {"email": "guess0@example.com"}).status_code == 200
