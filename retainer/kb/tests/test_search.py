"""The one search function: query parsing and quoting, hostile input on both engines,
the index kept by the database, and a relevance sanity check."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from retainer.kb import actions
from retainer.kb.models import Article
from retainer.kb.search import QUERY_MAX_LENGTH, parse_query, search_articles
from retainer.lib.errors import InvalidInput
from retainer.lib.tests.hostile import PAYLOADS, active_content

FTS_SYNTAX = [
    "NEAR(",
    "NEAR(backup password, 2)",
    '"',
    '"unterminated',
    "-backup",
    "backup -password",
    "title:backup",
    "body: password",
    "*",
    "backup*",
    "^backup",
    "backup AND",
    "OR OR OR",
    "NOT password",
    "(backup",
    "backup)",
    "{title body}: backup",
    "'; DROP TABLE kb_article; --",
    "back\\up",
    "\x00backup",
    "%_%",
    ":*",
    "!!!",
    "backup & password | admin",
    "<->",
]


def _user_part(html: str) -> str:
    """The part of a help page built from articles and the query: the results section,
    or the article (the layout around it has its own forms, links and scripts)."""
    for start, end in (('<section aria-labelledby="results-heading">', "</section>"),
                       ('<article class="kb-article">', "</article>")):  # fmt: skip
        if start in html:
            return html[html.index(start) : html.index(end, html.index(start))]
    raise AssertionError("no user content on the page")


def test_stop_words_are_dropped_and_terms_are_or_ed_and_quoted():
    parsed = parse_query("How do I reset the admin password?")
    assert parsed.terms == ("reset", "admin", "password")
    assert parsed.fts5() == '"reset" OR "admin" OR "password"'
    assert parsed.tsquery() == "'reset' | 'admin' | 'password'"


def test_the_last_word_matches_as_a_prefix_while_typing():
    assert parse_query("reset passw").fts5() == '"reset" OR "passw"*'
    assert parse_query("reset passw ").fts5() == '"reset" OR "passw"'
    assert not parse_query("reset pa").prefix  # too short to be worth a prefix scan


def test_a_query_of_stop_words_only_still_searches_them():
    assert parse_query("how do I").terms == ("how", "do", "i")


def test_syntax_characters_never_reach_the_engine():
    parsed = parse_query('NEAR("x" -y column:z *^')
    assert parsed.terms == ("near", "x", "y", "column", "z")
    assert all(term.isalnum() for term in parsed.terms)


@pytest.mark.parametrize("query", FTS_SYNTAX)
def test_fts_syntax_in_a_query_never_raises(cast, kb, query):
    search_articles(cast.manager, query)
    search_articles(AnonymousUser(), query)


@pytest.mark.parametrize("query", FTS_SYNTAX)
def test_fts_syntax_in_the_api_answers_200(cast, kb, query):
    response = cast.client_for(cast.contact).get("/api/v1/kb/search/", {"q": query})
    # A NUL is refused by the field as a clear 400; everything else is searched.
    assert response.status_code == (400 if "\x00" in query else 200), response.content
    assert "code" in response.json() or "results" in response.json()


def test_hostile_payloads_as_queries_answer_200_and_stay_inert(cast, kb):
    client = cast.client_for(None)
    for payload in PAYLOADS:
        response = client.get("/help/", {"q": payload})
        assert response.status_code == 200, payload
        assert not active_content(_user_part(response.content.decode())), payload


def test_a_10_kb_query_is_a_clear_400_everywhere(cast, kb):
    query = "backup " * 1500
    assert len(query) > 10_000
    with pytest.raises(InvalidInput) as refused:
        search_articles(cast.manager, query)
    assert refused.value.code == "query_too_long"
    api = cast.client_for(cast.contact).get("/api/v1/kb/search/", {"q": query})
    assert api.status_code == 400 and api.json()["code"] == "invalid"
    assert "q" in api.json()["errors"]
    page = cast.client_for(None).get("/help/", {"q": query})
    assert page.status_code == 400
    assert "at most" in page.content.decode()
    console = cast.client_for(cast.agent).get("/console/kb/articles/", {"q": query})
    assert console.status_code == 400


def test_a_query_at_the_limit_is_searched(cast, kb):
    query = ("password " * 100)[:QUERY_MAX_LENGTH]
    assert [h.article for h in search_articles(AnonymousUser(), query)] == [kb.public]


def test_hostile_article_bodies_are_found_and_render_inert(cast, kb):
    for i, payload in enumerate(PAYLOADS):
        article = actions.do_create_article(
            values={
                "title": f"Hostile {i}",
                "body": f"zebrafish {payload}",
                "visibility": "public",
            },
            author=cast.manager,
        )
        actions.do_publish_article(article, actor=cast.manager)
    client = cast.client_for(None)
    results = client.get("/help/", {"q": "zebrafish"})
    assert results.status_code == 200
    assert not active_content(_user_part(results.content.decode()))
    api = cast.client_for(cast.contact).get("/api/v1/kb/search/?q=zebrafish&limit=50").json()
    assert len(api["results"]) == len(PAYLOADS)
    for article in Article.objects.filter(title__startswith="Hostile"):
        page = client.get(f"/help/{article.slug}/")
        assert page.status_code == 200
        assert not active_content(_user_part(page.content.decode())), article.body


def test_snippets_highlight_the_matched_words(cast, kb):
    (hit,) = search_articles(AnonymousUser(), "reset")
    assert any(lit and text.lower().startswith("reset") for text, lit in hit.snippet)
    page = cast.client_for(None).get("/help/", {"q": "reset"}).content.decode()
    assert "<mark>reset</mark>" in page


def test_the_index_follows_edits_made_any_way(cast, kb):
    actions.do_edit_article(kb.public, values={"body": "Now about quokkas."}, actor=cast.manager)
    assert [h.article for h in search_articles(AnonymousUser(), "quokkas")] == [kb.public]
    assert not search_articles(AnonymousUser(), "ledgerline")
    # A queryset update bypasses the model: the database keeps the index right anyway.
    Article.objects.filter(pk=kb.public.pk).update(body="Wombats only.")
    assert not search_articles(AnonymousUser(), "quokkas")
    assert [h.article for h in search_articles(AnonymousUser(), "wombats")] == [kb.public]


# Realistic questions → the article that answers them.
RELEVANCE = [
    ("I forgot the password of the admin account", "public"),
    ("how can we change our licence key?", "customers"),
    ("nightly backups run too long", "gold"),
    ("my admin pass", "public"),  # typing: prefix on the last word
]


def test_relevance_sanity_the_expected_article_ranks_first(cast, kb):
    for question, expected in RELEVANCE:
        hits = search_articles(cast.contact.user, question)
        assert hits and hits[0].article == kb.by_name[expected], (question, hits)
