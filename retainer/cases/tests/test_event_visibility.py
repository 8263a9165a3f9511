"""Customers never see staff-only details of a case's history, by construction: the API's
events endpoint and the portal's case page render each event's ``customer_fields`` only,
and no internal row at all."""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

import pytest
from django.db import transaction
from django.urls import reverse

from retainer.cases import actions
from retainer.cases.choices import CaseEventType, Priority
from retainer.cases.events import CaseReplied
from retainer.cases.models import Case, CaseEvent
from retainer.contracts.choices import Outcome
from retainer.lib.events import Event, event_types, record

CASE_TYPES = sorted(
    (name, cls) for name, cls in event_types().items() if cls.history == "cases.caseevent"
)


def opened(cast, desk, who=None) -> Case:
    contact = who or cast.contact
    return actions.check_open_case(
        contact.user, contact=contact, product=desk.product, release=desk.current,
        subject="Posting fails", description="Error 42.", channel="web",
    )  # fmt: skip


def sentinel_event(cls: type[Event], number: int) -> tuple[Event, dict[str, list[str]]]:
    """The event with a unique sentinel in every field, and the text each field would
    put into a page or a JSON body (none for booleans: they are checked by key)."""
    values: dict[str, Any] = {}
    traces: dict[str, list[str]] = {}
    hints = typing.get_type_hints(cls)
    for index, field in enumerate(dataclasses.fields(cls)):
        mark = f"{number:02d}{index:02d}"
        hint = str(hints[field.name])
        if "dict" in hint:
            values[field.name] = {"old": f"zqold{mark}zq", "new": f"zqnew{mark}zq"}
            traces[field.name] = [f"zqold{mark}zq", f"zqnew{mark}zq"]
        elif "bool" in hint:
            values[field.name] = True
            traces[field.name] = []
        elif "int" in hint:
            values[field.name] = int(f"97{mark}")
            traces[field.name] = [f"97{mark}"]
        else:
            values[field.name] = f"zq{mark}zq"
            traces[field.name] = [f"zq{mark}zq"]
    return cls(**values), traces


def customer_outputs(cast, case: Case) -> tuple[list[dict[str, Any]], str, str]:
    client = cast.client_for(cast.contact)
    response = client.get(reverse("api:case_events", args=[case.public_id]))
    assert response.status_code == 200
    page = client.get(reverse("portal:case_detail", args=[case.public_id]))
    assert page.status_code == 200
    return response.json(), response.content.decode(), page.content.decode()


def test_no_event_type_shows_a_customer_more_than_its_allow_list(cast, desk, incident_bank):
    """Every case event type, with a sentinel in every field: what is not in the type's
    ``customer_fields`` appears neither in the API's events nor on the portal page."""
    case = opened(cast, desk)
    hidden: dict[str, list[str]] = {}
    with transaction.atomic():
        for number, (name, cls) in enumerate(CASE_TYPES):
            event, traces = sentinel_event(cls, number)
            record(CaseEvent, event, case=case, actor=cast.agent, is_internal=False)
            for field, texts in traces.items():
                if field not in cls.customer_fields:
                    hidden[f"{name}.{field}"] = texts
    events, body, page = customer_outputs(cast, case)
    by_type = {cls.type: cls for _, cls in CASE_TYPES}
    assert {e["type"] for e in events} >= {str(cls.type) for _, cls in CASE_TYPES}
    for shown in events:
        assert set(shown["data"]) <= by_type[shown["type"]].customer_fields, shown
    leaks = [
        f"{field} ({where})"
        for field, texts in hidden.items()
        for text in texts
        for where, output in (("API", body), ("portal", page))
        if text in output
    ]
    assert not leaks, leaks


def test_internal_rows_are_never_shown_to_customers(cast, desk, incident_bank):
    case = opened(cast, desk)
    with transaction.atomic():
        row = record(CaseEvent, CaseReplied(message=9_876_543), case=case, actor=cast.agent,
                     is_internal=True)  # fmt: skip
    events, body, _ = customer_outputs(cast, case)
    assert row.pk not in {e["id"] for e in events}
    assert "9876543" not in body


def customer_event(events: list[dict[str, Any]], type: str) -> dict[str, Any]:
    (event,) = [e for e in events if e["type"] == type]
    return event


def test_a_fields_change_hides_priority_category_and_tags(cast, desk, incident_bank):
    case = opened(cast, desk)
    actions.do_update_case(
        case, priority=Priority.URGENT, category="Zqcategory", tags=["zqtag"], severity=1,
        actor=cast.agent,
    )  # fmt: skip
    events, body, page = customer_outputs(cast, case)
    data = customer_event(events, CaseEventType.FIELDS_CHANGED)["data"]
    assert "severity" in data
    assert not {"priority", "category", "tags"} & set(data)
    for output in (body, page):
        assert "Zqcategory" not in output and "zqtag" not in output and "urgent" not in output


def test_an_assignment_shows_the_name_not_the_user_id(cast, desk, incident_bank):
    case = opened(cast, desk)
    actions.do_update_case(case, assignee=cast.agent, actor=cast.agent)
    events, _, _ = customer_outputs(cast, case)
    assert customer_event(events, CaseEventType.ASSIGNED)["data"] == {
        "assignee_name": cast.agent.full_name
    }
    staff = cast.client_for(cast.agent).get(reverse("api:case_events", args=[case.public_id]))
    assert customer_event(staff.json(), CaseEventType.ASSIGNED)["data"]["assignee"] == (
        cast.agent.pk
    )


def test_an_override_hides_the_agents_reason(cast, desk, incident_bank):
    case = opened(cast, desk, who=cast.unauthorized)
    actions.do_override_case_decision(
        case, outcome=Outcome.COVERED, contract=incident_bank, reason="Zqreason: VIP",
        actor=cast.agent,
    )  # fmt: skip
    client = cast.client_for(cast.unauthorized)
    body = client.get(reverse("api:case_events", args=[case.public_id])).content.decode()
    page = client.get(reverse("portal:case_detail", args=[case.public_id])).content.decode()
    assert "Zqreason" not in body and "Zqreason" not in page
    assert '"new_outcome":"covered"' in body.replace(" ", "")


def test_a_recorded_decision_hides_the_contract(cast, desk, incident_bank):
    case = opened(cast, desk)
    events, _, _ = customer_outputs(cast, case)
    data = customer_event(events, CaseEventType.DECISION_RECORDED)["data"]
    assert set(data) == {"outcome", "reason", "sentence"}


@pytest.mark.parametrize("type", [CaseEventType.OPENED, CaseEventType.STATUS_CHANGED])
def test_the_portal_timeline_still_tells_the_customer_what_happened(
    cast, desk, incident_bank, type
):
    case = opened(cast, desk)
    actions.do_transition_case(case, "cancelled", actor=cast.contact.user, by_customer=True)
    _, _, page = customer_outputs(cast, case)
    expected = {
        CaseEventType.OPENED: "Case opened (Web portal)",
        CaseEventType.STATUS_CHANGED: "Status changed from New to Cancelled",
    }[type]
    assert expected in page
