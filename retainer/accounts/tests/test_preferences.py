"""A staff member turns the console's keyboard shortcuts off or remaps them (WCAG 2.1.4);
the layout hands the choice to console.js in a meta element."""

from __future__ import annotations

import html
import json
import re
from typing import Any

from retainer.accounts import checks
from retainer.accounts.choices import AccountEventType
from retainer.accounts.models import AccountEvent
from retainer.accounts.shortcuts import DEFAULT_KEYS, effective_keys, shortcut_key_errors
from retainer.lib.errors import NotPermitted

URL = "/account/preferences/"


def form_data(enabled: bool = True, **keys: str) -> dict[str, Any]:
    data: dict[str, Any] = {f"key_{a}": keys.get(a, k) for a, k in DEFAULT_KEYS.items()}
    if enabled:
        data["shortcuts_enabled"] = "on"
    return data


def meta_settings(body: str) -> dict[str, Any]:
    match = re.search(r'<meta name="retainer-shortcuts" content="([^"]*)">', body)
    assert match, "no retainer-shortcuts meta element"
    return json.loads(html.unescape(match.group(1)))


def test_staff_get_the_default_shortcuts_in_the_layout(cast):
    body = cast.client_for(cast.agent).get("/console/").content.decode()
    assert meta_settings(body) == {"enabled": True, "keys": DEFAULT_KEYS}


def test_customers_get_no_shortcuts(cast):
    body = cast.client_for(cast.contact).get("/portal/").content.decode()
    assert "retainer-shortcuts" not in body


def test_an_agent_turns_shortcuts_off(cast):
    client = cast.client_for(cast.agent)
    answer = client.post(URL, form_data(enabled=False), follow=True)
    assert answer.redirect_chain == [(URL, 302)]
    assert "Preferences saved." in answer.content.decode()
    cast.agent.refresh_from_db()
    assert cast.agent.shortcuts_enabled is False
    assert meta_settings(answer.content.decode())["enabled"] is False
    event = AccountEvent.objects.get(type=AccountEventType.PREFERENCES_CHANGED)
    assert event.user == cast.agent and event.actor == cast.agent
    assert event.data == {"changes": {"shortcuts_enabled": {"old": True, "new": False}}}


def test_an_agent_remaps_a_key_and_only_the_change_is_stored(cast):
    client = cast.client_for(cast.agent)
    assert client.post(URL, form_data(next="k")).status_code == 302
    cast.agent.refresh_from_db()
    assert cast.agent.shortcut_keys == {"next": "k"}
    keys = meta_settings(client.get(URL).content.decode())["keys"]
    assert keys == {**DEFAULT_KEYS, "next": "k"}


def test_one_key_for_two_shortcuts_is_refused_on_the_form(cast):
    client = cast.client_for(cast.agent)
    answer = client.post(URL, form_data(next="r"))
    assert answer.status_code == 400
    assert "already the key of" in answer.content.decode()
    cast.agent.refresh_from_db()
    assert (
        cast.agent.shortcut_keys == {}
        and not AccountEvent.objects.filter(type=AccountEventType.PREFERENCES_CHANGED).exists()
    )


def test_a_key_must_be_one_visible_character(cast):
    answer = cast.client_for(cast.agent).post(URL, form_data(reply=" "))
    assert answer.status_code == 400
    assert "single visible character" in answer.content.decode()


def test_saving_the_same_preferences_records_nothing(cast):
    cast.client_for(cast.agent).post(URL, form_data())
    assert not AccountEvent.objects.filter(type=AccountEventType.PREFERENCES_CHANGED).exists()


def test_customers_have_no_preferences_page(cast):
    assert cast.client_for(cast.contact).get(URL).status_code == 404
    try:
        checks.check_set_preferences(cast.contact.user, shortcuts_enabled=False)
    except NotPermitted:
        pass
    else:
        raise AssertionError("a customer set console preferences")


def test_the_rule_fills_in_defaults_and_refuses_unknown_shortcuts():
    assert effective_keys({"timer": "x"})["timer"] == "x"
    assert effective_keys({})["help"] == "?"
    assert "bogus" in shortcut_key_errors({"bogus": "x"})
    assert "assign" in shortcut_key_errors({"assign": "ab"})
    assert shortcut_key_errors({"next": "t", "timer": "j"}) == {}  # a swap is fine
