"""Every change of the e-mail channel: inbound (store, then process), outbound (queue, send,
retry) and the review of messages by staff. ``checks.py`` holds the staff operations'
rules."""

from retainer.mail.actions.inbound import (
    do_note_poll,
    do_receive_mail,
    process_inbound,
    process_pending,
)
from retainer.mail.actions.outbound import (
    do_retry_outbound,
    do_send_outbound,
    queue_mail,
    queue_rejection,
    send_due_mail,
)
from retainer.mail.actions.review import (
    do_review_attach,
    do_review_open_case,
    do_review_reject,
    do_save_mailbox,
)

__all__ = [
    "do_note_poll",
    "do_receive_mail",
    "do_retry_outbound",
    "do_review_attach",
    "do_review_open_case",
    "do_review_reject",
    "do_save_mailbox",
    "do_send_outbound",
    "process_inbound",
    "process_pending",
    "queue_mail",
    "queue_rejection",
    "send_due_mail",
]
