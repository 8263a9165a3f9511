"""The case output shapes write their fields directly; these tests hold that output to
what the declared fields would produce, so the two cannot drift apart."""

from __future__ import annotations

import pytest
from django.utils import timezone
from rest_framework import serializers

from retainer.cases import actions
from retainer.cases.choices import CaseStatus, Priority, RootCause
from retainer.cases.models import Case
from retainer.cases.serializers import CaseCustomerOut, CaseStaffOut
from retainer.contracts.choices import Outcome

pytestmark = pytest.mark.django_db


def _declared(serializer_class: type[serializers.ModelSerializer], case: Case) -> dict:
    serializer = serializer_class(case)
    return dict(serializers.Serializer.to_representation(serializer, case))


def _cases(cast, desk, incident_bank) -> list[Case]:
    def opened(**fields) -> Case:
        contact = fields.pop("contact", cast.contact)
        return actions.check_open_case(
            contact.user,
            contact=contact,
            product=desk.product,
            subject="Posting fails",
            description="Error 42.",
            channel="web",
            **fields,
        )

    plain = opened(release=desk.current)
    without_release = opened(contact=cast.unauthorized)  # not entitled, no release
    resolved = opened(release=desk.current, severity=1)
    actions.do_transition_case(resolved, CaseStatus.OPEN, actor=cast.agent)
    resolved = actions.do_transition_case(
        resolved, CaseStatus.RESOLVED, actor=cast.agent, root_cause=RootCause.CONFIGURATION
    )
    worked = actions.do_update_case(
        opened(release=desk.current),
        actor=cast.agent,
        assignee=cast.agent,
        priority=Priority.HIGH,
        tags=["billing", "night"],
        category="Posting",
    )
    overridden = actions.do_override_case_decision(
        opened(contact=cast.unauthorized, release=desk.current),
        outcome=Outcome.COVERED,
        contract=incident_bank,
        reason="Long-standing customer",
        actor=cast.manager,
    )
    undecided = Case.objects.get(pk=plain.pk)
    undecided.decision = None
    return [
        Case.objects.select_related("decision").get(pk=c.pk)
        for c in (plain, without_release, resolved, worked, overridden)
    ] + [undecided]


@pytest.mark.parametrize("serializer_class", [CaseCustomerOut, CaseStaffOut])
def test_the_direct_output_equals_the_declared_fields(
    cast, desk, incident_bank, serializer_class
) -> None:
    for case in _cases(cast, desk, incident_bank):
        assert serializer_class(case).data == _declared(serializer_class, case)


def test_times_are_written_in_the_same_zone_and_format(cast, desk, incident_bank) -> None:
    case = _cases(cast, desk, incident_bank)[2]
    with timezone.override("Europe/Berlin"):
        assert (
            CaseStaffOut(case).data["resolved_at"] == _declared(CaseStaffOut, case)["resolved_at"]
        )
