"""Password sign-in: throttled per account and per client address in the database, with
a cool-off that restarts on every refused attempt; one password check per sign-in."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

import pytest
import time_machine
from axes.models import AccessAttempt
from django.contrib.auth import hashers
from django.test import Client
from django.utils import timezone

from conftest import PASSWORD
from retainer.accounts.choices import AccountEventType
from retainer.accounts.models import AccountEvent

LOGIN = "/login/"


def sign_in(client: Client, email: str, password: str, address: str = "192.0.2.10") -> Any:
    return client.post(LOGIN, {"username": email, "password": password}, REMOTE_ADDR=address)


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_twenty_wrong_passwords_then_the_right_one_is_refused(cast, settings):
    client = Client()
    statuses = [sign_in(client, "agent@vendor.test", f"guess-{n}").status_code for n in range(20)]
    assert statuses == [200] * 4 + [429] * 16
    answer = sign_in(client, "agent@vendor.test", PASSWORD)
    assert answer.status_code == 429
    assert not signed_in(client)
    page = answer.content.decode()
    assert "Too many failed sign-ins" in page and 'id="sign-in-locked"' in page
    assert "<form" in page and 'name="password"' in page  # the form, not a bare error page
    assert answer["Retry-After"] == str(15 * 60)


def test_the_lock_holds_for_the_account_from_another_address(cast):
    for n in range(5):
        sign_in(Client(), "agent@vendor.test", f"guess-{n}", address="192.0.2.10")
    elsewhere = Client()
    assert (
        sign_in(elsewhere, "agent@vendor.test", PASSWORD, address="198.51.100.7").status_code == 429
    )
    assert not signed_in(elsewhere)


def test_the_account_name_counts_whatever_its_case_and_spaces(cast):
    for name in (
        "Agent@Vendor.test",
        " agent@vendor.test ",
        "AGENT@VENDOR.TEST",
        "agent@vendor.test",
    ):
        sign_in(Client(), name, "guess")
    assert sign_in(Client(), "agent@vendor.test", "guess").status_code == 429


def test_one_address_guessing_many_accounts_is_locked_for_every_account(cast, settings):
    settings.RETAINER_SIGN_IN_ADDRESS_LIMIT = 8
    for n in range(8):  # one guess per account: no account reaches its own limit
        sign_in(Client(), f"person{n}@acme.test", "guess", address="203.0.113.5")
    spraying = Client()
    assert (
        sign_in(spraying, "agent@vendor.test", PASSWORD, address="203.0.113.5").status_code == 429
    )
    assert not signed_in(spraying)
    other = Client()
    assert sign_in(other, "agent@vendor.test", PASSWORD, address="198.51.100.7").status_code == 302
    assert signed_in(other)


def test_the_lock_expires_after_a_cool_off_without_attempts(cast):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for n in range(5):
            sign_in(Client(), "agent@vendor.test", f"guess-{n}")
    with time_machine.travel(start + dt.timedelta(minutes=10), tick=False):
        assert sign_in(Client(), "agent@vendor.test", PASSWORD).status_code == 429
    # That refused attempt restarted the window: 15 minutes from it, not from the first.
    with time_machine.travel(start + dt.timedelta(minutes=20), tick=False):
        assert sign_in(Client(), "agent@vendor.test", PASSWORD).status_code == 429
    with time_machine.travel(start + dt.timedelta(minutes=36), tick=False):
        client = Client()
        assert sign_in(client, "agent@vendor.test", PASSWORD).status_code == 302
        assert signed_in(client)


def test_a_successful_sign_in_clears_the_account_s_failures(cast):
    for n in range(4):
        sign_in(Client(), "agent@vendor.test", f"guess-{n}")
    assert sign_in(Client(), "agent@vendor.test", PASSWORD).status_code == 302
    assert not AccessAttempt.objects.filter(username="agent@vendor.test").exists()
    statuses = [sign_in(Client(), "agent@vendor.test", f"again-{n}").status_code for n in range(5)]
    assert statuses == [200] * 4 + [429]


def test_signing_in_to_one_s_own_account_does_not_clear_the_address_s_guesses(cast, settings):
    settings.RETAINER_SIGN_IN_ADDRESS_LIMIT = 6
    for n in range(5):
        sign_in(Client(), f"person{n}@acme.test", "guess", address="203.0.113.5")
    assert sign_in(Client(), "carl@acme.test", PASSWORD, address="203.0.113.5").status_code == 302
    sign_in(Client(), "person9@acme.test", "guess", address="203.0.113.5")
    assert (
        sign_in(Client(), "agent@vendor.test", PASSWORD, address="203.0.113.5").status_code == 429
    )


def test_the_lockout_is_recorded_once_with_its_account(cast):
    for n in range(8):
        sign_in(Client(), "agent@vendor.test", f"guess-{n}")
    event = AccountEvent.objects.get(type=AccountEventType.SIGN_IN_LOCKED)
    assert event.user == cast.agent and event.actor is None
    assert event.data == {"locked": "account", "address": "192.0.2.10", "failures": 5}


def test_a_lockout_of_a_name_without_an_account_stores_no_name(cast):
    for n in range(5):
        sign_in(Client(), "mistyped-password@vendor.test", f"guess-{n}")
    event = AccountEvent.objects.get(type=AccountEventType.SIGN_IN_LOCKED)
    assert event.user is None and "mistyped" not in str(event.data)


def test_the_admin_sign_in_is_throttled_by_the_same_counts(cast):
    for n in range(5):
        sign_in(Client(), "admin@vendor.test", f"guess-{n}")
    client = Client()
    answer = client.post(
        "/admin/login/",
        {"username": "admin@vendor.test", "password": PASSWORD},
        REMOTE_ADDR="192.0.2.10",
    )
    assert answer.status_code == 429 and "Too many failed sign-ins" in answer.content.decode()
    assert not signed_in(client)


def test_the_api_takes_no_password(cast):
    """The API authenticates with the session the (throttled) sign-in page opened only:
    a password sent to it is never checked, so it cannot be guessed there."""
    basic = base64.b64encode(f"agent@vendor.test:{PASSWORD}".encode()).decode()
    answer = Client().get("/api/v1/organizations/", HTTP_AUTHORIZATION=f"Basic {basic}")
    assert answer.status_code in (401, 403)


def counted_hashes(monkeypatch: Any) -> list[str]:
    """The passwords hashed from now on (the tests' hasher is MD5, see conftest.py)."""
    calls: list[str] = []
    real = hashers.MD5PasswordHasher.encode

    def counting(self: Any, password: str, salt: str) -> str:
        calls.append(password)
        return real(self, password, salt)

    monkeypatch.setattr(hashers.MD5PasswordHasher, "encode", counting)
    return calls


@pytest.mark.parametrize("email", ["agent@vendor.test", "nobody@vendor.test"])
def test_a_sign_in_hashes_the_password_once(cast, monkeypatch, email):
    calls = counted_hashes(monkeypatch)
    sign_in(Client(), email, PASSWORD)
    assert len(calls) == 1


def test_a_locked_sign_in_does_not_hash_the_password(cast, monkeypatch):
    for n in range(5):
        sign_in(Client(), "agent@vendor.test", f"guess-{n}")
    calls = counted_hashes(monkeypatch)
    assert sign_in(Client(), "agent@vendor.test", PASSWORD).status_code == 429
    assert calls == []


def test_a_pbkdf2_hash_becomes_argon2_at_the_next_sign_in(cast, settings):
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.Argon2PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]
    user = cast.agent
    # Few iterations keep the test fast; the upgrade is by algorithm, not by iterations.
    pbkdf2 = hashers.PBKDF2PasswordHasher()
    user.password = pbkdf2.encode(PASSWORD, pbkdf2.salt(), iterations=1000)
    user.save(update_fields=["password"])
    assert sign_in(Client(), "agent@vendor.test", PASSWORD).status_code == 302
    user.refresh_from_db()
    assert user.password.startswith("argon2$")
    assert sign_in(Client(), "agent@vendor.test", PASSWORD).status_code == 302
