"""Every page of the console and the portal, as every role, at desktop and phone width, has
no WCAG 2.0/2.1/2.2 level A or AA violation that axe-core finds.

Pages are found by crawling, not listed: each role signs in and follows the same-origin
links of ``<nav>`` and ``<main>`` breadth-first from where it lands, so a page added
tomorrow is checked as soon as a link leads to it. One page per route name, so a thousand
cases (or a queue under every filter) count once. Besides axe, every
page's ``id`` references (``aria-describedby``, ``aria-labelledby``, ``aria-controls``,
``<label for>``) must name elements that exist. The refused-form state, the focus after an
action and the skip link are checked in a browser too. See docs/accessibility.md.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urljoin, urlsplit

import pytest
import time_machine
from axe_playwright_python.base import AXE_SCRIPT
from django.urls import Resolver404, resolve
from django.utils import timezone
from playwright.sync_api import Page, expect

from conftest import PASSWORD
from retainer.billing import actions as billing_actions
from retainer.billing.rules import Period
from retainer.cases import actions as case_actions
from retainer.cases.models import BusinessCalendar, Case, SlaTarget
from retainer.catalog import actions as catalog_actions
from retainer.contracts import actions as contract_actions
from retainer.contracts.choices import Preset

pytestmark = pytest.mark.django_db(transaction=True)

#: axe-core rules tagged with a WCAG success criterion of level A or AA (2.0, 2.1, 2.2).
AXE_OPTIONS = {
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"],
    },
    "resultTypes": ["violations"],
}
WIDTHS = (1280, 375)
HEIGHT = 900
#: Routes checked per role at most: enough for every page of the product, a bound on time.
MAX_ROUTES = 40
SKIPPED_PREFIXES = ("/admin/", "/api/", "/logout/", "/static/", "/media/")
DOWNLOAD = re.compile(r"\.(pdf|csv|xlsx?|zip|json)$|/(download|export|pdf|csv)s?/?$", re.I)

# Every idref on the page names an element: axe only flags an aria-describedby whose ids
# are all missing as "needs review", which is how the field errors' ids went unnoticed.
DANGLING_IDREFS = """() => {
  const broken = [];
  for (const attr of ["aria-describedby", "aria-labelledby", "aria-controls", "for"]) {
    for (const el of document.querySelectorAll(`[${attr}]`)) {
      if (attr === "for" && el.tagName !== "LABEL") continue;
      for (const ref of el.getAttribute(attr).split(/\\s+/).filter(Boolean)) {
        if (!document.getElementById(ref)) broken.push(`${el.tagName.toLowerCase()}[${attr}=${ref}]`);
      }
    }
  }
  for (const link of document.querySelectorAll(".error-summary a[href^='#']")) {
    const ref = link.getAttribute("href").slice(1);
    if (!document.getElementById(ref)) broken.push(`error summary link #${ref}`);
  }
  return broken;
}"""

RUN_AXE = "options => window.axe.run(document, options)"

LINKS = """() => Array.from(document.querySelectorAll("nav a[href], main a[href]"))
  .filter(a => !a.hasAttribute("download")).map(a => a.href)"""


@dataclass
class Audit:
    """What the crawl of one role found: the routes it checked and every problem."""

    routes: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def report(self) -> str:
        checked = "\n".join(f"  {key}: {url}" for key, url in self.routes.items())
        return "\n".join(self.problems) + f"\n\nchecked {len(self.routes)} routes:\n{checked}"


def route_key(url: str, origin: str) -> str | None:
    """The page's route name, or None when the crawl does not go there (another site, the
    admin, the API, a download, a later page of a list)."""
    parts = urlsplit(url)
    if f"{parts.scheme}://{parts.netloc}" != origin or parts.path.startswith(SKIPPED_PREFIXES):
        return None
    if DOWNLOAD.search(parts.path):
        return None
    query = parse_qsl(parts.query, keep_blank_values=True)
    if any(name == "page" and value not in ("", "1") for name, value in query):
        return None
    if any(name == "format" for name, _ in query):
        return None
    try:
        return resolve(parts.path).view_name
    except Resolver404:
        return None


def settle(page: Page) -> None:
    """Wait for the fragments a page loads by itself (htmx ``hx-trigger="load"``)."""
    if page.locator("[hx-trigger*='load']").count():
        page.wait_for_load_state("networkidle")


def axe(page: Page, label: str) -> list[str]:
    """axe-core and the idref check at every width, on the page as it is now. (axe is in
    every page of the context already: ``session`` adds it as an init script.)"""
    found = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": HEIGHT})
        # Without CSS selectors for the nodes axe runs about twice as fast; a page with a
        # violation runs again with them, for the report.
        result = page.evaluate(RUN_AXE, {**AXE_OPTIONS, "selectors": False})
        if result["violations"]:
            result = page.evaluate(RUN_AXE, AXE_OPTIONS)
        for violation in result["violations"]:
            targets = "; ".join(" ".join(node["target"]) for node in violation["nodes"][:5])
            found.append(
                f"{label} @{width}px: {violation['id']} ({violation['impact']}) "
                f"{violation['help']}: {targets}"
            )
    found += [f"{label}: dangling idref {ref}" for ref in page.evaluate(DANGLING_IDREFS)]
    page.set_viewport_size({"width": WIDTHS[0], "height": HEIGHT})
    return found


def crawl(page: Page, origin: str, start: list[str]) -> Audit:
    """Breadth-first over the links of ``<nav>`` and ``<main>`` from ``start``, one page
    per route key, GET only."""
    audit = Audit()
    queue = deque(urljoin(origin, path) for path in start)
    while queue and len(audit.routes) < MAX_ROUTES:
        url = queue.popleft()
        key = route_key(url, origin)
        if key is None or key in audit.routes:
            continue
        audit.routes[key] = url
        response = page.goto(url)
        if response is None or response.status >= 500:
            audit.problems.append(f"{url}: status {response and response.status}")
            continue
        settle(page)
        audit.problems += axe(page, url.removeprefix(origin))
        queue.extend(page.evaluate(LINKS))
    return audit


def sign_in(page: Page, origin: str, email: str) -> None:
    page.goto(f"{origin}/login/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("load")


@pytest.fixture
def session(browser: Any, live_server: Any) -> Iterator[Any]:
    """A browser context of its own for each role, closed after the test."""
    contexts = []

    def open_page(email: str | None) -> Page:
        context = browser.new_context(viewport={"width": WIDTHS[0], "height": HEIGHT})
        # Injected by the browser, not the page, so the page's CSP does not apply.
        context.add_init_script(AXE_SCRIPT)
        contexts.append(context)
        page = context.new_page()
        if email is not None:
            sign_in(page, live_server.url, email)
        return page

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def desk(cast, settings, tmp_path) -> dict[str, Any]:
    """A small help desk with something on every page: a covered product and one that is
    not, SLA targets, an hours bank with a top-up and time drawn from it, a case opened
    three hours ago with a reply, an internal note and clocks in warning, a case that is
    not entitled, and an issued invoice."""
    settings.MEDIA_ROOT = tmp_path
    admin, agent = cast.admin, cast.agent
    today = timezone.localdate()
    ledgerline = catalog_actions.do_save_product(
        None, actor=admin, name="Ledgerline", code="ledgerline", currency="EUR"
    )
    atlas = catalog_actions.do_save_product(
        None, actor=admin, name="Atlas", code="atlas", currency="EUR"
    )
    releases = {
        product.code: catalog_actions.do_save_release(
            None, actor=admin, product=product, version="5.0", ga_date=today - dt.timedelta(days=90)
        )
        for product in (ledgerline, atlas)
    }
    always = BusinessCalendar.objects.create(name="24×7", always_open=True)
    for severity in (1, 2, 3, 4):
        SlaTarget.objects.create(
            severity=severity, calendar=always, first_response_minutes=60,
            next_response_minutes=120, resolution_minutes=200, warning_percent=75,
        )  # fmt: skip
    contract = contract_actions.do_create_contract(
        organization=cast.acme, preset=Preset.BANK, start_date=today - dt.timedelta(days=30),
        covered_products=[ledgerline], named_contacts=[cast.customer_admin, cast.contact],
        terms={"unit": "hours", "quantity": 10 * 60, "exhaustion_policy": "bill",
               "overage_rate": Decimal(150)},
        actor=admin,
    )  # fmt: skip
    contract_actions.do_top_up(contract, quantity=120, key="a11y-top-up", actor=admin)
    with time_machine.travel(timezone.now() - dt.timedelta(hours=3), tick=True):
        case = case_actions.check_open_case(
            cast.contact.user, product=ledgerline, release=releases["ledgerline"],
            subject="Posting job stops", description="Error 42 **every** night.",
            severity=2, channel="web",
        )  # fmt: skip
    case_actions.check_reply(agent, case, body="Please apply the hotfix and retry.")
    case_actions.check_reply(agent, case, body="Hotfix 5.0.3 is the one.", internal=True)
    case_actions.check_reply(cast.contact.user, case, body="It still stops.")
    case_actions.check_log_time(agent, case, minutes=90, note="Reproduced")
    case_actions.check_open_case(
        cast.customer_admin.user, product=atlas, release=releases["atlas"],
        subject="Atlas export is slow", description="Since Monday.", severity=3, channel="web",
    )  # fmt: skip
    invoice = billing_actions.do_create_invoice(
        organization=cast.acme, period=Period(today.replace(day=1)), actor=cast.billing
    )
    billing_actions.do_add_line(
        invoice, description="Consulting", quantity=Decimal(2), unit_price=Decimal(100),
        currency="EUR", actor=cast.billing,
    )  # fmt: skip
    billing_actions.do_issue_invoice(invoice, actor=cast.billing)
    return {"case": case, "contract": contract}


ROLES = {
    "agent": "agent@vendor.test",
    "manager": "manager@vendor.test",
    "billing": "billing@vendor.test",
    "admin": "admin@vendor.test",
    "customer": "ada@acme.test",
    "anonymous": None,
}


@pytest.mark.parametrize("role", ROLES)
def test_every_page_a_role_reaches_has_no_wcag_violation(role, desk, session, live_server):
    page = session(ROLES[role])
    origin = live_server.url
    landing = page.url if ROLES[role] else f"{origin}/login/"
    # Pages no link leads to: the error page, and the scope of support without signing in.
    audit = crawl(page, origin, [landing, "/", "/scope-of-support/", "/no-such-page/"])
    assert len(audit.routes) > (1 if role == "anonymous" else 4), audit.report()
    assert not audit.problems, audit.report()


def test_a_refused_form_leads_with_an_error_summary_that_links_to_the_fields(
    desk, session, live_server
):
    page = session("carl@acme.test")
    page.goto(f"{live_server.url}/portal/cases/new/")
    settle(page)
    page.get_by_role("button", name="Open the case").click()
    page.wait_for_load_state("load")

    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    assert page.title().startswith("Error: ")
    links = summary.get_by_role("link")
    assert links.count() >= 2
    for href in links.evaluate_all("links => links.map(a => a.getAttribute('href'))"):
        field = page.locator(href)
        expect(field).to_have_attribute("aria-invalid", "true")
        assert page.locator(f"{href}_error").count() == 1, f"{href} has no error message id"
    links.first.click()
    expect(page.locator(links.first.get_attribute("href") or "")).to_be_focused()
    assert not axe(page, "/portal/cases/new/ (refused)")


def test_after_an_action_focus_is_on_its_result_and_a_refusal_is_an_error(
    desk, session, live_server
):
    page = session("agent@vendor.test")
    case: Case = desk["case"]
    page.goto(f"{live_server.url}/console/cases/{case.public_id}/")
    page.get_by_label("Message").fill("We are on it.")
    page.get_by_role("button", name="Send").click()
    page.wait_for_load_state("load")
    expect(page.locator("#messages")).to_be_focused()
    assert not page.title().startswith("Error")

    # An empty reply, refused by the server (the browser's own check is switched off).
    page.locator("#reply form").evaluate("form => { form.noValidate = true; }")
    page.get_by_role("button", name="Send").click()
    page.wait_for_load_state("load")
    expect(page.locator("#messages")).to_be_focused()
    assert page.title().startswith("Error: ")
    assert not axe(page, "case page (refused reply)")


def test_the_skip_link_is_the_first_stop_and_focus_is_visible(desk, session, live_server):
    page = session("agent@vendor.test")
    page.goto(f"{live_server.url}/console/contracts/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    outline = skip.evaluate("el => getComputedStyle(el).outlineStyle")
    assert outline == "solid"
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.closest('main') !== null")


SOURCE = Path(__file__).resolve().parents[2]
#: A field's errors or help text printed by hand, in the element that should carry its id.
HAND_PRINTED = re.compile(
    r"<\w+(?P<attrs>[^>]*)>\{\{\s*[\w.]+\.(?P<field>\w+)\.(?P<what>errors\|join|help_text)"
)


def test_hand_printed_errors_and_help_carry_the_ids_their_field_points_to():
    """A field says ``aria-describedby="id_<field>_helptext id_<field>_error"``; a template
    that prints the help text or the errors itself gives their element that id (or prints
    ``{{ form.<field>.as_field_group }}``, whose project template does it)."""
    missing = [
        f"{path.relative_to(SOURCE)}:{number}: {match[0]}"
        for path in sorted((SOURCE / "retainer").rglob("*.html"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        for match in HAND_PRINTED.finditer(line)
        if match["field"] != "non_field_errors"
        and not re.search(r'\bid="[^"]*_(error|helptext)"', match["attrs"])
    ]
    assert not missing, "\n".join(missing)
