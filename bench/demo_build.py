"""How long the demo data set takes to build at a given scale, on a fresh database.

    python bench/demo_build.py --scale 2500          # 100,000 organizations (SQLite)
    DATABASE_URL=postgres://... python bench/demo_build.py --scale 2500

Budget (foundation issue): 100k organizations in minutes, not hours — here 20 minutes
for the whole demo at that scale (contracts, about a million cases and billed months too).
Prints: demo_build db=… scale=… organizations=… contacts=… seconds=… budget_s=…
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUDGET_SECONDS = 1200


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=int, default=2500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "RETAINER_VAR_DIR": tmp}
        python = [sys.executable, str(ROOT / "manage.py")]
        subprocess.run([*python, "migrate", "-v0"], env=env, check=True, cwd=ROOT)
        started = time.monotonic()
        subprocess.run(
            [*python, "build_demo", "--scale", str(args.scale), "--quiet"],
            env=env,
            check=True,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        seconds = time.monotonic() - started
        counts = subprocess.run(
            [
                *python,
                "shell",
                "-v0",
                "-c",
                "from retainer.accounts.models import Organization, Contact; "
                "print(Organization.objects.count(), Contact.objects.count())",
            ],
            env=env,
            check=True,
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.split()
    db = "postgres" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite"
    print(
        f"demo_build db={db} scale={args.scale} organizations={counts[0]} contacts={counts[1]} "
        f"seconds={seconds:.1f} budget_s={BUDGET_SECONDS} {'ok' if seconds <= BUDGET_SECONDS else 'OVER BUDGET'}"
    )
    return 0 if seconds <= BUDGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
