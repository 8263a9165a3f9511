"""The knowledge base's demo step: realistic articles across the products, every
visibility, a few drafts, and the help centre showing them."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from retainer.kb.models import Article


@pytest.mark.django_db
def test_the_demo_writes_articles_of_every_visibility_with_drafts(client):
    call_command("build_demo", stdout=None)
    assert 60 <= Article.objects.count() <= 200
    assert set(Article.objects.values_list("visibility", flat=True)) == {
        "public", "customers", "plans", "internal",
    }  # fmt: skip
    assert Article.objects.filter(status="draft").exists()
    assert all(a.revisions.exists() for a in Article.objects.all()[:10])
    page = client.get("/help/", {"q": "forgot admin password"})
    assert page.status_code == 200 and "Reset a forgotten admin password" in page.content.decode()
