"""The typed events of a case's history: each one recorded with its outbox message,
read back as itself, and rows written before the payloads were explicit still readable."""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

import pytest
from django.db import transaction

from retainer.cases import actions
from retainer.cases import events as case_events
from retainer.cases.choices import CaseEventType, CaseStatus, Priority, RootCause
from retainer.cases.models import Case, CaseEvent
from retainer.lib.events import Event, event_types, parse, record
from retainer.lib.models import OutboxMessage

CASE_TYPES = {name: cls for name, cls in event_types().items() if cls.history == "cases.caseevent"}


def sample(cls: type[Event]) -> Event:
    """An instance with a recognisable value in every field."""
    values: dict[str, Any] = {}
    for n, field in enumerate(dataclasses.fields(cls)):
        hint = str(typing.get_type_hints(cls)[field.name])
        if "dict" in hint:
            values[field.name] = {"old": f"old-{field.name}", "new": f"new-{field.name}"}
        elif "bool" in hint:
            values[field.name] = True
        elif "int" in hint:
            values[field.name] = 7_700_000 + n
        else:
            values[field.name] = f"value-{field.name}"
    return cls(**values)


def opened(cast, desk) -> Case:
    return actions.check_open_case(
        cast.contact.user, contact=cast.contact, product=desk.product, subject="Posting fails",
        description="Error 42.", channel="web",
    )  # fmt: skip


def test_every_case_event_type_has_a_class():
    declared = {cls.type for cls in CASE_TYPES.values()}
    assert declared == set(CaseEventType.values)


@pytest.mark.parametrize("name", sorted(CASE_TYPES))
def test_each_event_is_recorded_with_its_outbox_row_and_parses_back(cast, desk, name):
    case = opened(cast, desk)
    event = sample(CASE_TYPES[name])
    with transaction.atomic():
        row = record(CaseEvent, event, case=case, actor=cast.agent)
    assert parse(CaseEvent.objects.get(pk=row.pk)) == event
    message = OutboxMessage.objects.get(source="cases.caseevent", source_id=row.pk)
    assert message.topic == name
    assert message.payload["refs"] == {"case": case.pk, "actor": cast.agent.pk}


def test_a_rolled_back_action_leaves_neither_history_nor_outbox(cast, desk, incident_bank):
    case = opened(cast, desk)
    before = (CaseEvent.objects.count(), OutboxMessage.objects.count())
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        actions.do_update_case(case, priority=Priority.HIGH, actor=cast.agent)
        actions.do_transition_case(
            case, CaseStatus.RESOLVED, root_cause=RootCause.DEFECT, actor=cast.agent
        )
        _ = 1 / 0
    assert (CaseEvent.objects.count(), OutboxMessage.objects.count()) == before


def test_every_history_row_of_a_worked_case_has_exactly_one_outbox_row(cast, desk, incident_bank):
    case = opened(cast, desk)
    actions.do_update_case(case, assignee=cast.agent, actor=cast.agent)
    actions.do_add_message(case, author=cast.agent, body="Which release?")
    actions.do_add_message(case, author=cast.agent, body="Proxy?", internal=True)
    actions.do_log_time(case, agent=cast.agent, minutes=5, actor=cast.agent)
    actions.do_transition_case(
        case, CaseStatus.RESOLVED, root_cause=RootCause.DEFECT, actor=cast.agent
    )
    actions.do_answer_csat(case, rating="good", actor=cast.contact.user)
    rows = list(CaseEvent.objects.filter(case=case))
    outbox = list(OutboxMessage.objects.filter(source="cases.caseevent"))
    assert len(rows) >= 8
    assert sorted(m.source_id for m in outbox) == sorted(row.pk for row in rows)
    assert all(parse(row) is not None for row in rows)


def test_opening_a_case_writes_its_history_in_one_insert(cast, desk, incident_bank):
    """Intake is benchmarked: its events (opened, decision, incident) take one history
    insert, whatever their number, and each has its outbox message."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        case = opened(cast, desk)
    inserts = [q["sql"] for q in queries if q["sql"].startswith("INSERT INTO")]
    assert sum('"cases_caseevent"' in sql for sql in inserts) == 1
    rows = CaseEvent.objects.filter(case=case)
    assert set(rows.values_list("type", flat=True)) >= {
        CaseEventType.OPENED,
        CaseEventType.DECISION_RECORDED,
        CaseEventType.INCIDENT_CONSUMED,
    }
    outbox = OutboxMessage.objects.filter(source="cases.caseevent")
    assert sorted(outbox.values_list("source_id", flat=True)) == sorted(
        rows.values_list("pk", flat=True)
    )


# --- Rows written before the payloads were explicit -------------------------------------------


def legacy_row(type: str, data: dict[str, Any]) -> Any:
    return CaseEvent(type=type, data=data)


def test_an_old_assignment_row_reads_as_an_assignment():
    row = legacy_row(CaseEventType.ASSIGNED, {"changes": {"assignee": {"old": 3, "new": 7}}})
    assert parse(row) == case_events.CaseAssigned(assignee=7, previous=3)


def test_an_old_fields_row_reads_each_change_into_its_field():
    row = legacy_row(
        CaseEventType.FIELDS_CHANGED,
        {
            "changes": {
                "priority": {"old": "normal", "new": "high"},
                "type": {"old": "a", "new": "b"},
            }
        },
    )
    assert parse(row) == case_events.CaseFieldsChanged(
        priority={"old": "normal", "new": "high"}, case_type={"old": "a", "new": "b"}
    )


def test_an_old_override_row_reads_its_nested_outcomes():
    row = legacy_row(
        CaseEventType.DECISION_OVERRIDDEN,
        {
            "old": {"outcome": "not_entitled", "contract": None},
            "new": {"outcome": "covered", "contract": 4},
            "reason": "Approved",
        },
    )
    assert parse(row) == case_events.CaseDecisionOverridden(
        old_outcome="not_entitled",
        old_contract=None,
        new_outcome="covered",
        new_contract=4,
        reason="Approved",
    )


def test_an_old_attachment_row_keeps_its_file_name():
    row = legacy_row(
        CaseEventType.ATTACHMENT_ADDED, {"attachment": 1, "name": "log.txt", "size": 3}
    )
    assert parse(row) == case_events.CaseAttachmentAdded(attachment=1, file_name="log.txt", size=3)


@pytest.mark.parametrize(
    ("type", "data"),
    [
        (CaseEventType.ASSIGNED, {"changes": {"assignee": {"old": None, "new": 7}}}),
        (CaseEventType.FIELDS_CHANGED, {"changes": {"type": {"old": "a", "new": "b"}}}),
        (CaseEventType.TIME_CHANGED, {"entry": 1, "changes": {"minutes": {"old": 5, "new": 9}}}),
        (
            CaseEventType.DECISION_OVERRIDDEN,
            {"old": {"outcome": "a", "contract": 1}, "new": {"outcome": "b"}, "reason": "r"},
        ),
        (CaseEventType.ATTACHMENT_ADDED, {"attachment": 1, "name": "log.txt", "size": 3}),
    ],
)
def test_the_migration_writes_old_rows_in_their_types_shape(type, data):
    """The carried-over payload is in the typed event's shape, and reads as the old one."""
    import copy
    from importlib import import_module

    migration = import_module("retainer.cases.migrations.0006_typed_event_payloads")
    converted = migration._convert(str(type), copy.deepcopy(data), {7: "Ann Agent"})
    event = parse(legacy_row(type, converted))
    assert event is not None
    assert {key: event.data[key] for key in converted} == converted
    if type != CaseEventType.ASSIGNED:  # an assignment also gains the assignee's name
        assert parse(legacy_row(type, data)) == event
