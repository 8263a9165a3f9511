"""The knowledge base's test world, built through real actions: a product with three
releases, a gold contract for Acme (Globex has none), a category, and one article per
visibility, plus a draft and an archived article."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.utils import timezone

from retainer.catalog import actions as catalog_actions
from retainer.catalog.models import Product, Release
from retainer.contracts import actions as contract_actions
from retainer.contracts.choices import Preset
from retainer.kb import actions
from retainer.kb.models import Article, Category


@dataclass
class KbWorld:
    product: Product
    releases: list[Release]
    category: Category
    public: Article
    customers: Article
    gold: Article
    platinum: Article
    internal: Article
    draft: Article
    archived: Article

    @property
    def by_name(self) -> dict[str, Article]:
        names = ("public", "customers", "gold", "platinum", "internal", "draft", "archived")
        return {name: getattr(self, name) for name in names}


def write(author, *, title: str, body: str, visibility: str, publish: bool = True, **more):
    article = actions.do_create_article(
        values={"title": title, "body": body, "visibility": visibility, **more}, author=author
    )
    if publish:
        article = actions.do_publish_article(article, actor=author)
    return article


@pytest.fixture
def kb(cast) -> KbWorld:
    product = catalog_actions.do_save_product(
        None, actor=cast.admin, name="Ledgerline", code="ledgerline", list_price=Decimal(100),
        currency="EUR",
    )  # fmt: skip
    releases = [
        catalog_actions.do_save_release(
            None,
            actor=cast.admin,
            product=product,
            version=v,
            order=i + 1,
            ga_date=dt.date(2024, 1 + i, 1),
        )
        for i, v in enumerate(["4.0", "4.1", "5.0"])
    ]
    contract_actions.do_create_contract(
        organization=cast.acme, preset=Preset.BANK, start_date=timezone.localdate() - dt.timedelta(days=30),
        covered_products=[product], terms={"tier": "gold"}, actor=cast.admin,
    )  # fmt: skip
    category = actions.do_save_category(None, values={"name": "Troubleshooting"}, actor=cast.admin)
    m = cast.manager
    return KbWorld(
        product=product,
        releases=releases,
        category=category,
        public=write(
            m, title="Reset a forgotten admin password",
            body="Stop the service, run `ledgerline reset-admin`, then start it again.",
            visibility="public", category=category, product=product, tags="password,admin",
        ),
        customers=write(
            m, title="Rotate the licence key",
            body="Customers rotate their licence key from the licence screen.",
            visibility="customers",
        ),
        gold=write(
            m, title="Tune the nightly backup window",
            body="Gold plans get the backup tuning guide: raise the snapshot interval.",
            visibility="plans", plan_tiers=",gold,platinum,",
        ),
        platinum=write(
            m, title="Direct database failover runbook",
            body="Platinum runbook for failover between database replicas.",
            visibility="plans", plan_tiers=",platinum,",
        ),
        internal=write(
            m, title="Known issue: backup corrupts index (internal)",
            body="Internal workaround for the backup index corruption.", visibility="internal",
        ),
        draft=write(
            m, title="Draft about backup restore", body="Unfinished backup restore notes.",
            visibility="public", publish=False,
        ),
        archived=actions.do_archive_article(
            write(m, title="Old backup tool", body="The old backup tool.", visibility="public"),
            actor=m,
        ),
    )  # fmt: skip
