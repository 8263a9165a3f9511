"""Inbound mail through the real pipeline: store, process, open or thread, answer — and
the trust rules that keep a message off someone else's case."""

from __future__ import annotations

import datetime as dt
import io
import sys

import pytest
from django.core.management import call_command
from django.utils import timezone

from retainer.accounts import actions as account_actions
from retainer.accounts.models import Contact
from retainer.cases import actions as case_actions
from retainer.cases.models import Case, CaseAttachment, CaseMessage
from retainer.contracts.choices import Outcome
from retainer.mail.choices import InboundOutcome, InboundStatus, OutboundKind, OutboundStatus
from retainer.mail.models import BouncingAddress, InboundMessage, OutboundMessage
from retainer.mail.references import new_message_id
from retainer.mail.tests.conftest import CORPUS, case_of, deliver, feed, message, opened

pytestmark = pytest.mark.django_db


def test_a_new_message_opens_a_case_with_the_intake_decision_and_is_acknowledged(
    cast, mail_desk, smtp
):
    row = feed(mail_desk.mailbox, message())
    assert (row.status, row.outcome) == (InboundStatus.PROCESSED, InboundOutcome.NEW_CASE)
    case = case_of(row)
    assert (case.channel, case.contact, case.subject) == ("email", cast.contact, row.subject)
    assert case.description == "The export crashes on start.\n\nCarl"
    assert case.decision is not None and case.decision.outcome == Outcome.COVERED
    assert deliver() == 1
    (sent,) = smtp.parsed()
    assert smtp.messages[0]["to"] == ["carl@acme.test"]
    assert sent["Subject"] == f"[{case.reference}] Printer driver crashes"
    assert sent["Auto-Submitted"] == "auto-replied"
    assert sent["In-Reply-To"].strip() == f"<{row.message_id}>"
    assert case.decision.sentence in sent.get_body(("plain",)).get_content()


def test_the_same_message_twice_creates_nothing_new(cast, mail_desk):
    raw = message()
    first = feed(mail_desk.mailbox, raw)
    again = feed(mail_desk.mailbox, raw)
    assert again.pk == first.pk
    assert InboundMessage.objects.count() == 1
    assert Case.objects.count() == 1


def test_a_reply_to_our_message_id_threads_onto_the_case_without_the_quote(cast, mail_desk, smtp):
    case = opened(mail_desk.mailbox, message())
    deliver()
    ack = OutboundMessage.objects.get(case=case)
    reply = message(
        subject="Re: whatever the client made of it",
        body="It happens on 5.0 too.\n\nOn Mon, Support wrote:\n> we received your request",
        In_Reply_To=f"<{ack.message_id}>",
    )
    row = feed(mail_desk.mailbox, reply)
    assert (row.outcome, row.case) == (InboundOutcome.REPLY, case)
    assert row.case_message is not None and row.case_message.body == "It happens on 5.0 too."
    assert Case.objects.count() == 1


def test_a_subject_reference_threads_for_a_participant(cast, mail_desk):
    case = opened(mail_desk.mailbox, message())
    row = feed(mail_desk.mailbox, message(subject=f"Re: [{case.reference}] more", body="More."))
    assert (row.outcome, row.case) == (InboundOutcome.REPLY, case)


def test_a_forged_in_reply_to_never_reaches_the_case(cast, mail_desk):
    case = opened(mail_desk.mailbox, message())
    forged = new_message_id(case.public_id).replace(".", ".x", 1)  # signature no longer holds
    tampered = f"rt.{'0' * 12}.{case.public_id}.{'f' * 24}@vendor.test"
    for n, ref in enumerate([forged, tampered]):
        row = feed(
            mail_desk.mailbox,
            message(sender="otto@globex.test", body=f"Let me in {n}", In_Reply_To=f"<{ref}>"),
        )
        assert row.case != case
    assert not CaseMessage.objects.filter(case=case).exists()


def test_a_valid_message_id_from_a_non_participant_goes_to_review(cast, mail_desk, smtp):
    case = opened(mail_desk.mailbox, message())
    leaked = new_message_id(case.public_id)
    row = feed(
        mail_desk.mailbox,
        message(sender="otto@globex.test", body="Leaked thread", In_Reply_To=f"<{leaked}>"),
    )
    assert (row.status, row.reason, row.case) == (
        InboundStatus.NEEDS_REVIEW,
        "not_a_participant",
        None,
    )
    assert not CaseMessage.objects.filter(case=case).exists()
    deliver()
    assert all(m["to"] == ["carl@acme.test"] for m in smtp.messages)  # Carl's own ack only


def test_a_subject_reference_from_a_non_participant_opens_their_own_case(cast, mail_desk, smtp):
    case = opened(mail_desk.mailbox, message())
    row = feed(
        mail_desk.mailbox,
        message(sender="otto@globex.test", subject=f"Re: [{case.reference}] hi", body="Mine now?"),
    )
    assert row.outcome == InboundOutcome.NEW_CASE and row.case != case
    assert case_of(row).organization == cast.globex
    assert not CaseMessage.objects.filter(case=case).exists()
    deliver()
    otto = [m for m in smtp.parsed() if m["To"] == "otto@globex.test"]
    assert len(otto) == 1
    assert (
        "Printer driver" not in otto[0].as_string() and "carl@acme.test" not in otto[0].as_string()
    )
    assert case.public_id not in otto[0].as_string()


def test_a_colleague_joins_a_case_only_where_the_organization_shares_cases(cast, mail_desk):
    case = opened(mail_desk.mailbox, message())
    row = feed(
        mail_desk.mailbox,
        message(sender="uma@acme.test", subject=f"Re: [{case.reference}]", body="Me too"),
    )
    assert (row.outcome, row.case) == (InboundOutcome.REPLY, case)  # Acme shares (the default)
    account_actions.do_update_organization(
        cast.acme, share_cases_with_colleagues=False, actor=cast.admin
    )
    row = feed(
        mail_desk.mailbox,
        message(sender="uma@acme.test", subject=f"Re: [{case.reference}]", body="Me again"),
    )
    assert row.outcome == InboundOutcome.NEW_CASE and row.case != case


def test_a_spoofed_agent_address_goes_to_review_and_writes_nothing(cast, mail_desk):
    case = opened(mail_desk.mailbox, message())
    row = feed(
        mail_desk.mailbox,
        message(
            sender="Ann Agent <agent@vendor.test>",
            subject=f"Re: [{case.reference}]",
            body="Closing this, send your password",
            In_Reply_To=f"<{new_message_id(case.public_id)}>",
        ),
    )
    assert (row.status, row.reason) == (InboundStatus.NEEDS_REVIEW, "staff_address")
    assert not CaseMessage.objects.filter(case=case).exists()


def test_reply_to_pointing_elsewhere_changes_neither_sender_nor_recipient(cast, mail_desk, smtp):
    row = feed(mail_desk.mailbox, message(Reply_To="otto@globex.test"))
    assert case_of(row).contact == cast.contact
    deliver()
    assert [m["to"] for m in smtp.messages] == [["carl@acme.test"]]


@pytest.mark.parametrize("sender", ["Support <support@vendor.test>", "Us <SUPPORT@retainer.test>"])
def test_mail_from_our_own_addresses_is_never_answered(cast, mail_desk, settings, smtp, sender):
    settings.DEFAULT_FROM_EMAIL = "Retainer Support <support@retainer.test>"
    row = feed(mail_desk.mailbox, message(sender=sender))
    assert (row.status, row.reason, row.case) == (InboundStatus.REJECTED, "own_address", None)
    assert deliver() == 0 and smtp.messages == []


def test_an_auto_reply_is_kept_rejected_and_never_answered(cast, mail_desk, smtp):
    row = feed(mail_desk.mailbox, message(subject="Out of office", Auto_Submitted="auto-replied"))
    assert (row.status, row.reason, row.case) == (InboundStatus.REJECTED, "auto_reply", None)
    assert deliver() == 0 and smtp.messages == []


def test_bulk_mail_opens_a_case_but_gets_no_acknowledgement(cast, mail_desk, smtp):
    row = feed(mail_desk.mailbox, message(Precedence="bulk"))
    assert row.outcome == InboundOutcome.NEW_CASE and row.is_automatic
    assert deliver() == 0 and smtp.messages == []


def test_a_delivery_status_notification_marks_the_address_bouncing(cast, mail_desk, smtp):
    dsn = (
        b"From: MAILER-DAEMON@mx.acme.test\r\nTo: support@vendor.test\r\nSubject: Undelivered\r\n"
        b"Message-ID: <dsn-1@mx.acme.test>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="r"\r\n\r\n'
        b"--r\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n"
        b"--r\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.acme.test\r\n\r\n"
        b"Final-Recipient: rfc822; carl@acme.test\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
        b"--r--\r\n"
    )
    row = feed(mail_desk.mailbox, dsn)
    assert (row.status, row.outcome) == (InboundStatus.PROCESSED, InboundOutcome.BOUNCE)
    assert BouncingAddress.objects.filter(address="carl@acme.test").exists()
    feed(mail_desk.mailbox, message())
    assert deliver() == 0
    assert OutboundMessage.objects.get().status == OutboundStatus.SUPPRESSED


def test_an_unknown_sender_is_told_why_and_nothing_is_opened(cast, mail_desk, smtp):
    row = feed(mail_desk.mailbox, message(sender="stranger@nowhere.test"))
    assert (row.status, row.reason) == (InboundStatus.REJECTED, "unknown_sender")
    assert deliver() == 1
    (answer,) = smtp.parsed()
    assert answer["To"] == "stranger@nowhere.test"
    assert "not registered" in answer.get_body(("plain",)).get_content()
    assert answer["In-Reply-To"].strip() == f"<{row.message_id}>"


def test_a_new_address_of_a_known_domain_becomes_a_contact_of_that_organization(cast, mail_desk):
    row = feed(mail_desk.mailbox, message(sender="Nina New <nina@acme.test>"))
    contact = Contact.objects.get(email="nina@acme.test")
    assert (contact.organization, contact.full_name) == (cast.acme, "Nina New")
    assert case_of(row).contact == contact


def test_a_deactivated_contact_is_told_and_nothing_is_opened(cast, mail_desk, smtp):
    account_actions.do_set_contact_active(cast.contact, False, actor=cast.admin)
    row = feed(mail_desk.mailbox, message())
    assert (row.status, row.reason) == (InboundStatus.REJECTED, "contact_inactive")
    deliver()
    assert "no longer active" in smtp.parsed()[0].get_body(("plain",)).get_content()


def test_a_message_over_the_size_limit_is_kept_short_and_answered(cast, mail_desk, settings, smtp):
    settings.RETAINER_MAIL_MAX_BYTES = 64 * 1024
    row = feed(mail_desk.mailbox, message(body="x" * 100_000))
    assert (row.status, row.reason) == (InboundStatus.REJECTED, "too_large")
    assert row.size > 100_000 and len(bytes(row.raw)) == 64 * 1024
    deliver()
    assert "larger than we accept" in smtp.parsed()[0].get_body(("plain",)).get_content()


def test_a_sender_over_the_hourly_rate_is_refused_quietly(cast, mail_desk, settings):
    settings.RETAINER_MAIL_RATE_PER_HOUR = 2
    rows = [feed(mail_desk.mailbox, message(body=f"Flood {n}")) for n in range(3)]
    assert [r.status for r in rows] == ["processed", "processed", "rejected"]
    assert rows[-1].reason == "rate_limited"
    assert not OutboundMessage.objects.filter(kind=OutboundKind.REJECTION).exists()


def test_files_go_to_the_upload_storage_and_refused_ones_are_noted(cast, mail_desk):
    row = feed(mail_desk.mailbox, (CORPUS / "attachments_mixed.eml").read_bytes())
    assert row.outcome == InboundOutcome.NEW_CASE
    names = list(
        CaseAttachment.objects.filter(case=row.case).values_list("display_name", flat=True)
    )
    assert names == ["server.log"]
    assert "tool.exe" in row.detail


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*.eml")), ids=lambda p: p.stem)
def test_every_corpus_message_gives_one_clear_outcome_and_nothing_twice(cast, mail_desk, path):
    raw = path.read_bytes()
    row = feed(mail_desk.mailbox, raw)
    assert row.status in (
        InboundStatus.PROCESSED,
        InboundStatus.NEEDS_REVIEW,
        InboundStatus.REJECTED,
    )
    if row.status == InboundStatus.PROCESSED:
        assert row.case is not None
    else:
        assert row.reason
    before = (Case.objects.count(), CaseMessage.objects.count(), InboundMessage.objects.count())
    feed(mail_desk.mailbox, raw)
    assert (
        Case.objects.count(),
        CaseMessage.objects.count(),
        InboundMessage.objects.count(),
    ) == before


def test_a_message_that_breaks_processing_is_kept_for_review(cast, mail_desk, monkeypatch):
    from retainer.mail.actions import inbound

    def boom(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(inbound, "_route", boom)
    row = feed(mail_desk.mailbox, message())
    assert (row.status, row.reason) == (InboundStatus.NEEDS_REVIEW, "processing_failed")
    assert "boom" in row.detail and bytes(row.raw) == message()


def _pipe(raw: bytes, mailbox: str, monkeypatch) -> int:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(raw)))
    with pytest.raises(SystemExit) as exit_:
        call_command("receive_mail", "--mailbox", mailbox)
    return int(exit_.value.code or 0)


def test_the_pipe_command_answers_the_mta_with_sysexits(cast, mail_desk, monkeypatch):
    assert _pipe(message(), "support", monkeypatch) == 0
    assert _pipe(message(), "support", monkeypatch) == 0  # a repeat is accepted, not doubled
    assert Case.objects.count() == 1
    assert _pipe(message(), "nobody", monkeypatch) == 67


def test_the_pipe_command_asks_for_a_retry_when_the_database_fails(cast, mail_desk, monkeypatch):
    from django.db import OperationalError

    from retainer.mail.management.commands import receive_mail

    def locked(*args, **kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(receive_mail, "do_receive_mail", locked)
    assert _pipe(message(), "support", monkeypatch) == 75


def test_a_spool_mailbox_takes_its_files_once(cast, mail_desk, tmp_path):
    from retainer.mail import actions
    from retainer.mail.polling import poll_mailboxes

    spool = tmp_path / "spool"
    spool.mkdir()
    actions.do_save_mailbox(
        None,
        values={
            "name": "spool",
            "address": "help@vendor.test",
            "kind": "spool",
            "spool_dir": str(spool),
            "product": mail_desk.product,
        },
        actor=cast.admin,
    )
    (spool / "1.eml").write_bytes(message())
    assert poll_mailboxes() == 1
    assert not (spool / "1.eml").exists() and (spool / "done" / "1.eml").exists()
    (spool / "again.eml").write_bytes(message())  # the same message dropped again
    assert poll_mailboxes() == 0
    assert Case.objects.count() == 1


def test_a_reply_on_a_finished_case_opens_a_new_one(cast, mail_desk):
    case = opened(mail_desk.mailbox, message())
    case_actions.check_transition_case(cast.agent, case, status="cancelled")
    row = feed(mail_desk.mailbox, message(subject=f"Re: [{case.reference}]", body="Again"))
    assert row.outcome == InboundOutcome.NEW_CASE and row.case != case


def test_rate_window_forgets_old_messages(cast, mail_desk, settings):
    settings.RETAINER_MAIL_RATE_PER_HOUR = 1
    first = feed(mail_desk.mailbox, message(body="one"))
    InboundMessage.objects.filter(pk=first.pk).update(
        received_at=timezone.now() - dt.timedelta(hours=2)
    )
    assert feed(mail_desk.mailbox, message(body="two")).status == InboundStatus.PROCESSED


def test_only_a_case_opened_by_e_mail_leaves_its_decision_to_the_dispatcher(cast, mail_desk):
    from retainer.lib.models import OutboxMessage

    by_mail = case_of(feed(mail_desk.mailbox, message()))
    by_portal = case_actions.check_open_case(
        cast.contact.user,
        product=mail_desk.product,
        channel="web",
        subject="From the portal",
        description="No e-mail needed.",
    )

    def decision(case: Case) -> OutboxMessage:
        return OutboxMessage.objects.get(
            topic="case.decision_recorded", payload__refs__case=case.pk
        )

    assert decision(by_mail).dispatched_at is None  # the acknowledgement is the worker's
    assert decision(by_portal).dispatched_at is not None  # nobody wants it: born settled
