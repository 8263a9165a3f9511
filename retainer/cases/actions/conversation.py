"""Replies, internal notes and files."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from retainer.accounts.models import User
from retainer.cases.actions.clocks import clocks_after_message
from retainer.cases.actions.common import lock_case, touch
from retainer.cases.actions.transitions import do_transition_case
from retainer.cases.choices import CaseStatus
from retainer.cases.events import CaseAttachmentAdded, CaseNoteAdded, CaseReplied
from retainer.cases.models import Case, CaseAttachment, CaseEvent, CaseMessage
from retainer.lib.errors import Conflict
from retainer.lib.events import record
from retainer.lib.uploads import Readable, store_upload

FINISHED = (CaseStatus.CLOSED, CaseStatus.CANCELLED)


def _refuse_if_finished(case: Case) -> None:
    if case.status in FINISHED:
        raise Conflict("case_finished", "This case is finished; please open a new case.")


@transaction.atomic
def do_add_message(case: Case, *, author: User, body: str, internal: bool = False) -> CaseMessage:
    """A reply or an internal note. A customer's reply hands a waiting case back to the
    vendor; the first public reply by staff stops the first-response clock."""
    if not body.strip():
        raise ValidationError({"body": "The message is empty."})
    by_customer = not author.is_staff
    if by_customer and internal:
        raise ValidationError({"internal": "Customers cannot write internal notes."})
    case = lock_case(case)
    _refuse_if_finished(case)
    message = CaseMessage.objects.create(
        case=case, author=author, body=body, is_internal=internal, by_customer=by_customer
    )
    event = CaseNoteAdded(message=message.pk) if internal else CaseReplied(message=message.pk)
    record(CaseEvent, event, case=case, actor=author, is_internal=internal)
    clocks_after_message(case, message, actor=author)
    if by_customer and case.status == CaseStatus.WAITING_ON_CUSTOMER:
        do_transition_case(case, CaseStatus.OPEN, actor=author, by_customer=True)
    elif not by_customer and not internal and case.first_response_at is None:
        case.first_response_at = message.created_at
        touch(case, ["first_response_at"])
        if case.status == CaseStatus.NEW:
            do_transition_case(case, CaseStatus.OPEN, actor=author)
    else:
        touch(case, [])
    return message


@transaction.atomic
def do_add_attachment(
    case: Case,
    *,
    upload: Readable,
    name: str,
    uploaded_by: User,
    internal: bool = False,
    message: CaseMessage | None = None,
) -> CaseAttachment:
    """Store an uploaded file on the case under a server-generated name.

    Raises ``UploadRejected`` (too large, empty, type not allowed) or ``Conflict`` (too
    many files, case finished); nothing is stored then. Customers' files are never internal.
    """
    if not uploaded_by.is_staff and internal:
        raise ValidationError({"internal": "Customers cannot add internal files."})
    case = lock_case(case)
    _refuse_if_finished(case)
    if case.attachments.count() >= settings.RETAINER_ATTACHMENTS_PER_CASE:
        raise Conflict("too_many_attachments", "This case has reached its number of files.")
    stored = store_upload(
        upload, original_name=name, max_bytes=settings.RETAINER_ATTACHMENT_MAX_BYTES
    )
    # If the transaction rolls back, the stored file is orphaned but unreachable: its
    # random name is recorded nowhere.
    attachment = CaseAttachment.objects.create(
        case=case,
        message=message,
        storage_name=stored.storage_name,
        display_name=stored.safe_name,
        content_type=stored.content_type,
        size=stored.size,
        sha256=stored.sha256,
        is_internal=internal,
        uploaded_by=uploaded_by,
    )
    record(
        CaseEvent,
        CaseAttachmentAdded(
            attachment=attachment.pk, file_name=attachment.display_name, size=attachment.size
        ),
        case=case,
        actor=uploaded_by,
        is_internal=internal,
    )
    return attachment


@dataclass(frozen=True)
class Reply:
    """What a reply stored: its message (none for a file alone) and its file (if any)."""

    message: CaseMessage | None
    attachment: CaseAttachment | None


@transaction.atomic
def do_reply(
    case: Case,
    *,
    author: User,
    body: str,
    internal: bool = False,
    upload: Any = None,
) -> Reply:
    """A reply or note with an optional file, in one transaction: a refused file (too
    large, type not allowed) leaves no message behind either. A file alone is allowed."""
    message = (
        do_add_message(case, author=author, body=body, internal=internal) if body.strip() else None
    )
    attachment = None
    if upload is not None:
        attachment = do_add_attachment(
            case,
            upload=upload,
            name=upload.name or "file",
            uploaded_by=author,
            internal=internal,
            message=message,
        )
    return Reply(message, attachment)
