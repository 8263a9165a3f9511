"""The knowledge base in a real browser: a manager writes and publishes an article, an
anonymous visitor finds it in the help centre's search; an internal article is a 404 for
the visitor; an agent may not publish."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from conftest import PASSWORD
from retainer.kb import actions
from retainer.kb.models import Article

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_manager_publishes_an_article_that_a_visitor_finds(cast, page: Any, live_server, login):
    login("manager@vendor.test", PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Knowledge base").click()
    page.get_by_role("link", name="New article").click()
    page.get_by_role("button", name="Save the draft").click()
    expect(page.get_by_text("This field is required.").first).to_be_visible()
    page.get_by_label("Title").fill("Recover a locked vault")
    page.get_by_label("Body").fill("Unlock the vault with `vault unlock --force`.")
    page.get_by_label("Visibility").select_option("public")
    page.get_by_role("button", name="Save the draft").click()
    expect(page.get_by_text("Draft saved.")).to_be_visible()
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_text("Published.")).to_be_visible()
    assert Article.objects.get(title="Recover a locked vault").reviewer == cast.manager

    page.get_by_role("button", name="Sign out").click()
    page.goto(f"{live_server.url}/help/")
    page.get_by_label("Search the help centre").fill("vault locked")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="Recover a locked vault").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Recover a locked vault")
    expect(page.locator("code")).to_have_text("vault unlock --force")


def test_an_internal_article_is_a_404_for_a_visitor(cast, page: Any, live_server):
    article = actions.do_publish_article(
        actions.do_create_article(
            values={
                "title": "Internal escalation",
                "body": "Page on-call.",
                "visibility": "internal",
            },
            author=cast.manager,
        ),
        actor=cast.manager,
    )
    response = page.goto(f"{live_server.url}/help/{article.slug}/")
    assert response is not None and response.status == 404
    page.goto(f"{live_server.url}/help/?q=escalation")
    expect(page.get_by_text("No article matches.")).to_be_visible()


def test_an_agent_writes_a_draft_but_cannot_publish(cast, page: Any, live_server, login):
    login("agent@vendor.test", PASSWORD)
    page.goto(f"{live_server.url}/console/kb/articles/new/")
    page.get_by_label("Title").fill("Agent draft")
    page.get_by_role("button", name="Save the draft").click()
    expect(page.get_by_text("Draft saved.")).to_be_visible()
    expect(page.get_by_role("button", name="Publish")).to_have_count(0)
