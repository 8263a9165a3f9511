"""E-mails in the recipient's language: the preferences page's choice, the default
(``RETAINER_MAIL_LANGUAGE``), every template translated, the decision's sentence, and a
translation catalogue that is complete and compiled."""

from __future__ import annotations

import datetime as dt
import gettext
import os
import re
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from retainer.contracts import actions as contract_actions
from retainer.contracts.choices import Preset
from retainer.mail.actions.outbound import queue_sign_in_link
from retainer.mail.actions.preferences import do_set_preferences, mail_language
from retainer.mail.models import MailEvent, MailLanguage, OutboundMessage
from retainer.mail.tests.conftest import deliver, feed, message

pytestmark = pytest.mark.django_db

CATALOGUE = Path(settings.BASE_DIR) / "retainer" / "locale" / "de" / "LC_MESSAGES"
TEMPLATES = Path(settings.BASE_DIR) / "retainer" / "mail" / "templates" / "mail" / "email"
# Words of the English templates that a German e-mail never holds (the test data below
# avoids them too).
ENGLISH = re.compile(r"\b(Hello|the|your|Your|Reply|and|is|was|for|Open|See)\b")


def _german(address: str) -> None:
    do_set_preferences(address, off=set(), offered=(), actor=None, via="page", language="de")


def _text(sent) -> str:
    return sent.get_body(("plain",)).get_content()


def test_a_contact_who_chose_german_gets_the_acknowledgement_and_the_decision_in_german(
    cast, mail_desk, smtp
):
    _german("carl@acme.test")
    feed(mail_desk.mailbox, message(subject="Druckertreiber stürzt ab"))
    assert deliver() == 1
    (sent,) = smtp.parsed()
    body = _text(sent)
    assert sent["Subject"].endswith("] Druckertreiber stürzt ab")
    assert body.startswith("Hallo Carl Contact,")
    assert "wir haben Ihre Anfrage erhalten und den Fall RT-" in body
    assert "Ihre Anfrage ist durch Ihren Supportvertrag abgedeckt." in body
    assert "Ihr Support-Team" in body and not ENGLISH.search(body.split("http")[0])
    html = sent.get_body(("html",)).get_content()
    assert "verfolgen Sie ihn im Portal" in html


def test_subjects_and_plurals_follow_each_recipients_language(cast, mail_desk, smtp):
    _german("ada@acme.test")  # the customer admin; the account owner keeps English
    contract = contract_actions.do_create_contract(
        organization=cast.acme,
        preset=Preset.BANK,
        covered_products=[mail_desk.product],
        start_date=timezone.localdate() - dt.timedelta(days=10),
        name="Acme Kontingent",
        actor=cast.admin,
    )
    contract_actions.do_consume(contract, quantity=8, key="t:1", source_type="t", actor=None)
    assert deliver() == 2
    by_address = {m["to"][0]: sent for m, sent in zip(smtp.messages, smtp.parsed(), strict=True)}
    german, english = by_address["ada@acme.test"], by_address["manager@vendor.test"]
    assert german["Subject"] == "Kontingent fast aufgebraucht: Acme Kontingent"
    assert "ist fast aufgebraucht: 2 Vorfälle." in _text(german)
    assert "E-Mails dieser Art abbestellen" in _text(german)
    assert english["Subject"] == "Balance low: Acme Kontingent"
    assert "is low: 2 incidents." in _text(english)


def test_the_configured_language_is_everyones_until_they_choose(cast, settings):
    settings.RETAINER_MAIL_LANGUAGE = "de"
    queue_sign_in_link(to="new@acme.test", link="https://x.test/s/abc", minutes=15)
    row = OutboundMessage.objects.get()
    assert row.subject == "Ihr Anmeldelink"
    assert "innerhalb von 15 Minuten" in row.text
    do_set_preferences(
        "New@acme.test", off=set(), offered=(), actor=None, via="page", language="en"
    )
    assert mail_language("new@acme.test") == "en"


def test_the_preferences_page_sets_the_language_and_refuses_an_unknown_one(cast):
    client = cast.client_for(cast.customer_admin)
    page = client.get(reverse("mail:preferences")).content.decode()
    assert 'name="language"' in page and "Deutsch" in page
    response = client.post(reverse("mail:preferences"), {"language": "xx"})
    assert response.status_code == 400
    assert "language_error" in response.content.decode()
    assert not MailLanguage.objects.exists()
    response = client.post(reverse("mail:preferences"), {"language": "de"})
    assert response.status_code == 302
    assert mail_language(cast.customer_admin.email) == "de"
    event = MailEvent.objects.get(type="preferences_changed")
    assert event.data["language"] == "de"
    client.post(reverse("mail:preferences"), {"language": "de"})
    assert MailEvent.objects.filter(type="preferences_changed").count() == 1  # nothing changed


def _context() -> dict[str, object]:
    today = dt.date(2026, 3, 2)
    case = SimpleNamespace(reference="RT-10001", subject="Drucker", public_id="x")
    contract = SimpleNamespace(name="Kontingent", unit="incidents", end_date=today)
    organization = SimpleNamespace(name="Acme")
    quote = SimpleNamespace(
        number="Q-1",
        title="Backport",
        amount=10,
        price=10,
        currency="EUR",
        term_start=today,
        valid_until=today,
        organization=organization,
        case=case,
        contract=contract,
        is_fixed_price=True,
    )
    invoice = SimpleNamespace(
        number="INV-1",
        period_start=today,
        period_end=today,
        total=10,
        currency="EUR",
        due_date=today,
    )
    reply = SimpleNamespace(body="Text", author=SimpleNamespace(full_name="Ann"))
    return {
        "case": case,
        "contact": SimpleNamespace(full_name="Carl"),
        "name": "Carl",
        "contract": contract,
        "organization": organization,
        "quote": quote,
        "invoice": invoice,
        "reply": reply,
        "body_html": "<p>Text</p>",
        "sentence": "",
        "subject": "Drucker",
        "balance": 2,
        "exhausted": True,
        "release": "9.1",
        "since": today,
        "due_at": timezone.now(),
        "clock": "Erstreaktion",
        "breached": False,
        "rule_name": "Eskalation",
        "end_date": "2026-03-02",
        "minutes": 15,
        "link": "https://x.test/l",
        "portal_url": "https://x.test/p",
        "console_url": "https://x.test/c",
        "survey_url": "https://x.test/s",
        "unsubscribe_url": "https://x.test/u",
    }


@pytest.mark.parametrize(
    "template", sorted(p.name for p in TEMPLATES.iterdir() if not p.name.startswith("_"))
)
def test_every_template_is_translated(template):
    with translation.override("de"):
        rendered = render_to_string(f"mail/email/{template}", _context())
    words = re.sub(r"<[^>]+>|https?://\S+", " ", rendered)
    assert not ENGLISH.search(words), (template, ENGLISH.findall(words))


def test_the_catalogue_is_complete_and_its_compiled_file_is_current(tmp_path):
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        if os.environ.get("CI") == "true":
            pytest.fail("msgfmt (Debian package gettext) is missing")
        pytest.skip("msgfmt (Debian package gettext) is not installed")
    fresh = tmp_path / "django.mo"
    subprocess.run(
        [msgfmt, "--check", "--statistics", "-o", str(fresh), str(CATALOGUE / "django.po")],
        check=True,
        capture_output=True,
    )
    with (CATALOGUE / "django.mo").open("rb") as committed, fresh.open("rb") as compiled:
        shipped = gettext.GNUTranslations(committed)._catalog  # type: ignore[attr-defined]
        current = gettext.GNUTranslations(compiled)._catalog  # type: ignore[attr-defined]
    assert shipped == current, "run: python manage.py compilemessages -l de"
    assert all(current.values()), "a message has no German translation"
