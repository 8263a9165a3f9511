"""What staff may see of the e-mail channel. Customers see none of it here: their
e-mails are their cases' messages, shown through ``cases.access``."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from retainer.accounts.access import is_vendor_staff
from retainer.accounts.models import User
from retainer.mail.models import InboundMessage, OutboundMessage


def inbound_visible_to(user: User) -> QuerySet[InboundMessage]:
    if not (is_vendor_staff(user) and user.has_perm("mail.view_inboundmessage")):
        return InboundMessage.objects.none()
    return InboundMessage.objects.select_related("mailbox", "case")


def outbound_visible_to(user: User) -> QuerySet[OutboundMessage]:
    if not (is_vendor_staff(user) and user.has_perm("mail.view_outboundmessage")):
        return OutboundMessage.objects.none()
    return OutboundMessage.objects.select_related("case", "organization")


def access_inbound(user: User, pk: int) -> InboundMessage:
    try:
        return inbound_visible_to(user).get(pk=pk)
    except InboundMessage.DoesNotExist:
        raise Http404 from None


def access_outbound(user: User, pk: int) -> OutboundMessage:
    try:
        return outbound_visible_to(user).get(pk=pk)
    except OutboundMessage.DoesNotExist:
        raise Http404 from None
