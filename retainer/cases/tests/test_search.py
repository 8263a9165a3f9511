"""Case search (``cases.search.search_cases``) and its doors: ranking over subject,
description, replies, notes and organization name; prefix as people type; access before
ranking (another organization's case, internal notes: neither rows, snippets nor counts);
hostile queries; the index following edits and deletes."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from retainer.accounts import actions as account_actions
from retainer.cases import actions
from retainer.cases.models import Case, CaseMessage
from retainer.cases.search import IN_CASE, IN_NOTE, IN_REPLY, search_cases
from retainer.lib.errors import InvalidInput
from retainer.lib.fulltext import QUERY_MAX_LENGTH
from retainer.lib.tests.hostile import PAYLOADS, active_content

pytestmark = pytest.mark.django_db

FTS_SYNTAX = [
    "NEAR(",
    "NEAR(ledger posting, 2)",
    '"',
    '"unterminated',
    "-posting",
    "posting -ledger",
    "subject:posting",
    "body: posting",
    "*",
    "posting*",
    "^posting",
    "posting AND",
    "OR OR OR",
    "NOT posting",
    "(posting",
    "posting)",
    "{subject description}: posting",
    "'; DROP TABLE cases_case; --",
    "\x00posting",
    "%_%",
    ":*",
    "posting & ledger | admin",
    "<->",
    "RT-",
    "RT-99999999999999",
]


def _open(cast: Any, desk: Any, contact: Any, subject: str, description: str) -> Case:
    return actions.check_open_case(
        contact=contact, product=desk.product, subject=subject, description=description,
        channel="web", actor=contact.user,
    )  # fmt: skip


def _ids(hits: list[Any]) -> list[int]:
    return [hit.case.pk for hit in hits]


def _text(hit: Any) -> str:
    return "".join(text for text, _ in hit.snippet)


@pytest.fixture
def cases(cast, desk, incident_bank) -> dict[str, Case]:
    """Acme: a posting case with a reply and an internal note, an invoice case opened by
    the customer admin. Globex: a posting case."""
    posting = _open(cast, desk, cast.contact, "Nightly posting fails", "Error 42 at night.")
    actions.check_reply(cast.agent, posting, body="Restart the reconciliation daemon.")
    actions.check_reply(
        cast.agent, posting, body="Customer runs a patched kernel: quarantine", internal=True
    )
    invoice = _open(cast, desk, cast.customer_admin, "Invoice export", "The PDF shows zeros.")
    globex = _open(cast, desk, cast.outsider, "Posting stalls at Globex", "Nightly posting.")
    return {"posting": posting, "invoice": invoice, "globex": globex}


# --- Ranking ---------------------------------------------------------------------------------


def test_an_agent_finds_cases_by_subject_description_reply_note_and_organization(cast, cases):
    posting, invoice, globex = cases["posting"], cases["invoice"], cases["globex"]
    assert set(_ids(search_cases(cast.agent, "posting"))) == {posting.pk, globex.pk}
    assert _ids(search_cases(cast.agent, "zeros")) == [invoice.pk]
    [reply] = search_cases(cast.agent, "reconciliation daemon")
    assert (reply.case, reply.matched_in) == (posting, IN_REPLY)
    assert "reconciliation" in _text(reply)
    [note] = search_cases(cast.agent, "quarantine")
    assert (note.case, note.matched_in) == (posting, IN_NOTE)
    assert set(_ids(search_cases(cast.agent, "globex"))) == {globex.pk}
    assert set(_ids(search_cases(cast.agent, "acme"))) == {posting.pk, invoice.pk}


def test_more_matching_words_rank_higher_and_snippets_highlight_them(cast, cases):
    hits = search_cases(cast.agent, "invoice pdf zeros posting")
    assert hits[0].case == cases["invoice"]
    assert hits[0].matched_in == IN_CASE
    assert any(lit and text.lower() == "zeros" for text, lit in hits[0].snippet)
    assert all(a.score >= b.score for a, b in itertools.pairwise(hits))


def test_the_last_word_matches_as_a_prefix_while_typing(cast, cases):
    assert _ids(search_cases(cast.agent, "reconcil")) == [cases["posting"].pk]
    assert search_cases(cast.agent, "reconcil ") == []  # a finished word is a word


def test_a_reference_finds_its_case_first(cast, cases):
    invoice = cases["invoice"]
    for query in (invoice.reference, invoice.reference.lower(), invoice.reference[3:]):
        hits = search_cases(cast.agent, query)
        assert hits[0].case == invoice, query
    assert search_cases(cast.outsider.user, invoice.reference) == []


def test_filters_narrow_the_candidates_and_never_widen_them(cast, cases):
    acme_only = Case.objects.filter(organization=cast.acme)
    assert _ids(search_cases(cast.agent, "posting", filters=acme_only)) == [cases["posting"].pk]
    everything = Case.objects.all()
    assert _ids(search_cases(cast.outsider.user, "posting", filters=everything)) == [
        cases["globex"].pk
    ]


# --- Access before ranking -------------------------------------------------------------------


def test_a_customer_never_gets_another_organizations_case(cast, cases):
    for who in (cast.customer_admin, cast.contact):
        assert cases["globex"].pk not in _ids(search_cases(who.user, "posting globex"))
    assert _ids(search_cases(cast.outsider.user, "posting acme")) == [cases["globex"].pk]


def test_a_customer_never_matches_through_an_internal_note(cast, cases):
    for who in (cast.customer_admin, cast.contact):
        assert search_cases(who.user, "quarantine kernel") == []
        hits = search_cases(who.user, "posting quarantine kernel")
        assert _ids(hits) == [cases["posting"].pk]
        assert all("quarantine" not in _text(h) and "kernel" not in _text(h) for h in hits)
        assert all(h.matched_in != IN_NOTE for h in hits)


def test_a_note_does_not_change_a_customers_score(cast, desk, cases):
    """The score a customer sees is the same with and without the note: no count or
    ranking side channel."""
    before = search_cases(cast.contact.user, "posting patched")
    actions.check_reply(cast.agent, cases["posting"], body="patched patched patched", internal=True)
    after = search_cases(cast.contact.user, "posting patched")
    assert [(h.case.pk, h.score) for h in before] == [(h.case.pk, h.score) for h in after]


def test_a_contact_who_sees_only_own_cases_does_not_find_colleagues_cases(cast, cases):
    account_actions.do_update_organization(
        cast.acme, actor=cast.admin, share_cases_with_colleagues=False
    )
    assert _ids(search_cases(cast.contact.user, "invoice")) == []
    assert _ids(search_cases(cast.customer_admin.user, "invoice")) == [cases["invoice"].pk]


def test_anonymous_finds_nothing(cases):
    from django.contrib.auth.models import AnonymousUser

    assert search_cases(AnonymousUser(), "posting") == []


# --- Hostile input ---------------------------------------------------------------------------


@pytest.mark.parametrize("query", FTS_SYNTAX + list(PAYLOADS))
def test_hostile_queries_never_raise(cast, cases, query):
    for user in (cast.agent, cast.contact.user):
        search_cases(user, query[:QUERY_MAX_LENGTH])


def test_a_query_over_the_limit_is_refused(cast, cases):
    with pytest.raises(InvalidInput) as refused:
        search_cases(cast.agent, "x" * 10_000)
    assert refused.value.code == "query_too_long"


# --- The index follows the data --------------------------------------------------------------


def test_the_index_follows_edits_renames_and_deletes(cast, cases):
    posting = cases["posting"]
    actions.do_update_case(posting, actor=cast.agent, subject="Batch journal stalls")
    assert search_cases(cast.agent, "journal")[0].case == posting
    assert posting.pk not in _ids(search_cases(cast.agent, "fails"))
    account_actions.do_update_organization(cast.globex, actor=cast.admin, name="Initech")
    assert _ids(search_cases(cast.agent, "initech")) == [cases["globex"].pk]
    assert search_cases(cast.agent, "globex posting")[0].case == cases["globex"]  # its text
    note = CaseMessage.objects.get(case=posting, is_internal=True)
    CaseMessage.objects.filter(pk=note.pk).delete()
    assert search_cases(cast.agent, "quarantine") == []
    CaseMessage.objects.filter(case=posting).update(body="Rotate the signing key.")
    assert _ids(search_cases(cast.agent, "signing")) == [posting.pk]
    assert search_cases(cast.agent, "reconciliation") == []


# --- The doors: console top bar, queue, portal, API -------------------------------------------


def test_the_console_top_bar_shows_ranked_cases_with_snippets_and_notes(cast, cases):
    page = cast.client_for(cast.agent).get("/console/search/", {"q": "quarantine"})
    html = page.content.decode()
    assert page.status_code == 200
    assert cases["posting"].reference in html
    assert "In an internal note" in html and "<mark>quarantine</mark>" in html


def test_the_queue_search_keeps_the_other_filters(cast, desk, cases):
    client = cast.client_for(cast.agent)
    everything = client.get("/console/cases/", {"view": "active", "q": "posting"}).content.decode()
    assert cases["posting"].reference in everything and cases["globex"].reference in everything
    acme = client.get(
        "/console/cases/", {"view": "active", "q": "posting", "organization": cast.acme.pk}
    ).content.decode()
    assert cases["posting"].reference in acme and cases["globex"].reference not in acme
    by_note = client.get("/console/cases/", {"view": "active", "q": "quarantine"}).content.decode()
    assert cases["posting"].reference in by_note
    too_long = client.get("/console/cases/", {"view": "active", "q": "x" * 10_000})
    assert too_long.status_code == 200 and "at most" in too_long.content.decode()


def test_the_portal_search_box_finds_own_cases_never_notes_or_other_organizations(cast, cases):
    client = cast.client_for(cast.customer_admin)
    page = client.get("/portal/cases/").content.decode()
    assert 'name="q"' in page
    html = client.get("/portal/cases/", {"q": "posting"}).content.decode()
    assert cases["posting"].reference in html
    assert cases["globex"].reference not in html and "Globex" not in html
    assert "No case matches" in client.get("/portal/cases/", {"q": "quarantine"}).content.decode()
    reply = client.get("/portal/cases/", {"q": "reconciliation"}).content.decode()
    assert "In a reply" in reply and "<mark>reconciliation</mark>" in reply
    fragment = client.get("/portal/cases/", {"q": "zeros"}, headers={"HX-Request": "true"})
    assert cases["invoice"].reference in fragment.content.decode()
    assert "<html" not in fragment.content.decode()


def test_the_portal_refuses_a_10_kb_query_with_a_form_error(cast, cases):
    response = cast.client_for(cast.contact).get("/portal/cases/", {"q": "x" * 10_000})
    assert response.status_code == 400
    assert "at most" in response.content.decode()


@pytest.mark.parametrize("query", [*FTS_SYNTAX[:8], PAYLOADS[0], PAYLOADS[2]])
def test_hostile_queries_are_inert_on_the_pages(cast, cases, query):
    for who, url in ((cast.agent, "/console/search/"), (cast.contact, "/portal/cases/")):
        response = cast.client_for(who).get(url, {"q": query})
        assert response.status_code == 200
        assert "<script>alert" not in response.content.decode()


def test_hostile_case_text_is_inert_in_snippets(cast, desk, incident_bank):
    opened = [
        _open(cast, desk, cast.contact, f"Hostile {payload}", f"needle {payload}")
        for payload in PAYLOADS[:6]
    ]
    plain = cast.client_for(cast.contact).get("/portal/cases/", {"q": "zzzz"}).content.decode()
    page = cast.client_for(cast.contact).get("/portal/cases/", {"q": "needle"}).content.decode()
    assert all(case.reference in page for case in opened)
    # PostgreSQL's ts_headline reads markup as tags and may leave a fragment unmarked.
    assert page.count("<mark>needle</mark>") >= 5
    assert sorted(set(active_content(page))) == sorted(set(active_content(plain)))


def test_the_api_search_ranks_snippets_and_scopes_by_caller(cast, cases):
    agent = cast.client_for(cast.agent).get("/api/v1/search/cases/", {"q": "quarantine"})
    assert agent.status_code == 200
    [hit] = agent.json()["results"]
    assert hit["id"] == cases["posting"].public_id and hit["matched_in"] == "note"
    assert {"text": "quarantine", "highlighted": True} in hit["snippet"]
    customer = cast.client_for(cast.customer_admin)
    assert customer.get("/api/v1/search/cases/", {"q": "quarantine"}).json()["results"] == []
    posting = customer.get("/api/v1/search/cases/", {"q": "posting", "limit": 50}).json()
    assert [r["id"] for r in posting["results"]] == [cases["posting"].public_id]
    by_reference = customer.get("/api/v1/search/cases/", {"q": cases["posting"].reference})
    [found] = by_reference.json()["results"]
    assert (found["id"], found["matched_in"]) == (cases["posting"].public_id, "reference")


def test_the_api_answers_hostile_and_oversized_queries_without_a_500(cast, cases):
    client = cast.client_for(cast.contact)
    for query in FTS_SYNTAX:
        response = client.get("/api/v1/search/cases/", {"q": query})
        # A NUL character is refused by the input serializer: a clear 400, never a 500.
        assert response.status_code == (400 if "\x00" in query else 200), query
        assert "code" in response.json() or "results" in response.json()
    too_long = client.get("/api/v1/search/cases/", {"q": "x" * 10_000})
    assert too_long.status_code == 400
    assert too_long.json()["code"] in {"invalid", "query_too_long", "validation_error"}
    listed = client.get("/api/v1/cases/", {"q": "x" * 10_000})
    assert listed.status_code == 400


def test_the_api_list_q_filter_uses_case_search(cast, cases):
    listed = cast.client_for(cast.agent).get("/api/v1/cases/", {"q": "reconciliation"}).json()
    assert [r["id"] for r in listed["results"]] == [cases["posting"].public_id]
    customer = cast.client_for(cast.contact).get("/api/v1/cases/", {"q": "quarantine"}).json()
    assert customer["results"] == []
