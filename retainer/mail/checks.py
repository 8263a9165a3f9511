"""One rule per staff operation of the e-mail channel (the console's Mail page).

Each ``check_*`` authorizes the actor (``NotPermitted``), validates the raw input
(``InvalidInput``), then calls the action. Opening a case and writing on one also pass
the cases app's own checks (``check_open_case``, ``check_reply``), called by the actions.
"""

from __future__ import annotations

from typing import Any

from retainer.accounts.access import is_vendor_staff
from retainer.accounts.models import Contact, User
from retainer.cases.models import REFERENCE_OFFSET, Case
from retainer.lib.errors import InvalidInput, NotPermitted
from retainer.mail import actions
from retainer.mail.models import InboundMessage, Mailbox, OutboundMessage

REVIEW = ("mail.change_inboundmessage",)
RETRY = ("mail.change_outboundmessage",)
MAILBOXES = ("mail.add_mailbox", "mail.change_mailbox")


def _require(actor: Any, perms: tuple[str, ...]) -> None:
    if not (is_vendor_staff(actor) and actor.has_perms(perms)):
        raise NotPermitted("permission_denied", "You do not have permission to do this.")


def authorize_review(actor: User) -> None:
    _require(actor, REVIEW)


def check_review_open_case(actor: User, inbound: InboundMessage, *, contact_email: str) -> Case:
    """Open a case from a message in review for the contact with ``contact_email``."""
    authorize_review(actor)
    address = contact_email.strip().lower()
    contact = Contact.objects.select_related("organization").filter(email__iexact=address).first()
    if not address or contact is None:
        raise InvalidInput(
            "unknown_contact", "No contact has this e-mail address.", field="contact_email"
        )
    if inbound.mailbox.product is None:
        raise InvalidInput("no_product", "The mailbox names no product to open cases on.")
    return actions.do_review_open_case(inbound, contact=contact, actor=actor)


def _case_by_reference(reference: str) -> Case:
    text = reference.strip().upper().removeprefix("RT-")
    case = None
    if text.isdigit():
        case = Case.objects.filter(pk=int(text) - REFERENCE_OFFSET).first()
    if case is None:
        raise InvalidInput("unknown_case", "No case has this reference.", field="reference")
    return case


def check_review_attach(actor: User, inbound: InboundMessage, *, reference: str) -> InboundMessage:
    """Attach a message in review to the case ``reference`` (``RT-10234``) as a note."""
    authorize_review(actor)
    return actions.do_review_attach(inbound, case=_case_by_reference(reference), actor=actor)


def check_review_reject(actor: User, inbound: InboundMessage, *, reason: str) -> InboundMessage:
    """Reject a message in review, with the reason staff give."""
    authorize_review(actor)
    if not reason.strip():
        raise InvalidInput("reason_required", "Say why the message is rejected.", field="reason")
    return actions.do_review_reject(inbound, reason=reason.strip()[:500], actor=actor)


def authorize_retry(actor: User) -> None:
    _require(actor, RETRY)


def check_retry_outbound(actor: User, outbound: OutboundMessage) -> OutboundMessage:
    """Queue a failed or withheld e-mail again."""
    authorize_retry(actor)
    return actions.do_retry_outbound(outbound, actor=actor)


def authorize_mailboxes(actor: User) -> None:
    _require(actor, MAILBOXES)


def check_save_mailbox(actor: User, mailbox: Mailbox | None, **values: Any) -> Mailbox:
    """Create or change a mailbox (``values``: the form's fields). The model's rules (a
    unique name, a spool folder, an IMAP host and user) are field errors."""
    authorize_mailboxes(actor)
    return actions.do_save_mailbox(mailbox, values=values, actor=actor)
