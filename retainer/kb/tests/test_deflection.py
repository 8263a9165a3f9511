"""Suggestions while a contact writes a new case, deflection records and the deflection
rate, "Was this helpful?", view counts and the review-age flag: through the portal's and
the help centre's pages and the API."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from retainer.cases.models import Case
from retainer.kb import selectors
from retainer.kb.checks import new_session_token
from retainer.kb.models import (
    AppendOnlyError,
    ArticleFeedback,
    ArticleView,
    SuggestionRecord,
    SuggestionSession,
)
from retainer.kb.tests.conftest import write

pytestmark = pytest.mark.django_db

SUGGEST = reverse("kb:suggestions")
SOLVED = reverse("kb:suggestion_solved")
OPEN = reverse("kb:suggestion_case_new")


def suggest(client, token, subject="", description=""):
    return client.post(
        SUGGEST,
        {"session": token, "subject": subject, "description": description},
        headers={"HX-Request": "true"},
    )


def kinds(token):
    return sorted(
        (r.kind, r.article.title if r.article else None)
        for r in SuggestionRecord.objects.filter(session__token=token).select_related("article")
    )


def case_payload(kb, token):
    return {
        "product": kb.product.pk,
        "severity": 3,
        "subject": "Backup is slow",
        "description": "The nightly backup takes hours.",
        "suggestion_session": token,
    }


def test_the_new_case_form_hosts_the_suggestions_box(cast, kb):
    page = cast.client_for(cast.contact).get(reverse("portal:case_new")).content.decode()
    assert 'hx-post="/portal/help/suggestions/"' in page
    assert "keyup changed delay:400ms from:#id_subject" in page
    assert 'name="suggestion_session"' in page
    # Without JavaScript the form still posts to the case door itself.
    assert (
        'id="new-case-submit"><button type="submit" form="new-case-form" class="primary">' in page
    )


def test_suggestions_show_only_what_the_contact_may_read_at_most_five(cast, kb):
    client, token = cast.client_for(cast.contact), new_session_token()
    response = suggest(client, token, "backup", "backup restore failover database licence")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Tune the nightly backup window" in html  # gold: Acme's tier
    for hidden in ("Direct database failover", "Known issue", "Draft about", "Old backup tool"):
        assert hidden not in html
    assert html.count("<li>") <= 5
    assert f"?suggestion={token}" in html
    assert 'formaction="/portal/help/suggestions/cases/"' in html  # shown: opened-anyway door
    shown = {title for kind, title in kinds(token)}
    assert (
        "Tune the nightly backup window" in shown
        and "Direct database failover runbook" not in shown
    )


def test_an_outsider_never_gets_a_plans_article(cast, kb):
    token = new_session_token()
    html = suggest(cast.client_for(cast.outsider), token, "nightly backup window").content.decode()
    assert "Tune the nightly backup window" not in html


def test_suggestions_are_idempotent_per_session_and_article(cast, kb):
    client, token = cast.client_for(cast.contact), new_session_token()
    suggest(client, token, "admin password")
    suggest(client, token, "admin password reset")
    assert SuggestionSession.objects.count() == 1
    assert kinds(token) == [("impression", "Reset a forgotten admin password")]


def test_another_contacts_session_is_a_404_and_a_bad_token_a_400(cast, kb):
    token = new_session_token()
    suggest(cast.client_for(cast.contact), token, "admin password")
    assert suggest(cast.client_for(cast.customer_admin), token, "password").status_code == 404
    assert suggest(cast.client_for(cast.contact), "short", "password").status_code == 400
    assert suggest(cast.client_for(cast.contact), token, "x" * 300).status_code == 400


def test_staff_and_anonymous_get_no_suggestions(cast, kb):
    assert suggest(cast.client_for(cast.agent), new_session_token(), "password").status_code == 404
    assert suggest(cast.client_for(None), new_session_token(), "password").status_code == 302


def test_solved_records_a_deflection_and_opens_no_case(cast, kb):
    client, token = cast.client_for(cast.contact), new_session_token()
    suggest(client, token, "admin password")
    page = client.get(f"/help/{kb.public.slug}/?suggestion={token}").content.decode()
    assert "This solved my problem" in page
    client.post(reverse("kb:help_article_view", args=[kb.public.slug]), {"suggestion": token})
    response = client.post(SOLVED, {"session": token, "article": kb.public.public_id})
    assert response.status_code == 302
    assert "No case was opened" in client.get(response["Location"]).content.decode()
    again = client.post(SOLVED, {"session": token, "article": kb.public.public_id})
    assert again.status_code == 302  # idempotent
    assert not Case.objects.exists()
    assert kinds(token) == [
        ("click", "Reset a forgotten admin password"),
        ("impression", "Reset a forgotten admin password"),
        ("solved", "Reset a forgotten admin password"),
    ]
    now = timezone.now()
    summary = selectors.deflection_summary(now - dt.timedelta(hours=1), now)
    assert (summary.sessions, summary.with_suggestions, summary.solved) == (1, 1, 1)
    assert summary.rate == 1.0


def test_solved_on_an_article_not_suggested_is_a_form_error(cast, kb):
    client, token = cast.client_for(cast.contact), new_session_token()
    suggest(client, token, "admin password")
    response = client.post(SOLVED, {"session": token, "article": kb.customers.public_id})
    assert response.status_code == 400
    assert "was not suggested" in response.content.decode()
    hidden = client.post(SOLVED, {"session": token, "article": kb.platinum.public_id})
    assert hidden.status_code == 404


def test_opening_the_case_anyway_opens_it_and_records_it(cast, kb):
    client, token = cast.client_for(cast.contact), new_session_token()
    suggest(client, token, "nightly backup")
    response = client.post(OPEN, case_payload(kb, token))
    case = Case.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:case_detail", args=[case.public_id])
    record = SuggestionRecord.objects.get(kind="opened")
    assert record.case == case and record.session.token == token
    client.post(OPEN, case_payload(kb, token))  # a second case: still one "opened"
    assert SuggestionRecord.objects.filter(kind="opened").count() == 1
    now = timezone.now()
    summary = selectors.deflection_summary(now - dt.timedelta(hours=1), now)
    assert (summary.with_suggestions, summary.solved, summary.opened_anyway) == (1, 0, 1)
    assert summary.rate == 0.0


def test_a_refused_case_keeps_the_session_and_a_foreign_one_never_blocks_the_case(cast, kb):
    client, token = cast.client_for(cast.contact), new_session_token()
    suggest(client, token, "nightly backup")
    refused = client.post(OPEN, {"suggestion_session": token, "product": kb.product.pk})
    assert refused.status_code == 400
    assert f'value="{token}"' in refused.content.decode()
    assert 'formaction="/portal/help/suggestions/cases/"' in refused.content.decode()
    other = cast.client_for(cast.customer_admin)
    assert other.post(OPEN, case_payload(kb, token)).status_code == 302
    assert not SuggestionRecord.objects.filter(kind="opened").exists()


def test_a_session_without_suggestions_counts_as_a_session_only(cast, kb):
    client, token = cast.client_for(cast.contact), new_session_token()
    suggest(client, token, "zzzz qqqq")
    client.post(OPEN, case_payload(kb, token))
    now = timezone.now()
    summary = selectors.deflection_summary(now - dt.timedelta(hours=1), now)
    assert (summary.sessions, summary.with_suggestions, summary.opened_anyway) == (1, 0, 0)
    assert summary.rate is None


def test_records_are_append_only(cast, kb):
    client, token = cast.client_for(cast.contact), new_session_token()
    suggest(client, token, "admin password")
    record = SuggestionRecord.objects.get()
    with pytest.raises(AppendOnlyError):
        record.save()
    with pytest.raises(AppendOnlyError):
        record.delete()


# --- "Was this helpful?" and views ---------------------------------------------------------


def feedback(client, article, **data):
    return client.post(reverse("kb:help_article_feedback", args=[article.slug]), data)


def test_a_contact_answers_once_and_a_second_answer_is_refused(cast, kb):
    client = cast.client_for(cast.contact)
    assert (
        feedback(client, kb.customers, helpful="yes", comment="Clear <b>steps</b>").status_code
        == 302
    )
    second = feedback(client, kb.customers, helpful="no")
    assert second.status_code == 302
    page = client.get(second["Location"]).content.decode()
    assert "already told us" in page
    answer = ArticleFeedback.objects.get()
    assert answer.helpful is True and answer.comment == "Clear <b>steps</b>"
    console = cast.client_for(cast.manager).get(
        reverse("kb:article_detail", args=[kb.customers.pk])
    )
    html = console.content.decode()
    assert "1 yes · 0 no" in html and "Clear &lt;b&gt;steps&lt;/b&gt;" in html


def test_anonymous_feedback_only_on_public_articles_once_per_session(cast, kb):
    client = cast.client_for(None)
    client.get(f"/help/{kb.public.slug}/")  # the page sets the CSRF cookie
    assert feedback(client, kb.public, helpful="no").status_code == 302
    assert feedback(client, kb.public, helpful="yes").status_code == 302
    assert ArticleFeedback.objects.count() == 1
    assert feedback(client, kb.customers, helpful="yes").status_code == 404


def test_feedback_on_a_draft_or_a_hidden_article_is_a_404(cast, kb):
    client = cast.client_for(cast.contact)
    for article in (kb.draft, kb.archived, kb.platinum, kb.internal):
        assert feedback(client, article, helpful="yes").status_code == 404
    assert not ArticleFeedback.objects.exists()


def test_a_long_comment_or_no_answer_is_a_form_error(cast, kb):
    client = cast.client_for(cast.contact)
    response = feedback(client, kb.public, helpful="yes", comment="x" * 1001)
    assert response.status_code == 400
    assert "at most 1000 characters" in response.content.decode()
    assert feedback(client, kb.public, comment="hm").status_code == 400
    assert not ArticleFeedback.objects.exists()


def test_a_view_counts_once_per_reader_and_day_and_get_writes_nothing(cast, kb):
    client = cast.client_for(cast.contact)
    url = reverse("kb:help_article_view", args=[kb.public.slug])
    client.get(f"/help/{kb.public.slug}/")
    assert not ArticleView.objects.exists()
    for _ in range(3):
        assert client.post(url).status_code == 204
    assert ArticleView.objects.count() == 1
    with time_machine.travel(timezone.now() + dt.timedelta(days=1)):
        client.post(url)
    assert ArticleView.objects.count() == 2
    assert client.post(reverse("kb:help_article_view", args=[kb.draft.slug])).status_code == 404


# --- API ------------------------------------------------------------------------------------


def test_api_feedback_by_visibility_and_once(cast, kb):
    client = cast.client_for(cast.contact)
    url = reverse("api:article_feedback", args=[kb.gold.public_id])
    response = client.post(url, {"helpful": True, "comment": "ok"}, content_type="application/json")
    assert response.status_code == 201 and response.json()["helpful"] is True
    again = client.post(url, {"helpful": False}, content_type="application/json")
    assert again.status_code == 409 and again.json()["code"] == "feedback_already_given"
    hidden = reverse("api:article_feedback", args=[kb.platinum.public_id])
    assert (
        client.post(hidden, {"helpful": True}, content_type="application/json").status_code == 404
    )
    draft = reverse("api:article_feedback", args=[kb.draft.public_id])
    staff = cast.client_for(cast.manager)
    assert staff.post(draft, {"helpful": True}, content_type="application/json").status_code == 404
    long = client.post(
        reverse("api:article_feedback", args=[kb.public.public_id]),
        {"helpful": True, "comment": "x" * 1001},
        content_type="application/json",
    )
    assert long.status_code == 400


def test_api_deflection_events(cast, kb):
    client, token = cast.client_for(cast.contact), new_session_token()
    url = reverse("api:deflection_events")

    def post(**data):
        return client.post(url, {"session": token, **data}, content_type="application/json")

    assert post(kind="impression", articles=[kb.public.public_id]).status_code == 200
    assert post(kind="impression", articles=[kb.platinum.public_id]).status_code == 404
    assert post(kind="click", article=kb.public.public_id).json()["recorded"] is True
    assert post(kind="click", article=kb.public.public_id).json()["recorded"] is False
    assert post(kind="solved", article=kb.public.public_id).json()["recorded"] is True
    assert post(kind="solved", article=kb.customers.public_id).status_code == 400
    staff = cast.client_for(cast.agent)
    body = {"session": token, "kind": "click", "article": kb.public.public_id}
    assert staff.post(url, body, content_type="application/json").status_code == 403
    assert kinds(token) == [
        ("click", "Reset a forgotten admin password"),
        ("impression", "Reset a forgotten admin password"),
        ("solved", "Reset a forgotten admin password"),
    ]


# --- Review age -----------------------------------------------------------------------------


def test_articles_not_reviewed_for_n_days_are_flagged_and_filtered(cast, kb, settings):
    settings.RETAINER_KB_REVIEW_DAYS = 30
    with time_machine.travel(timezone.now() - dt.timedelta(days=31)):
        old = write(cast.manager, title="Stale upgrade notes", body="Old.", visibility="public")
    client = cast.client_for(cast.manager)
    listing = reverse("kb:article_list")
    html = client.get(listing + "?needs_review=on").content.decode()
    assert "Stale upgrade notes" in html and "Needs review</span>" in html
    assert "Reset a forgotten admin password" not in html  # reviewed today
    detail = client.get(reverse("kb:article_detail", args=[old.pk])).content.decode()
    assert "Needs review</span>" in detail
    fresh = client.get(reverse("kb:article_detail", args=[kb.public.pk])).content.decode()
    assert "Needs review</span>" not in fresh
