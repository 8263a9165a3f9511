"""How a reply finds its case: our own Message-IDs, signed, and the case reference.

Every e-mail Retainer sends about a case has the Message-ID
``<rt.<nonce>.<case public id>.<signature>@<our domain>>``; the signature is an HMAC of
the nonce and the case's public id under a key derived from ``SECRET_KEY``
(``django.utils.crypto.salted_hmac``), so an In-Reply-To naming a case cannot be forged
without the key. A subject may also carry the case reference (``[RT-10234]``). Either only
*finds* the case: whether the sender may write on it is intake's question.
"""

from __future__ import annotations

import re
import secrets

from django.conf import settings
from django.utils.crypto import constant_time_compare, salted_hmac

from retainer.cases.models import REFERENCE_OFFSET

_SALT = "retainer.mail.message-id"
_OURS = re.compile(r"rt\.([0-9a-f]{12})\.([A-Za-z0-9_-]{8,40})\.([0-9a-f]{24})@.+")
_SUBJECT_REFERENCE = re.compile(r"\bRT-(\d{5,12})\b")


def mail_domain() -> str:
    """The domain of our Message-IDs: the sender address's."""
    return str(settings.DEFAULT_FROM_EMAIL).rsplit("@", 1)[-1].strip("> ") or "retainer.invalid"


def _signature(nonce: str, public_id: str) -> str:
    return salted_hmac(_SALT, f"{nonce}.{public_id}", algorithm="sha256").hexdigest()[:24]


def new_message_id(case_public_id: str | None) -> str:
    """A Message-ID (without the angle brackets) for an e-mail about a case, signed; or a
    plain random one for an e-mail about no case."""
    nonce = secrets.token_hex(6)
    if case_public_id is None:
        return f"rt.{nonce}@{mail_domain()}"
    return f"rt.{nonce}.{case_public_id}.{_signature(nonce, case_public_id)}@{mail_domain()}"


def case_of_message_id(message_id: str) -> str | None:
    """The case public id one of our Message-IDs names, if its signature holds."""
    match = _OURS.fullmatch(message_id)
    if match is None:
        return None
    nonce, public_id, signature = match.groups()
    return public_id if constant_time_compare(signature, _signature(nonce, public_id)) else None


def case_from_ids(ids: list[str]) -> str | None:
    """The case named by the first verified id among In-Reply-To and References."""
    for message_id in ids:
        public_id = case_of_message_id(message_id)
        if public_id is not None:
            return public_id
    return None


def case_pk_from_subject(subject: str) -> int | None:
    """The case row id a subject's ``RT-…`` reference names (unverified: a reference is
    public, so the sender must be a participant of that case)."""
    match = _SUBJECT_REFERENCE.search(subject)
    if match is None:
        return None
    pk = int(match.group(1)) - REFERENCE_OFFSET
    return pk if pk > 0 else None
