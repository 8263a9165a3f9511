"""IMAP mailboxes polled from a real Dovecot: unseen messages become cases once, a server
that fails stops only its own mailbox, and nothing is fetched twice into two cases."""

from __future__ import annotations

import pytest

from retainer.cases.models import Case
from retainer.mail import actions, polling
from retainer.mail.choices import InboundOutcome, InboundStatus, MailboxKind
from retainer.mail.models import InboundMessage, Mailbox
from retainer.mail.tests.conftest import message

pytestmark = pytest.mark.django_db


@pytest.fixture
def imap_mailbox(cast, mail_desk, dovecot, monkeypatch) -> Mailbox:
    monkeypatch.setenv("RETAINER_TEST_IMAP_PASSWORD", dovecot.password)
    return actions.do_save_mailbox(
        None,
        values={
            "name": "imap",
            "address": "help@vendor.test",
            "kind": MailboxKind.IMAP,
            "product": mail_desk.product,
            "imap_host": dovecot.host,
            "imap_port": dovecot.port,
            "imap_tls": False,
            "imap_user": dovecot.user,
            "password_env": "RETAINER_TEST_IMAP_PASSWORD",
        },
        actor=cast.admin,
    )


def test_unseen_messages_become_cases_once_and_are_marked_seen(cast, dovecot, imap_mailbox):
    dovecot.append(message(subject="Export fails", message_id="<a1@client.test>"))
    dovecot.append(message(subject="Import fails", message_id="<a2@client.test>"))
    assert len(dovecot.unseen()) == 2

    assert polling.poll_mailboxes() == 2
    subjects = set(Case.objects.filter(contact=cast.contact).values_list("subject", flat=True))
    assert subjects == {"Export fails", "Import fails"}
    assert dovecot.unseen() == []
    rows = InboundMessage.objects.filter(mailbox=imap_mailbox)
    assert {(r.status, r.outcome) for r in rows} == {
        (InboundStatus.PROCESSED, InboundOutcome.NEW_CASE)
    }
    imap_mailbox.refresh_from_db()
    assert imap_mailbox.last_polled_at is not None and imap_mailbox.last_poll_error == ""

    assert polling.poll_mailboxes() == 0  # nothing unseen is left
    assert Case.objects.count() == 2


def test_a_poll_killed_before_the_seen_flag_opens_no_second_case(
    cast, dovecot, imap_mailbox, monkeypatch
):
    dovecot.append(message(subject="Printer jams", message_id="<b1@client.test>"))

    def crash(*args: object, **kwargs: object) -> None:
        raise ConnectionResetError("the worker died here")

    with monkeypatch.context() as patch:
        patch.setattr(polling.BaseMailBox, "flag", crash)
        polling.poll_mailboxes()
    assert InboundMessage.objects.count() == 1  # stored before the crash
    assert len(dovecot.unseen()) == 1  # but still unseen on the server
    imap_mailbox.refresh_from_db()
    assert "ConnectionResetError" in imap_mailbox.last_poll_error

    polling.poll_mailboxes()
    assert dovecot.unseen() == []
    assert InboundMessage.objects.count() == 1
    assert Case.objects.filter(subject="Printer jams").count() == 1


def test_a_message_over_the_limit_is_fetched_short_and_answered(
    cast, dovecot, imap_mailbox, settings
):
    settings.RETAINER_MAIL_MAX_BYTES = 64 * 1024
    big = message(subject="Logs attached", body="x" * 200_000, message_id="<c1@client.test>")
    dovecot.append(big)
    polling.poll_mailboxes()
    row = InboundMessage.objects.get(mailbox=imap_mailbox)
    assert row.size >= len(big) - 100  # the server's count of the whole message
    assert len(bytes(row.raw)) <= 64 * 1024
    assert (row.status, row.reason) == (InboundStatus.REJECTED, "too_large")
    assert row.answers.count() == 1


def test_a_wrong_password_stops_only_that_mailbox(cast, dovecot, imap_mailbox, tmp_path):
    actions.do_save_mailbox(imap_mailbox, values={"imap_user": "nobody-here"}, actor=cast.admin)
    spool = tmp_path / "spool"
    spool.mkdir()
    (spool / "1.eml").write_bytes(message(subject="From the spool"))
    actions.do_save_mailbox(
        None,
        values={
            "name": "spool",
            "address": "spool@vendor.test",
            "kind": MailboxKind.SPOOL,
            "spool_dir": str(spool),
            "product": imap_mailbox.product,
        },
        actor=cast.admin,
    )
    dovecot.append(message(subject="Never fetched", message_id="<d1@client.test>"))

    assert polling.poll_mailboxes() == 1
    assert Case.objects.get().subject == "From the spool"
    imap_mailbox.refresh_from_db()
    assert imap_mailbox.last_poll_error.startswith("MailboxLoginError")


def test_a_missing_password_variable_is_named(cast, dovecot, imap_mailbox, monkeypatch):
    monkeypatch.delenv("RETAINER_TEST_IMAP_PASSWORD")
    polling.poll_mailboxes()
    imap_mailbox.refresh_from_db()
    assert imap_mailbox.last_poll_error == (
        "PollError: The environment variable RETAINER_TEST_IMAP_PASSWORD is not set."
    )
