"""Macros: known placeholders only, personal and shared, and the case page's picker."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from retainer.automation import actions, checks, placeholders
from retainer.automation.models import Macro
from retainer.cases import actions as case_actions
from retainer.catalog import actions as catalog_actions
from retainer.contracts import actions as contract_actions
from retainer.contracts.choices import Preset
from retainer.kb import actions as kb_actions
from retainer.lib.tests.hostile import PAYLOADS, active_content


@pytest.fixture
def case(cast) -> Any:
    product = catalog_actions.do_save_product(
        None, actor=cast.admin, name="Ledger", code="ledger", list_price=Decimal(100),
        currency="EUR",
    )  # fmt: skip
    catalog_actions.do_save_scope_policy(None, actor=cast.admin, product=product)
    contract_actions.do_create_contract(
        organization=cast.acme,
        preset=Preset.BANK,
        start_date=timezone.localdate() - dt.timedelta(days=10),
        covered_products=[product],
        actor=cast.admin,
    )
    plan = case_actions.plan_intake(
        contact=cast.contact, product=product, subject="Help", description="Please",
        channel="web", actor=cast.contact.user,
    )  # fmt: skip
    return case_actions.do_open_case(plan=plan, actor=cast.contact.user)


def shared(cast, name: str, body: str) -> Macro:
    return actions.do_save_macro(
        None, values={"name": name, "body": body}, owner=None, actor=cast.manager
    )


def test_known_placeholders_are_replaced_and_nothing_else_is_interpreted():
    body = "Hi {{ contact.name }}, {{case.reference}}: {% debug %} {{ contact.name|upper }}"
    values = {"contact.name": "Ada", "case.reference": "C-1"}
    assert placeholders.render(body, values, lambda slug: f"/help/{slug}/") == (
        "Hi Ada, C-1: {% debug %} {{ contact.name|upper }}"
    )
    assert placeholders.unknown_placeholders(body) == ["contact.name|upper"]


def test_an_unknown_placeholder_is_a_form_error_and_nothing_is_saved(cast):
    client = cast.client_for(cast.agent)
    response = client.post(
        reverse("automation:macro_new"),
        {"name": "Leak", "body": "Key: {{ settings.SECRET_KEY }} {{ case.contact.user.password }}"},
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert (
        "Unknown placeholders: {{ settings.SECRET_KEY }}, {{ case.contact.user.password }}" in text
    )
    assert not Macro.objects.exists()


def test_an_article_link_must_name_an_existing_article(cast):
    client = cast.client_for(cast.agent)
    response = client.post(
        reverse("automation:macro_new"), {"name": "Link", "body": "See {{ article:no-such }}"}
    )
    assert response.status_code == 400 and "no-such" in response.content.decode()
    assert not Macro.objects.exists()


def test_an_agent_saves_personal_macros_but_not_shared_ones(cast):
    client = cast.client_for(cast.agent)
    response = client.post(
        reverse("automation:macro_new"), {"name": "Mine", "body": "Hello {{ contact.name }}"}
    )
    assert response.status_code == 302
    mine = Macro.objects.get()
    assert mine.owner == cast.agent and not mine.shared
    refused = client.post(
        reverse("automation:macro_new"), {"name": "Ours", "body": "Hi", "shared": "on"}
    )
    assert refused.status_code == 403
    assert Macro.objects.count() == 1


def test_a_manager_saves_shared_macros_and_nobody_edits_another_agents_own(cast):
    client = cast.client_for(cast.manager)
    response = client.post(
        reverse("automation:macro_new"), {"name": "Ours", "body": "Hi", "shared": "on"}
    )
    assert response.status_code == 302 and Macro.objects.get().shared
    personal = actions.do_save_macro(
        None, values={"name": "Ann's", "body": "x"}, owner=cast.agent, actor=cast.agent
    )
    assert client.get(reverse("automation:macro_edit", args=[personal.pk])).status_code == 404
    agent = cast.client_for(cast.agent)
    shared_one = Macro.objects.get(name="Ours")
    assert agent.get(reverse("automation:macro_edit", args=[shared_one.pk])).status_code == 403
    assert (
        agent.post(
            reverse("automation:macro_edit", args=[personal.pk]), {"name": "Ann's", "body": "y"}
        ).status_code
        == 302
    )
    personal.refresh_from_db()
    assert personal.body == "y"


def test_the_case_page_offers_the_macros_and_fills_the_reply_box(cast, case):
    article = kb_actions.do_publish_article(
        kb_actions.do_create_article(
            values={"title": "Reset a password", "body": "Steps.", "visibility": "public"},
            author=cast.admin,
        ),
        actor=cast.admin,
    )
    macro = shared(
        cast,
        "Welcome",
        "Hello {{ contact.name }}, about {{ case.reference }}: {{ decision }} "
        "Balance: {{ balance }}. See {{ article:" + article.slug + " }}",
    )
    actions.do_save_macro(None, values={"name": "Other's", "body": "x"}, owner=cast.manager,
                          actor=cast.manager)  # fmt: skip
    client = cast.client_for(cast.agent)
    page = client.get(reverse("console:case_page", args=[case.public_id])).content.decode()
    assert 'id="macro-select"' in page and "Welcome" in page and "Other&#x27;s" not in page
    assert "automation/macros.js" in page
    url = reverse("automation:macro_apply", args=[case.public_id])
    fragment = client.get(url, {"macro": macro.pk}, HTTP_HX_REQUEST="true")
    text = fragment.content.decode()
    assert fragment.status_code == 200 and text.startswith("<textarea")
    assert 'name="body"' in text
    assert f"Hello {cast.contact.full_name}, about {case.reference}: " in text
    assert case.decision.sentence.replace("'", "&#x27;") in text
    assert f"/help/{article.slug}/" in text
    assert "{{" not in text
    # Not a macro the agent may see: someone else's personal one.
    other = Macro.objects.get(name="Other's")
    assert client.get(url, {"macro": other.pk}, HTTP_HX_REQUEST="true").status_code == 404
    assert client.get(url, {"macro": "x"}).status_code == 400


def test_billing_clerks_have_no_macros(cast, case):
    client = cast.client_for(cast.billing)
    page = client.get(reverse("console:case_page", args=[case.public_id])).content.decode()
    assert "macro-select" not in page
    assert client.get(reverse("automation:macro_list")).status_code == 403


def test_hostile_macro_names_and_bodies_stay_inert(cast, case):
    """Pages with hostile macros have no more active content than with a harmless one."""
    harmless = shared(cast, "Harmless", "Hello {{ contact.name }}")
    client = cast.client_for(cast.agent)
    urls = (
        reverse("automation:macro_list"),
        reverse("console:case_page", args=[case.public_id]),
    )
    baseline = {url: Counter(active_content(client.get(url).content.decode())) for url in urls}
    for n, payload in enumerate(PAYLOADS):
        try:
            checks.check_save_macro(
                cast.manager, None, shared=True, name=f"{n} {payload}"[:80],
                body=f"Hello {{{{ contact.name }}}} {payload}",
            )  # fmt: skip
        except ValidationError:
            continue  # a payload that looks like a placeholder: refused, never rendered
    assert Macro.objects.count() > len(PAYLOADS) // 2
    for url in urls:
        assert Counter(active_content(client.get(url).content.decode())) == baseline[url], url
    apply = reverse("automation:macro_apply", args=[case.public_id])
    plain = client.get(apply, {"macro": harmless.pk}, HTTP_HX_REQUEST="true").content.decode()
    for macro in Macro.objects.exclude(pk=harmless.pk):
        fragment = client.get(apply, {"macro": macro.pk}, HTTP_HX_REQUEST="true")
        assert active_content(fragment.content.decode()) == active_content(plain)
