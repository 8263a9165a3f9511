"""Signing in with a real browser lands each role on its home; too many wrong passwords
pause password sign-in; a staff member turns keyboard shortcuts off or remaps them."""

import pytest
from playwright.sync_api import expect

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


def test_after_too_many_wrong_passwords_the_sign_in_page_says_to_wait(
    cast, page, live_server, login
):
    for n in range(5):
        login("agent@vendor.test", f"wrong-{n}")
    login("agent@vendor.test", PASSWORD)
    assert "/login/" in page.url
    expect(page.get_by_role("alert")).to_contain_text("Too many failed sign-ins")
    expect(page.get_by_label("E-mail")).to_have_value("agent@vendor.test")


def test_an_agent_turns_keyboard_shortcuts_off_and_j_does_nothing(cast, page, live_server, login):
    login("agent@vendor.test", PASSWORD)
    page.get_by_role("link", name="Preferences").click()
    page.get_by_label("Use single-key shortcuts in the console").uncheck()
    page.get_by_role("button", name="Save preferences").click()
    expect(page.get_by_text("Preferences saved.")).to_be_visible()
    page.goto(f"{live_server.url}/console/cases/?view=active")
    # No key does anything, so the queue shows no key beside "Next case".
    next_case = page.get_by_role("link", name="Next case")
    expect(next_case).to_be_visible()
    expect(next_case.locator("kbd")).to_be_hidden()
    page.keyboard.press("j")
    page.wait_for_timeout(500)
    assert page.url.endswith("/console/cases/?view=active")
    expect(page.get_by_text("No open case is waiting.")).to_have_count(0)


def test_an_agent_remaps_next_case_and_the_new_key_works(cast, page, live_server, login):
    login("agent@vendor.test", PASSWORD)
    page.goto(f"{live_server.url}/account/preferences/")
    page.get_by_label("Next case").fill("k")
    page.get_by_role("button", name="Save preferences").click()
    expect(page.get_by_text("Preferences saved.")).to_be_visible()
    page.goto(f"{live_server.url}/console/cases/?view=active")
    # The hints show the user's keys: the queue's button and the shortcuts help.
    expect(page.get_by_role("link", name="Next case")).to_contain_text("Next case k")
    page.keyboard.press("?")
    help_dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(help_dialog).to_be_visible()
    expect(help_dialog.get_by_role("row", name="Next case")).to_have_text("kNext case")
    expect(help_dialog.get_by_role("row", name="Reply")).to_have_text("rReply")
    help_dialog.get_by_role("button", name="Close").click()
    expect(help_dialog).to_be_hidden()
    page.keyboard.press("j")
    page.wait_for_timeout(500)
    expect(page.get_by_text("No open case is waiting.")).to_have_count(0)
    page.keyboard.press("k")  # the next case; there is none, so the queue says so
    expect(page.get_by_text("No open case is waiting.")).to_be_visible()


def test_a_customer_has_no_preferences_page(cast, page, live_server, login):
    login("carl@acme.test", PASSWORD)
    response = page.goto(f"{live_server.url}/account/preferences/")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
