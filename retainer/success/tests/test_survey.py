"""The success-perception survey: sent to the customer admins or a chosen contact,
answered once through its signed link (a tampered or expired link is a clear 404 page),
bad input refused with nothing written, and the perception split."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from retainer.lib.errors import Conflict, InvalidInput
from retainer.success import actions
from retainer.success.models import PerceptionSurvey, SuccessEvent
from retainer.success.realization import perception


def _post(client: Any, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, body, content_type="application/json")


def _state() -> tuple[int, int, int]:
    return (
        PerceptionSurvey.objects.count(),
        PerceptionSurvey.objects.exclude(answer="").count(),
        SuccessEvent.objects.count(),
    )


def _link_path(link: str) -> str:
    return link.split("testserver", 1)[1]


def test_the_split_leaves_unanswered_surveys_out():
    split = perception(["positive", "positive", "neutral", "negative", ""])
    assert split.answered == 4
    assert (split.positive_pct, split.neutral_pct, split.negative_pct) == (
        Decimal("50.0"),
        Decimal("25.0"),
        Decimal("25.0"),
    )
    assert perception(["", ""]).positive_pct is None


def test_without_a_contact_the_survey_goes_to_every_customer_admin(cast):
    surveys = actions.do_send_survey(cast.acme, actor=cast.manager)
    assert [s.contact for s in surveys] == [cast.customer_admin]
    assert SuccessEvent.objects.latest("id").type == "perception_survey_sent"


def test_a_contact_of_another_organization_is_refused_and_nothing_is_written(cast):
    before = _state()
    with pytest.raises(ValidationError):
        actions.do_send_survey(cast.acme, contact=cast.outsider, actor=cast.manager)
    assert _state() == before


def test_an_organization_without_customer_admin_needs_a_chosen_contact(cast):
    with pytest.raises(InvalidInput) as refused:
        actions.do_send_survey(cast.globex, actor=cast.manager)
    assert refused.value.code == "no_survey_recipient"


def test_the_contact_answers_once_through_the_link(cast, client):
    response = _post(
        cast.client_for(cast.manager),
        "/api/v1/perception-surveys/",
        {"organization": cast.acme.pk, "contact": cast.contact.pk},
    )
    assert response.status_code == 201
    (body,) = response.json()
    path = _link_path(body["link"])
    page = client.get(path)
    assert page.status_code == 200 and b"Do you see success?" in page.content
    answered = client.post(path, {"answer": "positive", "comment": "Closing in 2 days now."})
    assert answered.status_code == 200 and b"Thank you!" in answered.content
    survey = PerceptionSurvey.objects.get(pk=body["id"])
    assert (survey.answer, survey.comment) == ("positive", "Closing in 2 days now.")
    assert SuccessEvent.objects.latest("id").type == "perception_survey_answered"
    before = _state()
    again = client.post(path, {"answer": "negative"})
    assert again.status_code == 409 and b"can be answered once" in again.content
    assert _state() == before
    survey.refresh_from_db()
    assert survey.answer == "positive"


def test_answering_twice_through_the_action_is_a_conflict(cast):
    (survey,) = actions.do_send_survey(cast.acme, actor=cast.manager)
    actions.do_answer_survey(survey, answer="neutral", actor=None)
    with pytest.raises(Conflict):
        actions.do_answer_survey(survey, answer="positive", actor=None)


def test_a_bad_answer_is_a_400_and_nothing_is_written(cast, client):
    (survey,) = actions.do_send_survey(cast.acme, actor=cast.manager)
    before = _state()
    path = f"/success-survey/{actions.survey_token(survey)}/"
    response = client.post(path, {"answer": "ecstatic"})
    assert response.status_code == 400
    assert _state() == before


def test_a_tampered_link_is_a_clear_404(cast, client):
    (survey,) = actions.do_send_survey(cast.acme, actor=cast.manager)
    token = actions.survey_token(survey)
    response = client.get(f"/success-survey/{token[:-2]}xx/")
    assert response.status_code == 404
    assert b"This survey link is invalid or has expired." in response.content
    before = _state()
    assert client.post(f"/success-survey/{token}x/", {"answer": "positive"}).status_code == 404
    assert _state() == before


def test_an_expired_link_is_a_clear_404(cast, client):
    (survey,) = actions.do_send_survey(cast.acme, actor=cast.manager)
    token = actions.survey_token(survey)
    with time_machine.travel(timezone.now() + dt.timedelta(days=31)):
        response = client.post(f"/success-survey/{token}/", {"answer": "positive"})
    assert response.status_code == 404
    assert b"invalid or has expired" in response.content
    survey.refresh_from_db()
    assert not survey.is_answered


def test_the_console_sends_and_lists_the_link_and_shows_the_split(cast):
    client = cast.client_for(cast.manager)
    url = f"/console/success/organizations/{cast.acme.pk}/plan/"
    response = client.post(f"{url}surveys/", {"contact": cast.contact.pk})
    assert response.status_code == 302
    survey = PerceptionSurvey.objects.get()
    page = client.get(url).content.decode()
    # The token is signed with a timestamp: the page's link names this survey.
    token = re.search(r"/success-survey/([^/\"]+)/", page)
    assert token is not None and actions.survey_for_token(token.group(1)) == survey
    actions.do_answer_survey(survey, answer="negative", actor=None)
    page = client.get(url).content.decode()
    assert "0.0 % positive · 0.0 % neutral · 100.0 % none or negative" in page


def test_the_console_refuses_a_survey_with_no_recipient_beside_the_field(cast):
    client = cast.client_for(cast.manager)
    url = f"/console/success/organizations/{cast.globex.pk}/plan/surveys/"
    response = client.post(url, {})
    assert response.status_code == 400
    assert "has no active customer admin" in response.content.decode()
    assert PerceptionSurvey.objects.count() == 0


def test_only_staff_list_surveys_and_links(cast):
    actions.do_send_survey(cast.acme, actor=cast.manager)
    assert (
        cast.client_for(cast.customer_admin).get("/api/v1/perception-surveys/").status_code == 403
    )
    listed = cast.client_for(cast.agent).get(
        f"/api/v1/perception-surveys/?organization={cast.acme.pk}"
    )
    assert listed.status_code == 200 and listed.json()[0]["link"].startswith("http")
    bad = cast.client_for(cast.agent).get("/api/v1/perception-surveys/?organization=x")
    assert bad.status_code == 400
