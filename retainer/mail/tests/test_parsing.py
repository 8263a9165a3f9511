"""Reading real mail: every message of the corpus is read without an error, and what intake
needs comes out of it (no database)."""

from __future__ import annotations

import pytest

from retainer.mail.parsing import html_to_text, parse, strip_signature, trim_reply
from retainer.mail.tests.conftest import CORPUS

CORPUS_FILES = sorted(CORPUS.glob("*.eml"))


@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: p.stem)
def test_every_corpus_message_is_read_without_an_error(path):
    parse(path.read_bytes())


def read(name: str):
    return parse((CORPUS / name).read_bytes())


def test_multipart_alternative_prefers_the_plain_text_with_its_charset():
    parsed = read("multipart_alternative.eml")
    assert parsed.text == "The export to CSV fails — both formats."
    assert parsed.attachments == []


def test_an_html_only_body_becomes_text_without_script_style_or_images():
    parsed = read("html_only.eml")
    assert "Café menu crashes" in parsed.text
    assert "- step one" in parsed.text
    assert "alert" not in parsed.text and "color" not in parsed.text
    assert "<" not in parsed.text and "tracker" not in parsed.text


def test_a_nested_message_is_kept_as_a_file_and_the_outer_text_is_the_body():
    parsed = read("nested_rfc822.eml")
    assert parsed.text == "See the forwarded message below."
    assert [a.content_type for a in parsed.attachments] == ["message/rfc822"]
    assert b"The disk of the ledger server is full." in parsed.attachments[0].data


def test_a_message_that_only_forwards_takes_its_text_from_the_nested_message():
    parsed = read("forward_only_nested.eml")
    assert "import queue is stuck" in parsed.text
    assert "text_from_nested_message" in parsed.problems


def test_unknown_and_lying_charsets_fall_back_instead_of_failing():
    assert "the report is empty" in read("unknown_charset.eml").text
    assert "informe est" in read("lying_charset.eml").text


def test_rfc2047_encoded_words_are_decoded_in_subject_and_name():
    parsed = read("rfc2047_subject.eml")
    assert parsed.subject == "Ärger mit dem Export überall"
    assert parsed.sender_name == "Jürgen Müller"
    assert parsed.sender == "carl@acme.test"


def test_two_different_from_addresses_leave_the_sender_unknown():
    parsed = read("duplicated_from.eml")
    assert parsed.sender == ""
    assert "several_senders" in parsed.problems


def test_broken_headers_are_read_as_far_as_they_go():
    parsed = read("broken_headers.eml")
    assert parsed.message_id == "broken-1@client.test"
    assert parsed.subject.startswith("broken")


def test_an_inline_cid_image_is_a_file_and_the_html_is_the_text():
    parsed = read("inline_cid_image.eml")
    assert parsed.text == "See the screenshot:"
    (image,) = parsed.attachments
    assert (image.name, image.content_type, image.inline) == ("shot.png", "image/png", True)


def test_garbage_gives_an_empty_reading_with_no_sender():
    parsed = read("garbage.eml")
    assert parsed.sender == "" and parsed.message_id == ""


def test_reply_to_is_never_the_sender():
    raw = (
        b"From: carl@acme.test\r\nReply-To: otto@globex.test\r\nSubject: x\r\n"
        b"Content-Type: text/plain\r\n\r\nhello\r\n"
    )
    assert parse(raw).sender == "carl@acme.test"


@pytest.mark.parametrize(
    ("headers", "automatic", "auto_reply"),
    [
        ("Auto-Submitted: auto-replied", "auto_reply", True),
        ("X-Autoreply: yes", "auto_reply", True),
        ("Auto-Submitted: auto-generated", "auto_submitted", False),
        ("Auto-Submitted: no", "", False),
        ("Precedence: bulk", "precedence_bulk", False),
        ("Precedence: list", "precedence_list", False),
        ("Precedence: junk", "precedence_junk", False),
    ],
)
def test_machine_made_mail_is_recognized(headers, automatic, auto_reply):
    raw = f"From: carl@acme.test\r\n{headers}\r\nSubject: x\r\n\r\nbody\r\n".encode()
    parsed = parse(raw)
    assert (parsed.automatic, parsed.auto_reply) == (automatic, auto_reply)


def test_mailer_daemon_is_a_machine_sender():
    raw = b"From: MAILER-DAEMON@mx.acme.test\r\nSubject: x\r\n\r\nbody\r\n"
    assert parse(raw).automatic == "machine_sender"


def test_quoted_text_and_signature_are_trimmed_from_a_reply():
    text = (
        "Thanks, that fixed it.\n\n-- \nCarl Contact\nAcme\n\n"
        "On Mon, 2 Mar 2026 at 10:00, Support <support@vendor.test> wrote:\n> Try again."
    )
    assert trim_reply(text) == "Thanks, that fixed it."
    outlook = "Works now.\n\n-----Original Message-----\nFrom: Support\nSent: Monday"
    assert trim_reply(outlook) == "Works now."
    assert trim_reply("> only a quote") == "> only a quote"  # nothing new: kept whole


def test_the_signature_is_cut_from_a_new_request():
    assert strip_signature("Help!\n-- \nCarl") == "Help!"
    assert strip_signature("No signature") == "No signature"


def test_html_to_text_survives_broken_markup():
    assert html_to_text("<p>one<div>two</p><script>x") == "one\ntwo"
