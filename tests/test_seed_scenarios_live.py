"""The seed scenarios through the public API of a fresh run, as an integrator meets it.

``scripts/run.sh``, the README's first command, builds a new instance in a temporary
``RETAINER_VAR_DIR`` and starts the server with its worker. Everything after that is HTTP: a staff session
opens a covered case (its incident leaves the ledger) and an out-of-scope one (its
answer offers the priced service), and queues a billing run that the default worker
finishes without any other command; a contact of Initech, whose organization does not
share cases, sees only their own cases through every door.
"""

from __future__ import annotations

import datetime as dt
import http.cookiejar
import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.test_run_script import ROOT, _free_port, _get, _group_alive, first_run_environment

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        os.environ.get("RETAINER_TEST_DB") == "postgres",
        reason="the first command runs the embedded default (SQLite); the SQLite pass runs it",
    ),
]

PASSWORD = "retainer-demo"


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Browser:
    """One signed-in session against the server: cookies kept, the CSRF token sent."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    def _cookie(self, name: str) -> str:
        return next((c.value or "" for c in self.cookies if c.name == name), "")

    def request(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> Answer:
        data, sent = None, {"X-CSRFToken": self._cookie("csrftoken"), **(headers or {})}
        if isinstance(body, dict) and sent.get("Content-Type") == "form":
            data = urllib.parse.urlencode(body).encode()
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body).encode()
            sent["Content-Type"] = "application/json"
        sent["Referer"] = self.base + "/"
        request = urllib.request.Request(self.base + path, data, sent, method=method)  # noqa: S310 - loopback
        try:
            with self.opener.open(request, timeout=30) as response:
                return Answer(response.status, dict(response.headers), response.read())
        except urllib.error.HTTPError as error:
            return Answer(error.code, dict(error.headers), error.read())

    def get(self, path: str) -> Answer:
        return self.request("GET", path)

    def post(self, path: str, body: Any, headers: dict[str, str] | None = None) -> Answer:
        return self.request("POST", path, body, headers)

    def sign_in(self, email: str) -> Browser:
        self.get("/login/")  # sets the CSRF cookie
        form = {
            "username": email,
            "password": PASSWORD,
            "csrfmiddlewaretoken": self._cookie("csrftoken"),
        }
        answer = self.request("POST", "/login/", form, {"Content-Type": "form"})
        assert answer.status == 200, answer.body[:500]
        assert self._cookie("sessionid"), f"{email} did not sign in"
        return self


def _stop(process: subprocess.Popen[bytes]) -> None:
    if _group_alive(process.pid):
        os.killpg(process.pid, signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh demo started by ``scripts/run.sh``, the README's first command, with its
    worker; the base URL once the worker reports alive."""
    tmp = tmp_path_factory.mktemp("live")
    port = _free_port()
    log = tmp / "run.log"
    # A session of its own, like a terminal's foreground group: Ctrl-C reaches all of it.
    process = subprocess.Popen(
        ["/bin/bash", "scripts/run.sh"],
        cwd=ROOT,
        env=first_run_environment(tmp / "var", port),
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        worker: dict[str, Any] = {}
        while not worker.get("alive"):
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.5)
            status, body = _get(f"{base}/healthz")
            if status == 200:
                worker = json.loads(body)["worker"]
        yield base
    finally:
        _stop(process)


@pytest.fixture(scope="module")
def staff(server: str) -> Browser:
    return Browser(server).sign_in("admin@northwind.example")


def _one(browser: Browser, path: str, **match: Any) -> dict[str, Any]:
    answer = browser.get(path)
    assert answer.status == 200, answer.body[:500]
    rows = [row for row in answer.json()["results"] if match.items() <= row.items()]
    assert rows, f"nothing in {path} with {match}"
    return rows[0]


def _contact(staff: Browser, email: str) -> dict[str, Any]:
    return _one(
        staff, "/api/v1/contacts/?page_size=200&q=" + urllib.parse.quote(email), email=email
    )


def _product(staff: Browser, code: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    product = _one(staff, "/api/v1/products/?page_size=200", code=code)
    releases = staff.get(f"/api/v1/products/{product['id']}/releases/?page_size=200")
    assert releases.status == 200, releases.body[:500]
    return product, releases.json()["results"]


def _balance(staff: Browser, contract: int) -> int:
    answer = staff.get(f"/api/v1/contracts/{contract}/balance/")
    assert answer.status == 200, answer.body[:500]
    return int(answer.json()["balance"])


def _open(staff: Browser, contact: int, product: int, release: int, key: str) -> dict[str, Any]:
    body = {
        "contact": contact,
        "product": product,
        "release": release,
        "subject": f"Seed scenario {key}",
        "description": "Opened through the API of a fresh run.",
        "severity": 3,
    }
    answer = staff.post("/api/v1/cases/", body, {"Idempotency-Key": key})
    assert answer.status == 201, answer.body[:800]
    return dict(answer.json())


def test_a_covered_case_draws_its_incident_from_a_topped_up_bank(staff: Browser) -> None:
    bob = _contact(staff, "bob@acme.example")
    fieldkit, releases = _product(staff, "fieldkit")
    bank = _one(staff, f"/api/v1/contracts/?organization={bob['organization']}", preset="bank")
    before = _balance(staff, bank["id"])
    top_up = {"quantity": "2"}
    key = {"Idempotency-Key": "live-top-up-1"}
    first = staff.post(f"/api/v1/contracts/{bank['id']}/top-ups/", top_up, key)
    assert first.status == 201, first.body[:500]
    replay = staff.post(f"/api/v1/contracts/{bank['id']}/top-ups/", top_up, key)
    assert (replay.status, replay.json()) == (201, first.json())
    assert replay.headers.get("Idempotent-Replayed") == "true"
    assert _balance(staff, bank["id"]) == before + 2, "the replay moved nothing"

    newest = max(releases, key=lambda release: release["order"])
    case = _open(staff, bob["id"], fieldkit["id"], newest["id"], "live-covered")

    assert case["decision"]["outcome"] == "covered", case["decision"]
    assert case["contract"] == bank["id"]
    assert _balance(staff, bank["id"]) == before + 1
    ledger = staff.get(f"/api/v1/contracts/{bank['id']}/ledger/").json()["results"]
    assert ledger[0]["kind"] == "consume" and ledger[0]["quantity"] == -1, ledger[0]


def test_an_out_of_scope_case_is_answered_with_the_priced_service(staff: Browser) -> None:
    bob = _contact(staff, "bob@acme.example")
    ledgerline, releases = _product(staff, "ledgerline")
    oldest = min(releases, key=lambda release: release["order"])

    case = _open(staff, bob["id"], ledgerline["id"], oldest["id"], "live-out-of-scope")

    decision = case["decision"]
    assert decision["outcome"] == "out_of_scope", decision
    offering = decision["offering"]
    assert offering["name"] and offering["currency"], offering
    assert float(offering["price"]) > 0, offering
    public = staff.get(f"/api/v1/decisions/?case={case['id']}").json()["results"]
    assert [row["outcome"] for row in public] == ["out_of_scope"]


def test_a_queued_billing_run_finishes_with_the_default_worker(staff: Browser) -> None:
    today = dt.datetime.now(dt.UTC).date()
    last_month = (today.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
    started = staff.post("/api/v1/billing/runs/", {"period": last_month})
    assert started.status == 202, started.body[:500]
    run = started.json()
    deadline = time.monotonic() + 60
    while run["status"] in ("pending", "running"):
        assert time.monotonic() < deadline, f"the run did not finish in 60 s: {run}"
        time.sleep(1)
        run = staff.get(f"/api/v1/billing/runs/{run['id']}/").json()
    assert run["status"] == "succeeded", run
    assert run["items_done"] == run["items_total"]


def _case_ids(browser: Browser, query: str = "") -> set[str]:
    answer = browser.get(f"/api/v1/cases/?page_size=200{query}")
    assert answer.status == 200, answer.body[:500]
    return {row["id"] for row in answer.json()["results"]}


def test_a_contact_of_an_organization_that_does_not_share_cases_sees_only_their_own(
    server: str, staff: Browser
) -> None:
    peter_contact = _contact(staff, "peter@initech.example")
    organization = peter_contact["organization"]
    everyone = staff.get(f"/api/v1/cases/?organization={organization}&page_size=200").json()
    own = {row["id"] for row in everyone["results"] if row["contact"] == peter_contact["id"]}
    colleague = [row for row in everyone["results"] if row["contact"] != peter_contact["id"]]
    assert own and colleague, "the demo gives Peter and Milton a case each"
    theirs = colleague[0]
    peter = Browser(server).sign_in("peter@initech.example")

    assert _case_ids(peter) == own
    assert _case_ids(peter, "&q=" + urllib.parse.quote(theirs["subject"])) <= own
    for path in ("/", "/events/", "/messages/", "/attachments/"):
        assert peter.get(f"/api/v1/cases/{theirs['id']}{path}").status == 404, path
    portal = peter.get("/portal/cases/")
    assert portal.status == 200
    page = portal.body.decode()
    assert theirs["reference"] not in page and theirs["subject"] not in page
    assert all(_reference(row) in page for row in everyone["results"] if row["id"] in own)
    # Fails until contracts.access.decisions_visible_to narrows a contact of an
    # organization that does not share cases to their own decisions (reported).
    assert peter.get(f"/api/v1/decisions/?case={theirs['id']}").json()["results"] == []


def _reference(row: dict[str, Any]) -> str:
    return str(row["reference"])
