"""Build the demo data set, app by app, through each app's ``demo.build(ctx)``.

Project level: it imports every app, so no app imports it. The state the steps share
(``DemoContext``, ``batched``, the demo password) is domain-free and stays in
``retainer.lib.demo``, where every app's step can import it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from types import ModuleType

from django.db import transaction
from django.utils import timezone

from retainer.accounts import demo as accounts_demo
from retainer.accounts.models import User
from retainer.automation import demo as automation_demo
from retainer.billing import demo as billing_demo
from retainer.cases import demo as cases_demo
from retainer.catalog import demo as catalog_demo
from retainer.contracts import demo as contracts_demo
from retainer.imports import demo as imports_demo
from retainer.kb import demo as kb_demo
from retainer.lib.demo import make_context
from retainer.mail import demo as mail_demo
from retainer.metrics import demo as metrics_demo
from retainer.success import demo as success_demo

# Later steps use what earlier ones built; a new app adds its step here.
STEPS: tuple[ModuleType, ...] = (
    accounts_demo,
    catalog_demo,
    contracts_demo,
    cases_demo,
    billing_demo,
    success_demo,
    kb_demo,
    mail_demo,
    automation_demo,  # webhooks and macros: after kb (macros link articles)
    imports_demo,  # a dry run of a legacy contacts file: after the organizations it names
    metrics_demo,  # the support roll-ups of every case: after every step that writes cases
)

DEMO_LOGINS = accounts_demo.DEMO_LOGINS


def demo_present() -> bool:
    """True when the demo data set was built already (its first login exists)."""
    return User.objects.filter(email=DEMO_LOGINS[0][1]).exists()


def build_demo(*, scale: int, seed: int, log: Callable[[str], None]) -> bool:
    """Build the demo on an empty database, one transaction per step. ``scale`` ≥ 1
    multiplies the customer base (40 organizations each). Returns False, building
    nothing, when the demo is already there."""
    if scale < 1:
        raise ValueError("scale must be at least 1")
    if demo_present():
        return False
    started = time.monotonic()
    ctx = make_context(scale=scale, today=timezone.localdate(), seed=seed, log=log)
    for step in STEPS:
        log(f"Building {step.__name__.split('.')[1]} …")
        with transaction.atomic():
            step.build(ctx)
    log(f"Demo data built in {time.monotonic() - started:.1f} s.")
    return True
