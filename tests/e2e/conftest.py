"""End-to-end tests in a real browser: Debian's Chromium driven by Playwright.

No browser is downloaded: Chromium comes from the system package (``.ci/run`` installs
it). Without it the tests skip, except with ``CI=true``, where they fail.
"""

from __future__ import annotations

import importlib
import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection

CHROMIUM = os.environ.get("RETAINER_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]

# The live server runs in a thread of this process; Playwright's sync API runs an event
# loop in the test thread, which Django would otherwise refuse ORM calls from.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("RETAINER_TEST_DB") == "postgres":
        # The pages are the same on both databases; what differs (search, locks,
        # concurrency) is tested below the browser on each. One pass keeps CI short.
        once = pytest.mark.skip(reason="browser tests run once, in the SQLite pass")
        for item in items:
            if "tests/e2e" in str(item.fspath):
                item.add_marker(once)
        return
    if os.path.exists(CHROMIUM):
        return
    if os.environ.get("CI") == "true":
        raise pytest.UsageError(f"Chromium not found at {CHROMIUM}: the browser tests cannot run.")
    skip = pytest.mark.skip(reason="Chromium is not installed (apt-get install chromium)")
    for item in items:
        if "tests/e2e" in str(item.fspath):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": CHROMIUM_ARGS,
        "headless": True,
    }


@pytest.fixture
def login(live_server: Any, page: Any) -> Any:
    """Sign ``email`` in through the real login form."""

    def sign_in(email: str, password: str) -> None:
        page.goto(f"{live_server.url}/login/")
        page.get_by_label("E-mail").fill(email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state("networkidle")

    return sign_in


_triggers = importlib.import_module(
    "retainer.contracts.migrations.0002_ledger_append_only_triggers"
)


@pytest.fixture(autouse=True)
def _empty_append_only_tables_after_the_test(transactional_db: None) -> Iterator[None]:
    """Browser tests commit for real, and the append-only triggers of the ledger refuse
    the DELETE of the flush that ends a transactional test: empty the database with the
    triggers lifted, then put them back (other tests rely on them)."""
    yield
    with connection.schema_editor() as editor:
        _triggers.drop_triggers(None, editor)
    call_command("flush", interactive=False, verbosity=0)
    with connection.schema_editor() as editor:
        _triggers.create_triggers(None, editor)
