"""Proficiency: courses, sessions with capacity, enrollments, and the training records a
completion writes, which trained-only contracts read (and stop reading once expired)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from retainer.catalog import actions as catalog_actions
from retainer.catalog.models import Product
from retainer.contracts import actions as contract_actions
from retainer.contracts.choices import Preset
from retainer.contracts.models import TrainingRecord
from retainer.contracts.terms import add_months
from retainer.lib.errors import Conflict
from retainer.lib.tests.hostile import PAYLOADS, active_content
from retainer.success import actions
from retainer.success.choices import EnrollmentStatus, SuccessEventType
from retainer.success.models import Enrollment, SuccessEvent
from retainer.success.tests.world import Sales, Training, acme_training


@pytest.fixture
def training(cast: Any, sales: Sales) -> Training:
    return acme_training(cast, sales.product)


def _trained_only_contract(cast: Any, sales: Sales) -> None:
    """Acme's only contract on a second product: trained contacts only (the sales world's
    maintenance contract covers ``sales.product`` for everyone)."""
    product = catalog_actions.do_save_product(
        None, actor=cast.admin, name="Ledgerline Desk", code="ledgerline-desk"
    )
    contract_actions.do_create_contract(
        organization=cast.acme,
        preset=Preset.SUBSCRIPTION,
        start_date=timezone.localdate() - dt.timedelta(days=60),
        covered_products=[product],
        terms={"authorization_policy": "trained", "required_course": "Ledgerline Admin"},
        actor=cast.admin,
    )


def _decide(cast: Any, sales: Sales, on: dt.date) -> Any:
    product = Product.objects.get(code="ledgerline-desk")
    decision, _ = contract_actions.decide_for(
        contact=cast.contact, product=product, channel="web", on=on
    )
    return decision


def test_completing_a_course_makes_a_trained_only_contract_cover_the_contact(cast, sales, training):
    _trained_only_contract(cast, sales)
    today = timezone.localdate()
    before = _decide(cast, sales, today)
    assert (before.outcome, before.reason) == ("not_entitled", "contact_not_trained")

    record = actions.do_complete_enrollment(
        training.enrollment, completed_on=today, actor=cast.manager
    )

    assert record.course == "Ledgerline Admin"
    assert record.expires_on == add_months(today, 12)
    assert record.certificate.startswith("CERT-")
    assert _decide(cast, sales, today).outcome == "covered"
    enrollment = Enrollment.objects.get(pk=training.enrollment.pk)
    assert enrollment.status == EnrollmentStatus.COMPLETED
    assert SuccessEvent.objects.filter(type=SuccessEventType.ENROLLMENT_COMPLETED).count() == 1


def test_an_expired_certificate_makes_the_contact_not_entitled_again(cast, sales, training):
    _trained_only_contract(cast, sales)
    completed_on = timezone.localdate() - dt.timedelta(days=360)  # within the contract
    record = actions.do_complete_enrollment(
        training.enrollment, completed_on=completed_on, actor=cast.manager
    )
    assert record.expires_on == add_months(completed_on, 12)
    assert _decide(cast, sales, record.expires_on - dt.timedelta(days=1)).outcome == "covered"
    expired = _decide(cast, sales, record.expires_on)
    assert (expired.outcome, expired.reason) == ("not_entitled", "contact_not_trained")
    assert not record.is_current(record.expires_on)


def test_completing_again_renews_the_one_training_record(cast, sales, training):
    today = timezone.localdate()
    old = today - dt.timedelta(days=400)
    contract_actions.do_record_training(
        contact=cast.contact, course="ledgerline admin", completed_on=old, actor=cast.admin
    )
    record = actions.do_complete_enrollment(
        training.enrollment, completed_on=today, actor=cast.manager
    )
    assert TrainingRecord.objects.filter(contact=cast.contact).count() == 1
    assert (record.completed_on, record.course) == (today, "ledgerline admin")
    assert record.expires_on is not None and record.expires_on > today


def test_a_course_valid_for_0_months_never_expires(cast, sales):
    course = actions.do_save_course(
        None,
        product=sales.product,
        name="Ledgerline Basics",
        level="basic",
        duration_hours=2,
        validity_months=0,
        actor=cast.manager,
    )
    assert actions.expiry_for(course, dt.date(2026, 1, 31)) is None


def test_a_session_takes_no_more_contacts_than_its_capacity(cast, sales):
    training = acme_training(cast, sales.product, capacity=1)
    with pytest.raises(Conflict) as refused:
        actions.do_enroll_contact(training.session, contact=cast.customer_admin, actor=cast.manager)
    assert refused.value.code == "session_full"
    assert training.session.enrollments.count() == 1
    actions.do_cancel_enrollment(training.enrollment, actor=cast.manager)
    again = actions.do_enroll_contact(
        training.session, contact=cast.customer_admin, actor=cast.manager
    )
    assert again.status == EnrollmentStatus.ENROLLED


def test_enrolling_a_contact_twice_is_refused(cast, training):
    with pytest.raises(Conflict) as refused:
        actions.do_enroll_contact(training.session, contact=cast.contact, actor=cast.manager)
    assert refused.value.code == "already_enrolled"


def test_a_cancelled_enrollment_cannot_be_completed(cast, training):
    actions.do_cancel_enrollment(training.enrollment, actor=cast.manager)
    with pytest.raises(Conflict) as refused:
        actions.do_complete_enrollment(training.enrollment, actor=cast.manager)
    assert refused.value.code == "enrollment_cancelled"
    assert not TrainingRecord.objects.filter(contact=cast.contact).exists()


def test_a_session_needs_a_seat_and_a_place(cast, training):
    with pytest.raises(ValidationError) as refused:
        actions.do_schedule_session(
            training.course,
            starts_at=timezone.now(),
            capacity=0,
            location="Berlin",
            actor=cast.manager,
        )
    assert "capacity" in refused.value.message_dict
    with pytest.raises(ValidationError):
        actions.do_schedule_session(
            training.course, starts_at=timezone.now(), capacity=5, actor=cast.manager
        )


def test_a_course_with_completions_keeps_its_name(cast, training):
    actions.do_complete_enrollment(training.enrollment, actor=cast.manager)
    with pytest.raises(Conflict) as refused:
        actions.do_save_course(training.course, name="Renamed", actor=cast.manager)
    assert refused.value.code == "course_has_completions"


# --- Through the doors ----------------------------------------------------------------------


def test_the_api_answers_409_session_full_and_writes_nothing(cast, sales):
    training = acme_training(cast, sales.product, capacity=1)
    client = cast.client_for(cast.manager)
    url = reverse("api:training_session_enroll", args=[training.session.pk])
    response = client.post(
        url, {"email": cast.customer_admin.email}, content_type="application/json"
    )
    assert response.status_code == 409
    assert response.json()["code"] == "session_full"
    assert training.session.enrollments.count() == 1


def test_the_api_refuses_a_capacity_of_0(cast, training):
    client = cast.client_for(cast.manager)
    body = {
        "course": training.course.pk,
        "starts_at": "2030-01-01T09:00:00Z",
        "capacity": 0,
        "location": "Berlin",
    }
    response = client.post(
        reverse("api:training_session_list"), body, content_type="application/json"
    )
    assert response.status_code == 400
    assert "capacity" in response.json()["errors"]


def test_the_api_completes_an_enrollment_and_the_contact_reads_the_certificate(cast, training):
    staff = cast.client_for(cast.manager)
    url = reverse("api:enrollment_complete", args=[training.enrollment.pk])
    response = staff.post(url, {}, content_type="application/json")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "completed"
    contact = cast.client_for(cast.contact)
    certificates = contact.get(reverse("api:certificate_list")).json()["results"]
    assert [(c["course"], c["current"]) for c in certificates] == [("Ledgerline Admin", True)]
    assert (
        cast.client_for(cast.outsider).get(reverse("api:certificate_list")).json()["results"] == []
    )


def test_another_organizations_enrollment_is_a_404(cast, training):
    outsider = cast.client_for(cast.outsider)
    url = reverse("api:enrollment_detail", args=[training.enrollment.pk])
    assert outsider.get(url).status_code == 404
    assert outsider.get(reverse("api:enrollment_list")).json()["results"] == []
    assert cast.client_for(cast.contact).get(url).status_code == 200


def test_the_console_enrolls_by_e_mail_and_shows_a_full_session_beside_the_field(cast, sales):
    training = acme_training(cast, sales.product, capacity=1)
    client = cast.client_for(cast.manager)
    url = reverse("success:enrollment_new", args=[training.session.pk])
    response = client.post(url, {"email": cast.customer_admin.email})
    assert response.status_code == 400
    assert "This session is full" in response.content.decode()
    unknown = client.post(url, {"email": "nobody@nowhere.test"})
    assert unknown.status_code == 400
    page = client.get(reverse("success:session_detail", args=[training.session.pk]))
    assert cast.contact.full_name in page.content.decode()


def test_the_console_marks_completed_and_the_portal_shows_the_certificate(cast, sales, training):
    _trained_only_contract(cast, sales)
    portal = cast.client_for(cast.contact)
    before = portal.get(reverse("success:portal_training")).content.decode()
    assert "you hold no current certificate" in before
    staff = cast.client_for(cast.manager)
    done = staff.post(reverse("success:enrollment_complete", args=[training.enrollment.pk]), {})
    assert done.status_code == 302
    after = portal.get(reverse("success:portal_training")).content.decode()
    assert "you hold a current certificate" in after
    assert "CERT-" in after


def test_the_portal_marks_an_expired_certificate(cast, sales):
    contract_actions.do_certify_training(
        contact=cast.contact,
        course="Ledgerline Admin",
        completed_on=timezone.localdate() - dt.timedelta(days=800),
        expires_on=timezone.localdate() - dt.timedelta(days=70),
        actor=cast.admin,
    )
    page = cast.client_for(cast.contact).get(reverse("success:portal_training")).content.decode()
    assert "expired" in page


def test_the_portal_shows_only_the_contacts_own_organization(cast, training):
    page = cast.client_for(cast.outsider).get(reverse("success:portal_training"))
    assert page.status_code == 200
    assert "Berlin, Alexanderplatz" not in page.content.decode()
    assert "No enrollments yet." in page.content.decode()


# --- Hostile text and query counts --------------------------------------------------------------


def _training_pages(cast: Any, training: Training, text: str) -> list[str]:
    course = actions.do_save_course(training.course, name=text[:120], actor=cast.manager)
    session = actions.do_schedule_session(
        course,
        starts_at=timezone.now() + dt.timedelta(days=3),
        capacity=2,
        location=text[:200],
        actor=cast.manager,
    )
    actions.do_enroll_contact(session, contact=cast.contact, actor=cast.manager)
    staff, contact = cast.client_for(cast.manager), cast.client_for(cast.contact)
    return [
        client.get(url).content.decode()
        for client, url in (
            (staff, reverse("success:course_list")),
            (staff, reverse("success:course_detail", args=[course.pk])),
            (staff, reverse("success:course_edit", args=[course.pk])),
            (staff, reverse("success:session_detail", args=[session.pk])),
            (contact, reverse("success:portal_training")),
        )
    ]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_hostile_course_and_session_text_is_inert(cast, training, payload):
    harmless = _training_pages(cast, training, "Plain words")
    hostile = _training_pages(cast, training, payload)
    for plain, bad in zip(harmless, hostile, strict=True):
        assert Counter(active_content(bad)) == Counter(active_content(plain))


def _queries(client: Any, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


def test_the_training_pages_do_not_grow_with_the_enrollments(cast, sales, training):
    _trained_only_contract(cast, sales)
    staff, contact = cast.client_for(cast.manager), cast.client_for(cast.customer_admin)
    pages = [
        (staff, reverse("success:course_list")),
        (staff, reverse("success:course_detail", args=[training.course.pk])),
        (staff, reverse("success:session_detail", args=[training.session.pk])),
        (contact, reverse("success:portal_training")),
        (staff, reverse("api:enrollment_list")),
    ]
    before = [_queries(client, url) for client, url in pages]
    actions.do_enroll_contact(training.session, contact=cast.customer_admin, actor=cast.manager)
    actions.do_complete_enrollment(training.enrollment, actor=cast.manager)
    actions.do_schedule_session(
        training.course,
        starts_at=timezone.now() + dt.timedelta(days=9),
        capacity=4,
        online_link="https://training.test/x",
        actor=cast.manager,
    )
    assert [_queries(client, url) for client, url in pages] == before
