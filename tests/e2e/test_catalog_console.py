"""The catalog in the console, in a real browser: a manager creates a product, is told
beside the field why a release is refused, adds it, publishes the scope of support and
finds it on the public page; an agent reads the catalog but has no way to change it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from conftest import PASSWORD
from retainer.catalog import actions
from retainer.catalog.models import Release, ScopePolicy

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_manager_creates_a_product_with_a_release_and_publishes_its_scope(
    cast, page: Any, live_server, login
):
    today = timezone.localdate()
    login("manager@vendor.test", PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Catalog").click()
    page.get_by_role("link", name="New product").click()
    page.get_by_label("Name").fill("Atlas Gateway")
    page.get_by_label("Code").fill("atlas")
    page.get_by_label("List price").fill("30000")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Atlas Gateway")
    expect(page.get_by_text("Product created.")).to_be_visible()

    page.get_by_role("link", name="New release").click()
    form = page.locator("form.catalog-form")
    form.get_by_label("Version").fill("1.0")
    form.get_by_label("GA date").fill(today.isoformat())
    form.get_by_label("End-of-support date").fill((today - dt.timedelta(days=1)).isoformat())
    form.get_by_role("button", name="Save").click()
    expect(form.get_by_text("End of support cannot be before the GA date.")).to_be_visible()
    assert not Release.objects.exists()

    form.get_by_label("End-of-support date").fill((today + dt.timedelta(days=730)).isoformat())
    form.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Release added.")).to_be_visible()
    expect(page.locator("table.list").first).to_contain_text("supported")

    page.get_by_role("link", name="Publish a scope of support").click()
    page.get_by_label("Previous releases supported").fill("1")
    page.get_by_label("Third-party integrations are supported").check()
    page.get_by_label("Notes").fill("Support covers the two newest releases.")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Scope of support saved and published.")).to_be_visible()
    assert ScopePolicy.objects.get(product__code="atlas").supported_previous_releases == 1

    page.goto(f"{live_server.url}/scope-of-support/")
    section = page.get_by_role("region", name="Atlas Gateway")
    expect(section).to_contain_text("The current release and the 1 previous release")
    expect(section).to_contain_text("Support covers the two newest releases.")


def test_an_agent_reads_the_catalog_but_cannot_change_it(cast, page: Any, live_server, login):
    product = actions.do_save_product(None, actor=cast.admin, name="Ledgerline", code="ledgerline")
    login("agent@vendor.test", PASSWORD)
    page.goto(f"{live_server.url}/console/catalog/products/")
    page.get_by_role("link", name="Ledgerline").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Ledgerline")
    expect(page.get_by_role("link", name="Edit product")).to_have_count(0)
    expect(page.get_by_role("link", name="New release")).to_have_count(0)
    page.get_by_role("link", name="Service offerings").click()
    expect(page.get_by_role("link", name="New service offering")).to_have_count(0)

    response = page.goto(f"{live_server.url}/console/catalog/products/{product.pk}/edit/")
    assert response is not None and response.status == 403
