"""The console's Mail page: lists, the review queue's three decisions, retrying e-mail."""

from __future__ import annotations

import pytest
from django.urls import reverse

from retainer.cases.models import Case, CaseMessage
from retainer.mail.choices import InboundOutcome, InboundStatus, OutboundStatus
from retainer.mail.models import OutboundMessage
from retainer.mail.tests.conftest import case_of, feed, message, opened

pytestmark = pytest.mark.django_db


@pytest.fixture
def in_review(cast, mail_desk):
    return feed(mail_desk.mailbox, message(sender="agent@vendor.test", subject="<b>Spoof</b>"))


def test_staff_see_mailboxes_messages_and_the_review_queue(
    cast, in_review, django_assert_max_num_queries
):
    client = cast.client_for(cast.billing)
    with django_assert_max_num_queries(12):
        page = client.get(reverse("mail:inbound_list"), {"status": "needs_review"})
    assert page.status_code == 200
    body = page.content.decode()
    assert "Review queue (1)" in body and "support@vendor.test" in body
    assert "&lt;b&gt;Spoof&lt;/b&gt;" in body  # subjects are text, never markup
    detail = client.get(reverse("mail:inbound_detail", args=[in_review.pk]))
    assert detail.status_code == 200 and "staff_address" in detail.content.decode()
    assert "Open a case" not in detail.content.decode()  # billing reads only


def test_customers_never_see_the_mail_page(cast, in_review):
    assert cast.client_for(cast.customer_admin).get(reverse("mail:inbound_list")).status_code == 404


def test_an_agent_opens_a_case_from_a_message_in_review(cast, in_review):
    client = cast.client_for(cast.agent)
    url = reverse("mail:inbound_open_case", args=[in_review.pk])
    response = client.post(url, {"contact_email": "carl@acme.test"})
    assert response.status_code == 302
    in_review.refresh_from_db()
    assert (in_review.status, in_review.outcome, in_review.reviewed_by) == (
        InboundStatus.PROCESSED,
        InboundOutcome.NEW_CASE,
        cast.agent,
    )
    assert case_of(in_review).contact == cast.contact and in_review.case.channel == "email"


def test_an_unknown_contact_is_refused_with_a_message(cast, in_review):
    client = cast.client_for(cast.agent)
    url = reverse("mail:inbound_open_case", args=[in_review.pk])
    response = client.post(url, {"contact_email": "nobody@nowhere.test"}, follow=True)
    assert "No contact has this e-mail address." in response.content.decode()
    assert not Case.objects.exists()


def test_attaching_adds_an_internal_note_and_writes_to_nobody(cast, mail_desk, in_review):
    case = opened(mail_desk.mailbox, message())
    client = cast.client_for(cast.agent)
    client.post(reverse("mail:inbound_attach", args=[in_review.pk]), {"reference": case.reference})
    note = CaseMessage.objects.get(case=case, is_internal=True)
    assert "agent@vendor.test" in note.body and note.author == cast.agent
    in_review.refresh_from_db()
    assert (in_review.outcome, in_review.case) == (InboundOutcome.ATTACHED, case)


def test_rejecting_needs_a_reason_and_billing_may_not(cast, in_review):
    url = reverse("mail:inbound_reject", args=[in_review.pk])
    assert cast.client_for(cast.billing).post(url, {"reason": "spam"}).status_code == 403
    cast.client_for(cast.agent).post(url, {"reason": ""})
    in_review.refresh_from_db()
    assert in_review.status == InboundStatus.NEEDS_REVIEW
    cast.client_for(cast.agent).post(url, {"reason": "Spoofed agent address"})
    in_review.refresh_from_db()
    assert (in_review.status, in_review.detail) == (InboundStatus.REJECTED, "Spoofed agent address")


def test_a_manager_retries_a_failed_email_an_agent_may_not(cast, mail_desk):
    feed(mail_desk.mailbox, message(sender="stranger@nowhere.test"))
    row = OutboundMessage.objects.get()
    OutboundMessage.objects.filter(pk=row.pk).update(status=OutboundStatus.FAILED, attempts=8)
    url = reverse("mail:outbound_retry", args=[row.pk])
    assert cast.client_for(cast.agent).post(url).status_code == 403
    page = cast.client_for(cast.manager).get(reverse("mail:outbound_list"))
    assert "Send again" in page.content.decode()
    assert cast.client_for(cast.manager).post(url).status_code == 302
    row.refresh_from_db()
    assert (row.status, row.attempts) == (OutboundStatus.QUEUED, 0)


IMAP_FORM = {
    "name": "help",
    "address": "help@vendor.test",
    "kind": "imap",
    "is_active": "on",
    "imap_host": "imap.vendor.test",
    "imap_port": "993",
    "imap_tls": "on",
    "imap_folder": "INBOX",
    "imap_user": "help",
    "password_env": "RETAINER_IMAP_PASSWORD_HELP",
}


def test_a_manager_sets_up_an_imap_mailbox_without_ever_typing_its_password(cast, mail_desk):
    from retainer.mail.models import Mailbox

    client = cast.client_for(cast.manager)
    form = client.get(reverse("mail:mailbox_new"))
    assert form.status_code == 200
    assert 'type="password"' not in form.content.decode()  # a variable's name, never a secret
    response = client.post(
        reverse("mail:mailbox_new"), {**IMAP_FORM, "product": mail_desk.product.pk}
    )
    assert response.status_code == 302
    mailbox = Mailbox.objects.get(name="help")
    assert (mailbox.kind, mailbox.imap_host, mailbox.password_env, mailbox.product) == (
        "imap",
        "imap.vendor.test",
        "RETAINER_IMAP_PASSWORD_HELP",
        mail_desk.product,
    )
    page = client.get(reverse("mail:inbound_list")).content.decode()
    assert reverse("mail:mailbox_edit", args=[mailbox.pk]) in page and "not yet" in page

    edit = client.post(
        reverse("mail:mailbox_edit", args=[mailbox.pk]), {**IMAP_FORM, "is_active": ""}
    )
    assert edit.status_code == 302
    mailbox.refresh_from_db()
    assert not mailbox.is_active


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"imap_host": ""}, "imap_host"),  # an IMAP mailbox needs its server
        ({"name": "support"}, "name"),  # the mail desk's mailbox has this name
        ({"password_env": "not a variable"}, "password_env"),
        ({"imap_port": "70000"}, "imap_port"),
    ],
)
def test_a_bad_mailbox_is_a_field_error_and_saves_nothing(cast, mail_desk, change, field):
    from retainer.mail.models import Mailbox

    response = cast.client_for(cast.manager).post(
        reverse("mail:mailbox_new"), {**IMAP_FORM, **change}
    )
    assert response.status_code == 400
    assert response.context["form"].errors[field]
    assert Mailbox.objects.count() == 1


def test_agents_cannot_change_mailboxes(cast, mail_desk):
    client = cast.client_for(cast.agent)
    assert client.get(reverse("mail:mailbox_new")).status_code == 403
    response = client.post(reverse("mail:mailbox_edit", args=[mail_desk.mailbox.pk]), IMAP_FORM)
    assert response.status_code == 403
    mail_desk.mailbox.refresh_from_db()
    assert mail_desk.mailbox.kind == "pipe"
