"""Training records expire: ``contact_facts`` counts only the records current on the
date decided, and ``do_certify_training`` writes or renews the one record per course."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from retainer.contracts import actions
from retainer.contracts.choices import ContractEventType
from retainer.contracts.models import ContractEvent, TrainingRecord
from retainer.contracts.selectors import contact_facts

DAY = dt.date(2026, 3, 1)


def _certify(cast, completed_on: dt.date, expires_on: dt.date | None) -> TrainingRecord:
    return actions.do_certify_training(
        contact=cast.contact,
        course="Ledgerline Admin",
        completed_on=completed_on,
        expires_on=expires_on,
        certificate="CERT-1",
        actor=cast.admin,
    )


def test_a_record_counts_until_the_day_before_it_expires(cast):
    _certify(cast, DAY, DAY + dt.timedelta(days=365))
    last_day = contact_facts(cast.contact, on=DAY + dt.timedelta(days=364))
    assert last_day.completed_courses == frozenset({"ledgerline admin"})
    assert contact_facts(cast.contact, on=DAY + dt.timedelta(days=365)).completed_courses == set()


def test_a_record_without_expiry_counts_for_ever(cast):
    actions.do_record_training(
        contact=cast.contact, course="Ledgerline Admin", completed_on=DAY, actor=cast.admin
    )
    far = contact_facts(cast.contact, on=DAY + dt.timedelta(days=3650))
    assert far.completed_courses == frozenset({"ledgerline admin"})


def test_completing_again_renews_the_record_and_records_it(cast):
    _certify(cast, DAY, DAY + dt.timedelta(days=30))
    later = DAY + dt.timedelta(days=60)
    record = _certify(cast, later, later + dt.timedelta(days=365))
    assert TrainingRecord.objects.filter(contact=cast.contact).count() == 1
    assert (record.completed_on, record.expires_on) == (later, later + dt.timedelta(days=365))
    events = ContractEvent.objects.filter(type=ContractEventType.TRAINING_RECORDED)
    assert [e.data["renewed"] for e in events.order_by("id")] == [False, True]


def test_an_older_completion_changes_nothing(cast):
    first = _certify(cast, DAY, DAY + dt.timedelta(days=365))
    older = _certify(cast, DAY - dt.timedelta(days=10), DAY + dt.timedelta(days=1))
    assert older.expires_on == first.expires_on


def test_an_expiry_before_the_completion_or_a_future_completion_is_refused(cast):
    with pytest.raises(ValidationError):
        _certify(cast, DAY, DAY)
    with pytest.raises(ValidationError):
        _certify(cast, timezone.localdate() + dt.timedelta(days=1), None)
    assert not TrainingRecord.objects.exists()
