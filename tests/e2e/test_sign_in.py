"""Signing in with a real browser lands each role on its home."""

import pytest

from conftest import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_contact_signs_in_and_lands_on_the_portal(cast, page, live_server, login):
    login("carl@acme.test", PASSWORD)
    assert page.url.endswith("/portal/")
    assert page.get_by_role("heading", name="Acme").is_visible()


def test_an_agent_signs_in_and_lands_on_the_console(cast, page, live_server, login):
    login("agent@vendor.test", PASSWORD)
    assert "/console/" in page.url


def test_a_wrong_password_shows_an_error_and_no_console(cast, page, live_server, login):
    login("agent@vendor.test", "wrong")
    assert page.get_by_role("alert").is_visible()
    assert "/login/" in page.url


def test_pages_carry_no_inline_script_and_the_browser_reports_no_csp_violation(
    cast, page, live_server, login
):
    errors: list[str] = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    login("agent@vendor.test", PASSWORD)
    page.goto(f"{live_server.url}/console/")
    assert not [e for e in errors if "Content Security Policy" in e]
