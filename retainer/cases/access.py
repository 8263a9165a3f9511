"""Who may see and change which case. Cases are fetched only through these helpers.

Staff see every case. A customer sees the cases of their own organization, never an
internal note, an internal event or a time entry. Anything else is a 404.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from retainer.accounts.access import customer_contact, is_vendor_staff
from retainer.accounts.models import User
from retainer.cases.models import Case, CaseAttachment, CaseMessage, Defect, TimeEntry


def cases_visible_to(user: User) -> QuerySet[Case]:
    if is_vendor_staff(user):
        return Case.objects.all()
    contact = customer_contact(user)
    if contact is None:
        return Case.objects.none()
    cases = Case.objects.filter(organization_id=contact.organization_id)
    # A customer admin sees every case of the organization; other contacts see their
    # colleagues' cases only when the organization shares them.
    if not contact.is_customer_admin and not contact.organization.share_cases_with_colleagues:
        cases = cases.filter(contact=contact)
    return cases


def access_case(user: User, public_id: str, *, for_write: bool = False) -> Case:
    """The case with this public id if ``user`` may see it; writing needs staff with
    ``cases.change_case`` or a customer of the case's organization (customer-side
    writes are limited further by the actions they may call)."""
    try:
        case = (
            cases_visible_to(user)
            .select_related("organization", "contact", "contract")
            .get(public_id=public_id)
        )
    except Case.DoesNotExist:
        raise Http404 from None
    if for_write and is_vendor_staff(user) and not user.has_perm("cases.change_case"):
        raise Http404
    return case


def messages_visible_to(user: User, case: Case) -> QuerySet[CaseMessage]:
    messages = case.messages.select_related("author")
    return messages if is_vendor_staff(user) else messages.filter(is_internal=False)


def attachments_visible_to(user: User, case: Case) -> QuerySet[CaseAttachment]:
    attachments = case.attachments.all()
    return attachments if is_vendor_staff(user) else attachments.filter(is_internal=False)


def access_attachment(user: User, case: Case, attachment_id: int) -> CaseAttachment:
    """An attachment of a case the user may see (internal files are staff-only)."""
    try:
        return attachments_visible_to(user, case).get(pk=attachment_id)
    except (CaseAttachment.DoesNotExist, ValueError):
        raise Http404 from None


def access_time_entry(user: User, case: Case, entry_id: int) -> TimeEntry:
    """Time entries are staff-only; customers never learn they exist."""
    if not is_vendor_staff(user):
        raise Http404
    try:
        return case.time_entries.get(pk=entry_id, is_deleted=False)
    except (TimeEntry.DoesNotExist, ValueError):
        raise Http404 from None


def access_defect(user: User, defect_id: int) -> Defect:
    if not is_vendor_staff(user):
        raise Http404
    try:
        return Defect.objects.select_related("product", "fix_release").get(pk=defect_id)
    except (Defect.DoesNotExist, ValueError):
        raise Http404 from None
