"""Who reads which article, through every door: the help centre's pages and search,
the console, the API's list, detail, revisions and search. Anonymous visitors read
public articles; Acme's contact (gold contract) adds customer and gold articles; Globex's
outsider (no contract) only public and customer ones; staff read everything published,
internal included; nobody but staff sees drafts or archived articles."""

from __future__ import annotations

import pytest
from django.test import Client

ANON, OUTSIDER, CONTACT, AGENT, MANAGER = "anonymous", "outsider", "contact", "agent", "manager"
PUBLISHED = {"public", "customers", "gold", "platinum", "internal"}
READS = {
    ANON: {"public"},
    OUTSIDER: {"public", "customers"},
    CONTACT: {"public", "customers", "gold"},
    AGENT: PUBLISHED,
    MANAGER: PUBLISHED,
}
ALL_WORDS = "password licence backup failover runbook tool restore"


def client_for(cast, who: str) -> Client:
    users = {
        ANON: None,
        OUTSIDER: cast.outsider,
        CONTACT: cast.contact,
        AGENT: cast.agent,
        MANAGER: cast.manager,
    }
    return cast.client_for(users[who])


@pytest.mark.parametrize("who", list(READS))
def test_the_help_article_page_is_a_404_for_what_the_visitor_may_not_read(cast, kb, who):
    client = client_for(cast, who)
    for name, article in kb.by_name.items():
        response = client.get(f"/help/{article.slug}/")
        expected = 200 if name in READS[who] else 404
        assert response.status_code == expected, (who, name)


@pytest.mark.parametrize("who", list(READS))
def test_the_help_centre_lists_only_readable_articles(cast, kb, who):
    page = client_for(cast, who).get("/help/").content.decode()
    for name, article in kb.by_name.items():
        assert (article.title in page) == (name in READS[who]), (who, name)


@pytest.mark.parametrize("who", list(READS))
def test_help_search_finds_only_readable_articles_even_in_snippets(cast, kb, who):
    response = client_for(cast, who).get("/help/", {"q": ALL_WORDS})
    assert response.status_code == 200
    page = response.content.decode()
    for name, article in kb.by_name.items():
        assert (article.title in page) == (name in READS[who]), (who, name)
    if who not in (AGENT, MANAGER):
        assert "Internal workaround" not in page
        assert "Unfinished" not in page


@pytest.mark.parametrize("who", [OUTSIDER, CONTACT, AGENT, MANAGER])
def test_api_search_and_list_return_only_readable_articles(cast, kb, who):
    client = client_for(cast, who)
    found = client.get("/api/v1/kb/search/", {"q": ALL_WORDS, "limit": "50"}).json()["results"]
    titles = {hit["title"] for hit in found}
    assert titles == {kb.by_name[name].title for name in READS[who]}
    listed = {
        a["title"] for a in client.get("/api/v1/kb/articles/?page_size=200").json()["results"]
    }
    staff = who in (AGENT, MANAGER)
    expected = {a.title for a in kb.by_name.values()} if staff else titles
    assert listed == expected


@pytest.mark.parametrize("who", [OUTSIDER, CONTACT, AGENT])
def test_api_detail_is_a_404_for_what_the_user_may_not_read(cast, kb, who):
    client = client_for(cast, who)
    staff = who == AGENT
    for name, article in kb.by_name.items():
        response = client.get(f"/api/v1/kb/articles/{article.public_id}/")
        assert response.status_code == (200 if staff or name in READS[who] else 404), (who, name)
        if response.status_code == 200 and not staff:
            assert "author" not in response.json() and "status" not in response.json()


def test_revisions_are_for_staff_only(cast, kb):
    url = f"/api/v1/kb/articles/{kb.public.public_id}/revisions/"
    assert client_for(cast, CONTACT).get(url).status_code == 404
    assert client_for(cast, ANON).get(url).status_code == 403
    body = client_for(cast, AGENT).get(url).json()
    assert [r["number"] for r in body["results"]] == [1]


def test_the_api_is_for_signed_in_users(cast, kb):
    assert client_for(cast, ANON).get("/api/v1/kb/search/?q=password").status_code == 403


def test_customers_and_visitors_never_reach_the_console(cast, kb):
    for who in (ANON, OUTSIDER, CONTACT):
        response = client_for(cast, who).get("/console/kb/articles/")
        assert response.status_code in (302, 404)
        response = client_for(cast, who).get(f"/console/kb/articles/{kb.internal.pk}/")
        assert response.status_code in (302, 404)


def test_a_deactivated_contract_takes_the_plan_articles_away(cast, kb):
    from retainer.contracts import actions as contract_actions
    from retainer.contracts.models import Contract

    contract = Contract.objects.get(organization=cast.acme)
    contract_actions.do_cancel_contract(contract, reason="Ended", actor=cast.admin)
    assert client_for(cast, CONTACT).get(f"/help/{kb.gold.slug}/").status_code == 404
