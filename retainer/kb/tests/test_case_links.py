"""Articles on cases: agents find, link and unlink articles from the case page, insert an
article's link into a reply, and write a draft from a resolved case; the article's page
lists its cases."""

from __future__ import annotations

import pytest
from django.urls import reverse

from retainer.cases.actions import check_open_case, check_reply, check_transition_case
from retainer.kb.models import Article, CaseArticle, KbEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(cast, kb):
    return check_open_case(
        cast.contact.user,
        product=kb.product,
        channel="web",
        subject="Admin password lost after upgrade",
        description="Nobody can sign in as admin since the upgrade to 5.0.",
    )


def _page(client, case) -> str:
    return client.get(reverse("console:case_page", args=[case.public_id])).content.decode()


def test_the_case_page_finds_and_links_an_article(cast, kb, case):
    client = cast.client_for(cast.agent)
    assert 'id="knowledge"' in _page(client, case)
    search = reverse("kb:case_article_search", args=[case.public_id])
    hits = client.get(search, {"q": "reset admin password"}).content.decode()
    assert kb.public.title in hits and "Insert link" in hits
    assert f"/help/{kb.public.slug}/" in hits
    response = client.post(
        reverse("kb:case_article_link", args=[case.public_id]), {"article": kb.public.pk}
    )
    assert response.status_code == 302 and response.url.endswith("#knowledge")
    client.post(reverse("kb:case_article_link", args=[case.public_id]), {"article": kb.public.pk})
    assert CaseArticle.objects.filter(case=case, article=kb.public).count() == 1
    event = KbEvent.objects.get(type="article_linked")
    assert event.data == {"case": case.pk, "reference": case.reference, "drafted": False}
    assert kb.public.title in _page(client, case)
    detail = client.get(reverse("kb:article_detail", args=[kb.public.pk])).content.decode()
    assert case.reference in detail
    client.post(reverse("kb:case_article_unlink", args=[case.public_id, kb.public.pk]))
    assert not CaseArticle.objects.exists()
    assert KbEvent.objects.filter(type="article_unlinked").count() == 1


def test_an_archived_article_is_not_linked_and_bad_input_is_a_message(cast, kb, case):
    client = cast.client_for(cast.agent)
    link = reverse("kb:case_article_link", args=[case.public_id])
    response = client.post(link, {"article": kb.archived.pk}, follow=True)
    assert "An archived article cannot be linked" in response.content.decode()
    response = client.post(link, {"article": "x"}, follow=True)
    assert "Choose an article to link." in response.content.decode()
    assert client.post(link, {"article": 999999}).status_code == 404
    assert not CaseArticle.objects.exists()
    long_query = {"q": "x" * 501}
    answer = client.get(reverse("kb:case_article_search", args=[case.public_id]), long_query)
    assert answer.status_code == 400 and "at most 500" in answer.content.decode()


def test_customers_and_billing_staff_cannot_link(cast, kb, case):
    link = reverse("kb:case_article_link", args=[case.public_id])
    for person in (cast.customer_admin, cast.billing):
        response = cast.client_for(person).post(link, {"article": kb.public.pk})
        assert response.status_code == 404
    assert not CaseArticle.objects.exists()
    page = _page(cast.client_for(cast.billing), case)
    assert 'id="knowledge"' in page and "Find an article" not in page


def test_a_resolved_case_becomes_a_draft_linked_to_it(cast, kb, case):
    client = cast.client_for(cast.agent)
    draft = reverse("kb:article_from_case", args=[case.public_id])
    response = client.post(draft, follow=True)
    assert "once it is resolved" in response.content.decode()
    assert not Article.objects.filter(title=case.subject).exists()
    check_reply(cast.agent, case, body="Internal: the customer is impatient.", internal=True)
    check_reply(cast.agent, case, body="Run `ledgerline reset-admin` after the upgrade.")
    case = check_transition_case(cast.agent, case, status="resolved", root_cause="how_to")
    assert "Write an article from this case" in _page(client, case)
    response = client.post(draft)
    article = Article.objects.get(title=case.subject)
    assert response.status_code == 302
    assert response.url == reverse("kb:article_edit", args=[article.pk])
    assert article.status == "draft" and article.visibility == "internal"
    assert article.author == cast.agent and article.product == kb.product
    assert "Nobody can sign in as admin" in article.body
    assert "How-to / usability" in article.body
    assert "ledgerline reset-admin" in article.body and "impatient" not in article.body
    assert article.revisions.count() == 1
    link = CaseArticle.objects.get(case=case, article=article)
    assert KbEvent.objects.get(type="article_linked", article=article).data["drafted"] is True
    assert link.linked_by == cast.agent
