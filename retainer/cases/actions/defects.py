"""Defects and the cases linked to them."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction

from retainer.accounts.models import Contact, User
from retainer.cases import workflow
from retainer.cases.actions.common import lock_case, touch
from retainer.cases.choices import DefectStatus
from retainer.cases.events import CaseDefectLinked, CaseFixAvailable
from retainer.cases.models import Case, CaseEvent, Defect
from retainer.catalog.models import Product, Release
from retainer.lib.events import record, record_many


@transaction.atomic
def do_create_defect(
    *,
    product: Product,
    title: str,
    description: str = "",
    affected_releases: Iterable[Release] = (),
    actor: User | None,
) -> Defect:
    releases = list(affected_releases)
    if any(r.product_id != product.pk for r in releases):
        raise ValidationError(
            {"affected_releases": "Every affected release must belong to the defect's product."}
        )
    defect = Defect(product=product, title=title.strip(), description=description, created_by=actor)
    defect.full_clean()
    defect.save()
    defect.affected_releases.set(releases)
    return defect


@transaction.atomic
def do_link_defect(case: Case, defect: Defect, *, actor: User | None) -> Case:
    case = lock_case(case)
    if defect.product_id != case.product_id:
        raise ValidationError({"defect": "The defect belongs to another product."})
    if case.defect_id != defect.pk:
        old = case.defect_id
        case.defect = defect
        touch(case, ["defect"])
        record(CaseEvent, CaseDefectLinked(old=old, new=defect.pk), case=case, actor=actor)
    return case


@transaction.atomic
def do_set_defect_fix_release(
    defect: Defect, release: Release, *, actor: User | None
) -> list[Contact]:
    """Record the release that fixes the defect; every linked open case gets an event.

    Returns the contacts to notify (the requesters of the linked open cases).
    """
    if release.product_id != defect.product_id:
        raise ValidationError(
            {"fix_release": "The fix release must belong to the defect's product."}
        )
    defect.fix_release = release
    defect.status = DefectStatus.FIXED
    defect.save(update_fields=["fix_release", "status"])
    cases = list(defect.cases.filter(status__in=workflow.ACTIVE).select_related("contact"))
    event = CaseFixAvailable(defect=defect.pk, release=release.version)
    record_many(CaseEvent, [(event, {"case": case, "actor": actor}) for case in cases])
    contacts = {case.contact_id: case.contact for case in cases}
    return list(contacts.values())
