"""How an imported case is made, whatever it was imported from.

A case that was open in the old system goes through intake like a new one: its
entitlement decision is taken under today's contracts and recorded, an incident is
consumed where the contract says so, and its SLA clocks start. A resolved or closed case
is history: stored as it was, in bulk, with no decision and nothing consumed.
"""

from __future__ import annotations

import datetime as dt

from retainer.accounts.models import Contact, User
from retainer.cases.actions import do_open_case, plan_intake
from retainer.cases.choices import CaseStatus
from retainer.cases.models import Case
from retainer.catalog.models import Product
from retainer.contracts.choices import Channel


def open_case(
    *,
    contact: Contact,
    product: Product,
    subject: str,
    description: str,
    severity: int,
    priority: str,
    assignee: User | None,
    created_at: dt.datetime,
) -> Case:
    """An open case through intake, dated when it was opened in the old system. Raises
    ``ValidationError`` (field → message) for what intake refuses."""
    plan = plan_intake(
        contact=contact, product=product, subject=subject, description=description,
        channel=Channel.WEB, severity=severity, priority=priority, actor=None,
    )  # fmt: skip
    case = do_open_case(plan, actor=None)
    Case.objects.filter(pk=case.pk).update(
        created_at=created_at, assignee=assignee, status=CaseStatus.OPEN
    )
    case.created_at, case.assignee, case.status = created_at, assignee, CaseStatus.OPEN
    return case


def history_case(
    *,
    contact: Contact,
    product: Product,
    subject: str,
    description: str,
    severity: int,
    priority: str,
    assignee: User | None,
    created_at: dt.datetime,
    finished_at: dt.datetime,
    closed: bool,
) -> Case:
    """An unsaved resolved (or closed) case, for ``bulk_create``."""
    return Case(
        organization_id=contact.organization_id,
        contact=contact,
        product=product,
        channel=Channel.WEB,
        severity=severity,
        priority=priority,
        subject=subject[:200],
        description=description,
        status=CaseStatus.CLOSED if closed else CaseStatus.RESOLVED,
        assignee=assignee,
        created_at=created_at,
        updated_at=finished_at,
        resolved_at=finished_at,
        closed_at=finished_at if closed else None,
    )
