"""Writing, publishing and archiving articles through the console and the API: who may,
what a refusal says, revisions and their diff, and that a refusal writes nothing."""

from __future__ import annotations

import pytest

from retainer.kb.models import Article, ArticleRevision, Category, KbEvent


def _counts() -> tuple[int, int, int]:
    return Article.objects.count(), ArticleRevision.objects.count(), KbEvent.objects.count()


def test_an_agent_writes_a_draft_with_its_first_revision(cast, kb):
    client = cast.client_for(cast.agent)
    response = client.post(
        "/console/kb/articles/new/",
        {"title": "Renew a TLS certificate", "body": "Run `renew`.", "visibility": "public",
         "tags": "TLS, certificates, tls"},
    )  # fmt: skip
    article = Article.objects.get(title="Renew a TLS certificate")
    assert response.status_code == 302
    assert article.slug == "renew-a-tls-certificate"
    assert article.status == "draft" and article.tags == "tls,certificates"
    assert article.revisions.count() == 1
    assert len(article.public_id) >= 22


def test_an_agent_may_not_publish_or_edit_a_published_article(cast, kb):
    client = cast.client_for(cast.agent)
    assert client.post(f"/console/kb/articles/{kb.draft.pk}/publish/").status_code == 403
    assert client.get(f"/console/kb/articles/{kb.public.pk}/edit/").status_code == 403
    assert client.get(f"/console/kb/articles/{kb.draft.pk}/edit/").status_code == 200
    api = client.post(f"/api/v1/kb/articles/{kb.draft.public_id}/publish/")
    assert api.status_code == 403 and api.json()["code"] == "permission_denied"
    kb.draft.refresh_from_db()
    assert kb.draft.status == "draft"


def test_billing_reads_the_console_but_writes_nothing(cast, kb):
    client = cast.client_for(cast.billing)
    assert client.get("/console/kb/articles/").status_code == 200
    assert client.get("/console/kb/articles/new/").status_code == 403


def test_a_manager_publishes_and_is_recorded_as_reviewer(cast, kb):
    response = cast.client_for(cast.manager).post(f"/console/kb/articles/{kb.draft.pk}/publish/")
    assert response.status_code == 302
    kb.draft.refresh_from_db()
    assert kb.draft.status == "published"
    assert kb.draft.reviewer == cast.manager and kb.draft.reviewed_at is not None
    assert cast.client_for(None).get(f"/help/{kb.draft.slug}/").status_code == 200


def test_publishing_without_a_body_is_refused_and_writes_nothing(cast, kb):
    client = cast.client_for(cast.manager)
    created = client.post(
        "/api/v1/kb/articles/", {"title": "Empty", "visibility": "public"},
        content_type="application/json",
    ).json()  # fmt: skip
    before = _counts()
    response = client.post(f"/api/v1/kb/articles/{created['id']}/publish/")
    assert response.status_code == 400
    assert response.json()["code"] == "article_incomplete"
    assert _counts() == before
    assert Article.objects.get(public_id=created["id"]).status == "draft"


def test_an_article_without_a_title_is_a_form_error(cast, kb):
    before = _counts()
    page = cast.client_for(cast.manager).post("/console/kb/articles/new/", {"body": "x"})
    assert page.status_code == 400
    assert "This field is required." in page.content.decode()
    api = cast.client_for(cast.manager).post(
        "/api/v1/kb/articles/", {"title": "   ", "body": "x"}, content_type="application/json"
    )
    assert api.status_code == 400
    assert _counts() == before


def test_an_unknown_product_is_a_400(cast, kb):
    before = _counts()
    response = cast.client_for(cast.manager).post(
        "/api/v1/kb/articles/", {"title": "X", "product": 999999}, content_type="application/json"
    )
    assert response.status_code == 400 and "product" in response.json()["errors"]
    assert _counts() == before


def test_a_release_range_ending_before_it_starts_is_refused(cast, kb):
    first, _, last = kb.releases
    before = _counts()
    client = cast.client_for(cast.manager)
    values = {"title": "Range", "product": kb.product.pk, "release_from": last.pk,
              "release_to": first.pk}  # fmt: skip
    api = client.post("/api/v1/kb/articles/", values, content_type="application/json")
    assert api.status_code == 400
    assert api.json()["errors"]["release_to"] == ["The release range cannot end before it starts."]
    page = client.post("/console/kb/articles/new/", {**values, "visibility": "public"})
    assert page.status_code == 400
    assert "The release range cannot end before it starts." in page.content.decode()
    assert _counts() == before


def test_a_release_of_another_product_is_refused(cast, kb):
    response = cast.client_for(cast.manager).post(
        "/api/v1/kb/articles/", {"title": "X", "release_from": kb.releases[0].pk},
        content_type="application/json",
    )  # fmt: skip
    assert response.status_code == 400 and "product" in response.json()["errors"]


def test_plans_visibility_needs_a_tier(cast, kb):
    response = cast.client_for(cast.manager).post(
        "/api/v1/kb/articles/", {"title": "X", "visibility": "plans"},
        content_type="application/json",
    )  # fmt: skip
    assert response.status_code == 400 and "plan_tiers" in response.json()["errors"]


def test_unknown_fields_are_refused(cast, kb):
    response = cast.client_for(cast.manager).post(
        "/api/v1/kb/articles/", {"title": "X", "status": "published"},
        content_type="application/json",
    )  # fmt: skip
    assert response.status_code == 400 and response.json()["code"] == "field_not_allowed"


def test_every_edit_keeps_a_revision_and_the_console_shows_the_diff(cast, kb):
    client = cast.client_for(cast.manager)
    url = f"/api/v1/kb/articles/{kb.public.public_id}/"
    response = client.patch(
        url, {"body": "Stop the service.\n<script>alert(1)</script>"},
        content_type="application/json",
    )  # fmt: skip
    assert response.status_code == 200
    kb.public.refresh_from_db()
    assert kb.public.slug == "reset-a-forgotten-admin-password"  # kept on edit
    assert list(kb.public.revisions.values_list("number", flat=True)) == [2, 1]
    diff = client.get(f"/console/kb/articles/{kb.public.pk}/diff/?from=1&to=2")
    html = diff.content.decode()
    assert diff.status_code == 200
    assert "<del>- Stop the service, run `ledgerline reset-admin`" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert" not in html
    assert client.get(f"/console/kb/articles/{kb.public.pk}/diff/?from=9").status_code == 404


def test_a_revision_is_never_changed(cast, kb):
    from django.db import IntegrityError, transaction

    from retainer.kb.models import AppendOnlyError

    revision = kb.public.revisions.get()
    with pytest.raises(AppendOnlyError):
        revision.save()
    with pytest.raises(IntegrityError), transaction.atomic():
        ArticleRevision.objects.filter(pk=revision.pk).update(body="rewritten")


def test_archiving_hides_the_article_and_a_second_archive_is_a_conflict(cast, kb):
    client = cast.client_for(cast.manager)
    response = client.post(f"/api/v1/kb/articles/{kb.public.public_id}/archive/")
    assert response.status_code == 200 and response.json()["status"] == "archived"
    assert cast.client_for(None).get(f"/help/{kb.public.slug}/").status_code == 404
    again = client.post(f"/api/v1/kb/articles/{kb.public.public_id}/archive/")
    assert again.status_code == 409 and again.json()["code"] == "transition_not_allowed"


def test_managers_manage_categories_agents_do_not(cast, kb):
    assert (
        cast.client_for(cast.agent)
        .post("/console/kb/categories/", {"name": "How-to", "position": 1})
        .status_code
        == 403
    )
    response = cast.client_for(cast.manager).post(
        "/console/kb/categories/", {"name": "How-to", "position": 1}
    )
    assert response.status_code == 302
    assert Category.objects.filter(name="How-to").exists()
    duplicate = cast.client_for(cast.manager).post(
        "/console/kb/categories/", {"name": "How-to", "position": 2}
    )
    assert duplicate.status_code == 400


def test_the_console_list_filters_and_searches(cast, kb, django_assert_max_num_queries):
    client = cast.client_for(cast.agent)
    with django_assert_max_num_queries(12):
        page = client.get("/console/kb/articles/", {"status": "draft"}).content.decode()
    assert kb.draft.title in page and kb.public.title not in page
    page = client.get("/console/kb/articles/", {"q": "backup restore"}).content.decode()
    assert kb.draft.title in page and "<mark>" in page
    page = client.get("/console/kb/articles/", {"q": "backup", "visibility": "internal"})
    assert kb.internal.title in page.content.decode()
    assert kb.gold.title not in page.content.decode()


def test_the_help_article_renders_markdown_safely(cast, kb):
    page = cast.client_for(None).get(f"/help/{kb.public.slug}/").content.decode()
    assert "<code>ledgerline reset-admin</code>" in page


def test_the_scope_of_support_page_links_to_the_help_centre(cast, kb):
    page = cast.client_for(None).get("/scope-of-support/").content.decode()
    assert 'href="/help/"' in page
