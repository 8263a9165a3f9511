"""Screenshots of the product for the docs, taken from a fresh demo database.

    .venv/bin/python scripts/screenshots.py [--only NAME ...] [--out docs/screenshots]

Builds a demo database in a temporary ``RETAINER_VAR_DIR`` (``migrate`` + ``build_demo`` +
``collectstatic``),
serves it with ``runserver`` on a free 127.0.0.1 port, signs in through the login form with
Debian's Chromium (as the browser tests do) and saves one PNG per entry of ``SHOTS`` at
1280×900, and for the pages of ``PHONE`` one more at 375×812 (``…-phone.png``). To add a
page, append a ``Shot``: who signs in, which path, the file name, and optionally a
``prepare(page)`` hook that fills in or clicks what the picture should show.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from retainer.lib.demo import DEMO_PASSWORD  # noqa: E402
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

VIEWPORT = {"width": 1280, "height": 900}
PHONE_VIEWPORT = {"width": 375, "height": 812}


@dataclass(frozen=True)
class Shot:
    login: str | None  # e-mail of the demo account, None for a public page
    path: str
    filename: str
    prepare: Callable[[Any], None] | None = None
    full_page: bool = False
    viewport: dict[str, int] | None = None


def _preview_a_covered_case(page: Any) -> None:
    """Choose the first product and its newest release, so the decision preview shows."""
    page.locator("#id_product").select_option(label="Ledgerline Server")
    page.locator("#id_release option").nth(1).wait_for(state="attached")
    page.locator("#id_release").select_option(index=1)
    page.get_by_label("Subject").fill("Nightly posting job stops with error 42")
    page.get_by_label("Description").fill(
        "Since the upgrade on Tuesday the nightly posting job stops with error 42."
    )
    page.locator("#decision-preview .verdict").wait_for()
    page.wait_for_load_state("networkidle")


def _open_first(pattern: str) -> Callable[[Any], None]:
    """Open the first link of the page whose address matches ``pattern`` (a regex)."""

    def prepare(page: Any) -> None:
        href = page.evaluate(
            "(p) => [...document.querySelectorAll('main a')].map(a => a.getAttribute('href'))"
            ".find(h => new RegExp(p).test(h))",
            pattern,
        )
        origin = "/".join(page.url.split("/")[:3])  # scheme://host:port
        page.goto(origin + href)
        page.wait_for_load_state("networkidle")

    return prepare


def _open_a_worked_case(page: Any) -> None:
    """From the "all open" queue, open the demo's worked Atlas case (reply, time, SLA)."""
    page.get_by_role("link", name="RT-10004").click()
    page.wait_for_load_state("networkidle")


SHOTS: list[Shot] = [
    Shot("agent@northwind.example", "/console/cases/?view=active", "console-queue.png"),
    Shot(
        "agent@northwind.example",
        "/console/cases/?view=active&q=RT-10004",
        "console-case.png",
        _open_a_worked_case,
    ),
    Shot("agent@northwind.example", "/console/organizations/1/", "console-organization.png"),
    Shot("bob@acme.example", "/portal/support/", "portal-my-support.png"),
    Shot("bob@acme.example", "/portal/cases/new/", "portal-open-case.png", _preview_a_covered_case),
    Shot(None, "/scope-of-support/", "scope-of-support.png"),
    Shot("manager@northwind.example", "/console/team/", "console-team.png"),
    Shot("agent@northwind.example", "/console/cases/new/", "console-new-case.png"),
    Shot("agent@northwind.example", "/console/search/?q=posting", "console-search.png"),
    Shot("manager@northwind.example", "/console/csat/", "console-csat.png"),
    Shot("billing@northwind.example", "/console/invoices/", "console-invoices.png"),
    Shot(
        "billing@northwind.example",
        "/console/invoices/",
        "console-invoice.png",
        _open_first(r"^/console/invoices/\d+/$"),
    ),
    Shot("billing@northwind.example", "/console/billing/runs/", "console-billing-runs.png"),
    Shot("billing@northwind.example", "/console/billing/renewal-quotes/", "console-quotes.png"),
    Shot("billing@northwind.example", "/console/plans/", "console-plans.png"),
    Shot("billing@northwind.example", "/console/plans/new/", "console-plan-new.png"),
    Shot("billing@northwind.example", "/console/contracts/new/", "console-contract-new.png"),
    Shot(
        "billing@northwind.example",
        "/console/contracts/",
        "console-contract.png",
        _open_first(r"^/console/contracts/\d+/$"),
    ),
    Shot("manager@northwind.example", "/console/sla/", "console-sla.png"),
    Shot("agent@northwind.example", "/console/defects/", "console-defects.png"),
    Shot("manager@northwind.example", "/console/catalog/products/", "console-catalog.png"),
    Shot(
        "manager@northwind.example",
        "/console/catalog/service-offerings/",
        "console-offerings.png",
    ),
    Shot("admin@northwind.example", "/console/operations/", "console-operations.png"),
    Shot(
        "admin@northwind.example",
        "/console/imports/",
        "console-import.png",
        _open_first(r"^/console/imports/\d+/$"),
    ),
    Shot("agent@northwind.example", "/account/preferences/", "console-preferences.png"),
    Shot("bob@acme.example", "/portal/invoices/", "portal-invoices.png"),
    Shot("manager@northwind.example", "/console/kb/articles/", "console-kb.png"),
    Shot(None, "/help/?q=reset+password", "help-centre.png"),
    Shot("agent@northwind.example", "/console/mail/", "console-mail.png"),
    Shot("manager@northwind.example", "/console/metrics/", "console-metrics.png"),
    Shot("billing@northwind.example", "/console/metrics/revenue/", "console-revenue.png"),
    Shot(
        "manager@northwind.example",
        "/console/success/opportunities/board/",
        "console-pipeline.png",
    ),
    Shot("billing@northwind.example", "/console/services/quotes/", "console-services.png"),
    Shot("bob@acme.example", "/portal/quotes/", "portal-quotes.png"),
    Shot("admin@northwind.example", "/console/webhooks/", "console-webhooks.png"),
    Shot(
        "manager@northwind.example",
        "/console/rules/",
        "console-rule.png",
        _open_first(r"^/console/rules/\d+/$"),
    ),
    Shot("admin@northwind.example", "/console/api-tokens/", "console-api-tokens.png"),
    Shot("bob@acme.example", "/account/notifications/", "portal-email-settings.png"),
    Shot("agent@northwind.example", "/console/macros/", "console-macros.png"),
    Shot("admin@northwind.example", "/console/people/", "console-people.png"),
    Shot("agent@northwind.example", "/console/metrics/agent/", "console-my-work.png"),
    Shot(None, "/help/", "help-article.png", _open_first(r"^/help/[a-z0-9-]+/$")),
    Shot("manager@northwind.example", "/console/success/plans/", "console-success-plans.png"),
    Shot("ada@acme.example", "/portal/success-plan/", "portal-success-plan.png"),
    Shot("ada@acme.example", "/portal/cases/", "portal-cases.png"),
    Shot("agent@northwind.example", "/console/no-such-page/", "error-404.png"),
]

# Every page is also taken at a phone's width, but the error page.
PHONE = {shot.filename for shot in SHOTS} - {"error-404.png"}
SHOTS += [
    Shot(s.login, s.path, s.filename.replace(".png", "-phone.png"), s.prepare, s.full_page,
         PHONE_VIEWPORT)
    for s in SHOTS
    if s.filename in PHONE
]  # fmt: skip


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)


def wait_until_up(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2):  # noqa: S310 - local URL
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"The server at {url} did not start.")


def take(shots: list[Shot], url: str, out: Path) -> None:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        for shot in shots:
            context = browser.new_context(viewport=shot.viewport or VIEWPORT)  # type: ignore[arg-type]
            page = context.new_page()
            page.on(
                "console", lambda m: print(f"  {m.type}: {m.text}") if m.type == "error" else None
            )
            if shot.login:
                page.goto(f"{url}/login/")
                page.get_by_label("E-mail").fill(shot.login)
                page.get_by_label("Password").fill(DEMO_PASSWORD)
                page.get_by_role("button", name="Sign in", exact=True).click()
                page.wait_for_load_state("networkidle")
            page.goto(f"{url}{shot.path}")
            page.wait_for_load_state("networkidle")
            if shot.prepare is not None:
                shot.prepare(page)
            page.screenshot(path=str(out / shot.filename), full_page=shot.full_page)
            print(f"  {out / shot.filename}")
            context.close()
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--only", nargs="*", help="File names to take (default: all).")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    options = parser.parse_args()
    shots = [s for s in SHOTS if not options.only or s.filename in options.only]
    with tempfile.TemporaryDirectory(prefix="retainer-shots-") as var_dir:
        env = {**os.environ, "RETAINER_VAR_DIR": var_dir, "RETAINER_MODE": "demo"}
        env.pop("DATABASE_URL", None)
        print("Building the demo database…")
        manage(env, "migrate", "--no-input", "--verbosity", "0")
        manage(env, "build_demo", "--quiet")
        manage(env, "collectstatic", "--no-input", "--verbosity", "0")  # WhiteNoise serves these
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "runserver",
                "--insecure",
                "--noreload",
                f"127.0.0.1:{port}",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_until_up(url)
            print("Taking screenshots…")
            take(shots, url, options.out)
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
