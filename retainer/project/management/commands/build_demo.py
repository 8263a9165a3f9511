"""Build the demo data set: ``manage.py build_demo [--scale N]``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from retainer.demo import DEMO_LOGINS, build_demo
from retainer.lib.demo import DEMO_PASSWORD


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
        if not build_demo(scale=scale, seed=seed, log=log):
            log("Demo data already present; nothing to do.")
        self.stdout.write(f"Demo logins (password: {DEMO_PASSWORD}):")
        for role, email in DEMO_LOGINS:
            self.stdout.write(f"  {role:<26} {email}")
