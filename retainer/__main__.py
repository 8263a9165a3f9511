"""The ``retainer`` command, also run as ``python -m retainer``.

``serve``, ``worker`` and ``demo`` are Retainer's own; every other command is a Django
management command, exactly as with ``manage.py``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

USAGE = """\
usage: retainer <command> [options]

  serve    serve the product with gunicorn on RETAINER_HOST:RETAINER_PORT
           (127.0.0.1:8000) with RETAINER_WORKERS workers (2); further options
           go to gunicorn
  worker   run the job consumer (manage.py run_huey; -n for every further one)
  demo     migrate, collect static files and build the demo data
           (further options go to build_demo, e.g. --scale 2)

Every other command is a Django management command, as with manage.py:
  retainer migrate, retainer run_billing --period 2026-10,
  retainer help (lists them all)
"""


def manage(*args: str) -> None:
    """Run one management command; exits the process on a command error."""
    from django.core.management import execute_from_command_line

    execute_from_command_line(["retainer", *args])


def serve(options: Sequence[str]) -> None:
    """Replace this process with gunicorn, configured like ``scripts/run.sh``."""
    from retainer.lib.env import env

    host = env.string("RETAINER_HOST", "127.0.0.1")
    port = env.integer("RETAINER_PORT", 8000, min_value=1, max_value=65535)
    workers = env.integer("RETAINER_WORKERS", 2, min_value=1, max_value=64)
    argv = [
        sys.executable,
        "-m",
        "gunicorn",
        "retainer.wsgi:application",
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(workers),
        "--access-logfile",
        "-",
        "--log-level",
        "warning",
        "--preload",
        *options,
    ]
    os.execv(sys.executable, argv)  # noqa: S606 - our own interpreter, no shell


def main(argv: Sequence[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "retainer.settings")
    command, options = (args[0], args[1:]) if args else ("--help", [])
    if command in ("-h", "--help"):
        sys.stdout.write(USAGE)
    elif command == "serve":
        serve(options)
    elif command == "worker":
        manage("run_huey", *options)
    elif command == "demo":
        manage("migrate", "--no-input", "--verbosity", "0")
        manage("collectstatic", "--no-input", "--verbosity", "0")
        manage("build_demo", *options)
    else:
        manage(command, *options)


if __name__ == "__main__":
    main()
