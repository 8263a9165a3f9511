"""Build the demo data set: ``manage.py build_demo [--scale N]``."""

from __future__ import annotations

import importlib
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from retainer.accounts.demo import DEMO_LOGINS
from retainer.accounts.models import User
from retainer.lib.demo import DEMO_PASSWORD, make_context

# Each app adds its step here; later steps use what earlier ones built.
STEPS = [
    "retainer.accounts.demo",
    "retainer.catalog.demo",
    "retainer.contracts.demo",
    "retainer.cases.demo",
    "retainer.billing.demo",
]


class Command(BaseCommand):
    help = "Build the demo data set (skipped when it already exists)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--scale",
            type=int,
            default=1,
            help="Multiply the customer base (1 = 40 organizations).",
        )
        parser.add_argument(
            "--seed", type=int, default=2026, help="Random seed, for repeatable data."
        )
        parser.add_argument("--quiet", action="store_true", help="Print only the logins.")

    def handle(self, *args: Any, scale: int, seed: int, quiet: bool, **options: Any) -> None:
        if scale < 1:
            raise CommandError("--scale must be at least 1.")
        log = (lambda message: None) if quiet else (lambda message: self.stdout.write(message))
        if User.objects.filter(email=DEMO_LOGINS[0][1]).exists():
            log("Demo data already present; nothing to do.")
        else:
            started = time.monotonic()
            ctx = make_context(scale=scale, today=timezone.localdate(), seed=seed, log=log)
            for step in STEPS:
                log(f"Building {step.split('.')[1]} …")
                with transaction.atomic():
                    importlib.import_module(step).build(ctx)
            log(f"Demo data built in {time.monotonic() - started:.1f} s.")
        self.stdout.write(f"Demo logins (password: {DEMO_PASSWORD}):")
        for role, email in DEMO_LOGINS:
            self.stdout.write(f"  {role:<26} {email}")
