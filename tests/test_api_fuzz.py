"""Property-based fuzzing of the REST API against its own OpenAPI schema.

Schemathesis generates requests for every operation of ``/api/schema/`` (valid and
invalid ones) and sends them in-process to ``retainer.wsgi.application`` on the test
database, signed in as a customer admin and as a vendor admin. Every answer must be a
non-5xx whose status the schema documents and whose body matches it.

The run is bounded (``FUZZ_EXAMPLES`` examples per operation, a fixed seed) so it fits
CI on two cores. To replay a failure, run with the seed the failure prints:
``RETAINER_FUZZ_SEED=<seed> pytest tests/test_api_fuzz.py``; raise
``RETAINER_FUZZ_EXAMPLES`` to search longer.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import time
import traceback
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from django.test import Client
from django.utils import timezone
from django.utils.crypto import get_random_string
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from schemathesis import checks
from schemathesis.core.result import Ok

from retainer.cases.actions import check_open_case
from retainer.catalog import actions as catalog_actions
from retainer.contracts import actions as contract_actions
from retainer.contracts.choices import Preset
from retainer.wsgi import application

SEED = int(os.environ.get("RETAINER_FUZZ_SEED", "20260501"))
FUZZ_EXAMPLES = int(os.environ.get("RETAINER_FUZZ_EXAMPLES", "32"))
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.response_schema_conformance,
]


@pytest.fixture
def _in_process_requests() -> Iterator[None]:
    """Requests served in the test's own transaction: Django's handler would otherwise
    close the connection at the end of each request (the test client does the same)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def server_errors() -> Iterator[list[str]]:
    """The tracebacks of the exceptions that became 500s, to say where a 5xx comes from."""
    caught: list[str] = []

    def keep(sender: Any, request: Any = None, **kwargs: Any) -> None:
        caught.append(traceback.format_exc())

    signals.got_request_exception.connect(keep)
    yield caught
    signals.got_request_exception.disconnect(keep)


def _world(cast: Any) -> dict[str, Any]:
    """A product with a release, a contract and a case, so that generated ids find rows."""
    product = catalog_actions.do_save_product(
        None, actor=cast.admin, name="Ledgerline", code="ledgerline", currency="EUR"
    )
    catalog_actions.do_save_release(
        None,
        actor=cast.admin,
        product=product,
        version="1.0",
        ga_date=timezone.localdate() - dt.timedelta(days=100),
    )
    catalog_actions.do_save_offering(
        None, actor=cast.admin, kind="backport", name="Backport", price=Decimal(2400)
    )
    contract = contract_actions.do_create_contract(
        organization=cast.acme,
        preset=Preset.BANK,
        start_date=timezone.localdate() - dt.timedelta(days=30),
        covered_products=[product],
        terms={},
        actor=cast.admin,
    )
    case = check_open_case(
        cast.customer_admin.user,
        contact=cast.customer_admin,
        product=product,
        subject="Posting fails",
        description="The nightly job stops.",
        channel="web",
    )
    return {
        "public_id": case.public_id,
        "product_pk": product.pk,
        "contracts": contract.pk,
        "products": product.pk,
        "organizations": cast.acme.pk,
        "contacts": cast.contact.pk,
        "decisions": case.decision_id,
    }


def _real_path(path: str, real: dict[str, Any]) -> dict[str, Any]:
    """Path parameters of ``path`` that name rows of the world, where it has them."""
    found = {}
    segments = path.strip("/").split("/")
    for before, segment in itertools.pairwise(segments):
        name = segment.strip("{}")
        if segment.startswith("{"):
            value = real.get(name) if name != "id" else real.get(before)
            if value is not None:
                found[name] = value
    return found


def _session(user: Any) -> tuple[dict[str, str], dict[str, str]]:
    """Cookies and headers of a signed-in browser session, with its CSRF token."""
    client = Client()
    client.force_login(user)
    token = get_random_string(32)  # a CSRF secret: 32 letters and digits
    cookies = {"sessionid": client.cookies["sessionid"].value, "csrftoken": token}
    return cookies, {"X-CSRFToken": token}


def _fuzz_operation(
    operation: Any,
    cookies: dict[str, str],
    headers: dict[str, str],
    real: dict[str, Any],
    statuses: Counter[str],
) -> str | None:
    """Fuzz one operation; the first failure as text, or None."""
    modes = [schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE]
    strategies = [operation.as_strategy(mode) for mode in modes]
    known = _real_path(operation.path, real)
    if known:
        strategies += [operation.as_strategy(mode, path_parameters=known) for mode in modes]
    strategy = st.one_of(strategies)
    failure: list[str] = []

    @seed(SEED)
    @settings(
        max_examples=FUZZ_EXAMPLES,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    @given(case=strategy)
    def run(case: Any) -> None:
        response = case.call(cookies=cookies, headers=headers)
        statuses[f"{case.method} {operation.path} {response.status_code}"] += 1
        try:
            case.validate_response(response, checks=CHECKS)
        except (Exception, BaseExceptionGroup) as exc:
            if not failure:
                failure.append(f"{case.method} {case.formatted_path}: {exc}")
            raise

    try:
        run()
    except (Exception, BaseExceptionGroup):  # collected and reported for every operation
        return failure[0] if failure else traceback.format_exc()
    return None


@pytest.mark.slow
@pytest.mark.parametrize("role", ["customer_admin", "admin"])
def test_the_api_answers_every_generated_request_as_its_schema_says(
    cast: Any, role: str, _in_process_requests: None, server_errors: list[str]
) -> None:
    real = _world(cast)
    who = getattr(cast, role)
    cookies, headers = _session(getattr(who, "user", who))
    schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
    started = time.monotonic()
    failures = []
    statuses: Counter[str] = Counter()
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result
        operation = result.ok()
        problem = _fuzz_operation(operation, cookies, headers, real, statuses)
        if problem:
            failures.append(problem)
    elapsed = time.monotonic() - started
    print(f"seed {SEED}, {elapsed:.0f} s:", *sorted(statuses.items()), sep="\n")
    report = "\n\n".join(failures + server_errors[:3])
    assert not failures, (
        f"seed {SEED}, {FUZZ_EXAMPLES} examples per operation, {elapsed:.0f} s, "
        f"{len(failures)} failing operations:\n\n{report}"
    )
