"""Reading real e-mail: the standard library's ``email`` with ``policy.default``, made to
survive what real mail contains. Pure: bytes in, a :class:`ParsedMail` out, no ORM.

Never raises on content: a header that cannot be decoded is read raw, a charset that is
unknown or lies is decoded as UTF-8 then Windows-1252 with replacement characters, a part
that cannot be read is skipped. What went wrong is listed in ``problems``; a message
whose sender cannot be told at all is for an agent to review.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage, Message
from email.utils import getaddresses, parseaddr
from html.parser import HTMLParser
from typing import Any

from retainer.lib.sanitize import clean_line, strip_invisible_controls

#: Nesting deeper than this (message in message in …) is not read further.
MAX_DEPTH = 8
#: Senders whose messages are machine reports, never people.
MACHINE_SENDERS = ("mailer-daemon", "postmaster")
_MSG_ID = re.compile(r"<([^<>\s]{1,250})>")


@dataclass(frozen=True)
class Attachment:
    """A file of the message (an attachment or an inline ``cid:`` image)."""

    name: str
    content_type: str
    data: bytes
    inline: bool = False


@dataclass
class ParsedMail:
    """What intake needs from a message. ``sender`` is the ``From`` address, lowercased
    (``""`` when there is none or several); ``Reply-To`` is deliberately not read."""

    message_id: str = ""
    sender: str = ""
    sender_name: str = ""
    subject: str = ""
    text: str = ""
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    automatic: str = ""  # why the message is machine-made ("" for a person)
    auto_reply: bool = False  # an out-of-office or other auto-reply
    bounced: list[str] = field(default_factory=list)  # failed recipients of a DSN
    is_report: bool = False  # a delivery-status notification
    problems: list[str] = field(default_factory=list)


def _raw_headers(msg: Message, name: str) -> list[str]:
    """Every value of header ``name``, decoded when it can be and raw when it cannot."""
    values = []
    for key, raw in msg.raw_items() if isinstance(msg, EmailMessage) else msg.items():
        if key.lower() != name.lower():
            continue
        try:
            values.append(str(msg.policy.header_fetch_parse(key, raw)))
        except Exception:
            values.append(str(raw))
    return values


def header(msg: Message, name: str) -> str:
    values = _raw_headers(msg, name)
    return values[0] if values else ""


def message_ids(value: str) -> list[str]:
    """The ``<…>`` ids in a Message-ID, In-Reply-To or References value, in order."""
    return _MSG_ID.findall(value or "")


def _sender(msg: Message, parsed: ParsedMail) -> None:
    froms = _raw_headers(msg, "From")
    addresses = {
        (name, address.strip().lower())
        for value in froms
        for name, address in getaddresses([value])
        if "@" in address
    }
    if len({address for _name, address in addresses}) != 1:
        parsed.problems.append("no_sender" if not addresses else "several_senders")
        return
    name, address = sorted(addresses)[0]
    parsed.sender = address[:254]
    parsed.sender_name = clean_line(name, max_length=200)


def _decode(part: Message) -> str:
    """A text part's content, whatever its declared charset says."""
    try:
        content = part.get_content()  # type: ignore[attr-defined]
        if isinstance(content, str):
            return content
    except (LookupError, UnicodeError, ValueError, AssertionError, KeyError, TypeError):
        pass
    payload = part.get_payload(decode=True)
    data = payload if isinstance(payload, bytes) else str(part.get_payload()).encode()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


class _TextOfHtml(HTMLParser):
    """HTML → plain text: block elements become line breaks, script and style vanish."""

    BLOCKS = frozenset(
        {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote",
         "pre", "table", "ul", "ol", "hr"}
    )  # fmt: skip
    SKIP = frozenset({"script", "style", "head", "title"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in self.SKIP:
            self.skipping += 1
        elif tag in self.BLOCKS:
            self.out.append("\n")
        if tag == "li":
            self.out.append("- ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self.BLOCKS:
            self.out.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.out.append(data)


def html_to_text(html: str) -> str:
    """Readable text of an HTML body (never HTML: it is shown as Markdown text, through
    the sanitizer, like every body)."""
    parser = _TextOfHtml()
    # Broken markup: keep what was read.
    with contextlib.suppress(Exception):
        parser.feed(html)
        parser.close()
    lines = [" ".join(line.split()) for line in "".join(parser.out).splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _body(msg: Message, parsed: ParsedMail, depth: int = 0) -> Message | None:
    """The part that is the message's text (plain preferred), or one of a nested message."""
    body = None
    try:
        body = msg.get_body(preferencelist=("plain", "html"))  # type: ignore[attr-defined]
    except Exception:
        parsed.problems.append("unreadable_structure")
    if body is None and depth < MAX_DEPTH:
        for part in msg.walk():
            if part.get_content_type() == "message/rfc822" and part is not msg:
                inner = part.get_payload()
                inner = inner[0] if isinstance(inner, list) and inner else inner
                if isinstance(inner, Message):
                    body = _body(inner, parsed, depth + 1)
                    if body is not None:
                        parsed.problems.append("text_from_nested_message")
                        break
    return body


def _text(body: Message | None) -> str:
    if body is None:
        return ""
    content = _decode(body)
    if body.get_content_type() == "text/html":
        content = html_to_text(content)
    return strip_invisible_controls(content.replace("\r\n", "\n")).strip()


def _file_name(part: Message, index: int) -> str:
    try:
        name = part.get_filename()
    except Exception:
        name = None
    if name:
        return clean_line(str(name), max_length=150) or f"file-{index}"
    ctype = part.get_content_type()
    suffix = {"message/rfc822": "eml", "text/plain": "txt"}.get(ctype, ctype.split("/")[-1])
    return f"file-{index}.{suffix[:10]}"


def _attachments(msg: Message, body: Message | None, parsed: ParsedMail) -> None:
    def visit(part: Message, depth: int) -> None:
        if depth > MAX_DEPTH:
            parsed.problems.append("too_deeply_nested")
            return
        ctype = part.get_content_type()
        if ctype == "message/rfc822":
            inner = part.get_payload()
            inner = inner[0] if isinstance(inner, list) and inner else inner
            data = inner.as_bytes() if isinstance(inner, Message) else b""
            _add(part, data)
            return
        if part.is_multipart():
            for sub in part.get_payload():
                if isinstance(sub, Message):
                    visit(sub, depth + 1)
            return
        if part is body or _is_alternative_text(part):
            return
        payload = part.get_payload(decode=True)
        _add(part, payload if isinstance(payload, bytes) else b"")

    def _add(part: Message, data: bytes) -> None:
        if not data:
            return
        inline = bool(part.get("Content-ID")) and part.get_content_disposition() != "attachment"
        name = _file_name(part, len(parsed.attachments) + 1)
        parsed.attachments.append(Attachment(name, part.get_content_type(), data, inline))

    try:
        visit(msg, 0)
    except Exception:
        parsed.problems.append("unreadable_attachment")


def _is_alternative_text(part: Message) -> bool:
    """A text part that is another rendering of the body, not a file."""
    return part.get_content_type() in ("text/plain", "text/html") and (
        part.get_content_disposition() != "attachment" and not part.get_filename()
    )


def _automatic(msg: Message, parsed: ParsedMail) -> None:
    auto_submitted = header(msg, "Auto-Submitted").strip().lower()
    precedence = header(msg, "Precedence").strip().lower()
    local = parsed.sender.split("@")[0]
    if (
        auto_submitted.startswith("auto-replied")
        or header(msg, "X-Autoreply")
        or header(msg, "X-Autorespond")
        or precedence == "auto_reply"
    ):
        parsed.automatic, parsed.auto_reply = "auto_reply", True
    elif auto_submitted and auto_submitted != "no":
        parsed.automatic = "auto_submitted"
    elif precedence in ("bulk", "junk", "list"):
        parsed.automatic = f"precedence_{precedence}"
    elif local in MACHINE_SENDERS or (
        not parsed.sender and "mailer-daemon" in header(msg, "From").lower()
    ):
        parsed.automatic = "machine_sender"


def _delivery_report(msg: Message, parsed: ParsedMail) -> None:
    """A DSN (RFC 3464): which recipients failed for good."""
    if msg.get_content_type() != "multipart/report":
        return
    parsed.is_report = True
    for part in msg.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        blocks = part.get_payload()
        for block in blocks if isinstance(blocks, list) else []:
            if not isinstance(block, Message):
                continue
            action = str(block.get("Action", "")).strip().lower()
            recipient = str(block.get("Final-Recipient") or block.get("Original-Recipient") or "")
            address = parseaddr(recipient.split(";")[-1].strip())[1].lower()
            if action == "failed" and "@" in address:
                parsed.bounced.append(address)


def parse(raw: bytes) -> ParsedMail:
    """Everything intake needs from ``raw``; never raises on the message's content."""
    parsed = ParsedMail()
    try:
        msg = message_from_bytes(raw, policy=policy.default)
    except Exception:
        parsed.problems.append("unparseable")
        return parsed
    if msg.defects:
        parsed.problems.append(
            "defects: " + ", ".join(sorted({type(d).__name__ for d in msg.defects}))
        )
    ids = message_ids(header(msg, "Message-ID"))
    parsed.message_id = ids[0] if ids else ""
    _sender(msg, parsed)
    parsed.subject = clean_line(header(msg, "Subject"), max_length=200)
    parsed.in_reply_to = message_ids(" ".join(_raw_headers(msg, "In-Reply-To")))
    parsed.references = message_ids(" ".join(_raw_headers(msg, "References")))
    _automatic(msg, parsed)
    _delivery_report(msg, parsed)
    body = _body(msg, parsed)
    parsed.text = _text(body)
    _attachments(msg, body, parsed)
    return parsed


# --- Replies: the new text only -----------------------------------------------------------------

_QUOTE_HEADS = (
    re.compile(r"^\s*On .{0,300}wrote:\s*$"),
    re.compile(r"^\s*Am .{0,300}schrieb .{0,200}:\s*$"),
    re.compile(r"^\s*Le .{0,300}a écrit\s*:\s*$"),
    re.compile(r"^-{2,}\s*Original Message\s*-{2,}\s*$", re.IGNORECASE),
    re.compile(r"^_{10,}\s*$"),
    re.compile(r"^From: .+$"),
)


def trim_reply(text: str) -> str:
    """The new part of a reply: the quoted previous message and the signature cut off.

    Cuts at the first line that opens a quote ("On … wrote:", "-----Original
    Message-----", Outlook's rule and From: line), at the signature separator ``-- ``,
    and drops trailing ``>`` lines. Returns ``text`` unchanged when nothing would remain.
    """
    kept: list[str] = []
    for line in text.splitlines():
        if line == "-- " or line.rstrip() == "--" or any(p.match(line) for p in _QUOTE_HEADS):
            break
        kept.append(line)
    while kept and (kept[-1].startswith(">") or not kept[-1].strip()):
        kept.pop()
    result = "\n".join(line for line in kept if not line.startswith(">")).strip()
    return result or text.strip()


def strip_signature(text: str) -> str:
    """``text`` without a signature after the RFC 3676 separator ``-- ``."""
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if line == "-- ":
            return "\n".join(lines[:index]).strip() or text.strip()
    return text.strip()
