"""Who wants which optional e-mail: opt-outs by address, the preferences page's change
and the unsubscribe link.

Optional kinds (``choices.OPTIONAL_KINDS``) are sent unless the recipient's address has a
:class:`~retainer.mail.models.MailOptOut` row for the kind; transactional kinds are always
sent. Every optional e-mail carries an unsubscribe link whose token is the address and
the kind signed with ``SECRET_KEY`` (``django.core.signing``, salted): it needs no
sign-in, does not expire, and cannot be made for another address. One POST with
``List-Unsubscribe=One-Click`` (RFC 8058) turns the kind off.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from retainer.accounts.models import User
from retainer.lib.errors import InvalidInput
from retainer.lib.events import record
from retainer.mail.choices import OPTIONAL_KINDS
from retainer.mail.events import PreferencesChanged
from retainer.mail.models import MailEvent, MailLanguage, MailOptOut

_SALT = "retainer.mail.unsubscribe"


def unsubscribe_token(address: str, kind: str) -> str:
    """The signed token of an unsubscribe link for ``kind`` sent to ``address``."""
    return signing.dumps({"a": address.strip().lower(), "k": kind}, salt=_SALT, compress=True)


def read_unsubscribe_token(token: str) -> tuple[str, str]:
    """The address and kind a token names; ``InvalidInput`` for a token not ours."""
    try:
        data = signing.loads(token, salt=_SALT)
    except signing.BadSignature as exc:
        raise InvalidInput("bad_unsubscribe_link", "This unsubscribe link is not valid.") from exc
    address, kind = data.get("a"), data.get("k")
    if not isinstance(address, str) or kind not in OPTIONAL_KINDS:
        raise InvalidInput("bad_unsubscribe_link", "This unsubscribe link is not valid.")
    return address, str(kind)


def unsubscribe_url(address: str, kind: str) -> str:
    path = reverse("mail:unsubscribe", args=[unsubscribe_token(address, kind)])
    return f"{settings.RETAINER_BASE_URL.rstrip('/')}{path}"


def wants_mail(address: str, kind: str) -> bool:
    """Whether ``address`` gets e-mails of ``kind`` (transactional kinds: always)."""
    if kind not in OPTIONAL_KINDS:
        return True
    return not MailOptOut.objects.filter(address=address.strip().lower(), kind=kind).exists()


def mail_language(address: str) -> str:
    """The language ``address`` gets its e-mails in (``RETAINER_MAIL_LANGUAGE`` unless the
    person chose one on the preferences page)."""
    chosen = MailLanguage.objects.filter(address=address.strip().lower())
    return chosen.values_list("language", flat=True).first() or settings.RETAINER_MAIL_LANGUAGE


def kinds_off(address: str) -> set[str]:
    """The optional kinds ``address`` turned off."""
    rows = MailOptOut.objects.filter(address=address.strip().lower())
    return set(rows.values_list("kind", flat=True))


@transaction.atomic
def do_set_preferences(
    address: str,
    *,
    off: set[str],
    offered: tuple[str, ...],
    actor: User | None,
    via: str,
    language: str | None = None,
) -> PreferencesChanged | None:
    """Turn the ``offered`` kinds in ``off`` off for ``address`` and the other offered
    kinds on; kinds not offered are left as they are; ``language`` (when given) becomes
    the language of the address's e-mails. Records one event when anything changed
    (returns it), nothing otherwise."""
    address = address.strip().lower()
    if unknown := (off | set(offered)) - set(OPTIONAL_KINDS):
        raise InvalidInput("unknown_kind", f"Not an optional e-mail: {', '.join(sorted(unknown))}.")
    if language is not None and language not in dict(settings.LANGUAGES):
        raise InvalidInput(
            "unknown_language", f"Not a language e-mails are written in: {language}."
        )
    before = kinds_off(address)
    turn_off = sorted((off & set(offered)) - before)
    turn_on = sorted((set(offered) - off) & before)
    new_language = ""
    if language is not None and language != mail_language(address):
        new_language = language
    if not turn_off and not turn_on and not new_language:
        return None
    if new_language:
        MailLanguage.objects.update_or_create(
            address=address, defaults={"language": new_language, "updated_at": timezone.now()}
        )
    for kind in turn_off:
        try:
            with transaction.atomic():
                MailOptOut.objects.create(address=address, kind=kind)
        except IntegrityError:
            pass  # a concurrent request turned it off: the wish holds
    MailOptOut.objects.filter(address=address, kind__in=turn_on).delete()
    event = PreferencesChanged(
        address=address, off=turn_off, on=turn_on, via=via, language=new_language
    )
    record(MailEvent, event, actor=actor)
    return event


def do_unsubscribe(token: str) -> tuple[str, str]:
    """Turn off the kind an unsubscribe token names for its address (idempotent); returns
    the address and the kind. ``InvalidInput`` for a token not ours."""
    address, kind = read_unsubscribe_token(token)
    do_set_preferences(address, off={kind}, offered=(kind,), actor=None, via="link")
    return address, kind
