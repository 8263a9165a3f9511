"""A burst of e-mail in a real IMAP mailbox, polled by a worker killed again and again:
nothing may be lost or processed twice.

    python bench/mail_burst.py --db sqlite|postgres [--messages 2000] [--kills 5]

The messages (new requests from fifty people at a customer's domain, each with its own
Message-ID) are APPENDed to a real Dovecot mailbox (``retainer/mail/testing.py``, the
server the tests use) before the worker starts. The worker is a separate process running
the poll command (``manage.py poll_mailboxes``) in a loop, as the periodic job does; it
is killed with SIGKILL ``--kills`` times during the run, at random moments, and started
again, until every message is stored and processed.

Then every appended Message-ID must have exactly one stored message, processed, and one
case (``lost`` and ``duplicated`` count the others). ``messages_per_s`` is the messages
over the time from the first start of the worker to the last message processed, kills
and restarts included. Budget: 50 messages per second on SQLite.

The database is a new one for the run (``bench/targets.py``). The last line is
``mail_burst db=… received=… cases+replies=… lost=… duplicated=… messages_per_s=…``
followed by the kills made, the budget and the verdict.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path

from targets import Target

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BUDGET = 50.0  # messages per second, SQLite
PASSWORD_ENV = "RETAINER_BENCH_IMAP_PASSWORD"  # noqa: S105 - the variable's name
WORKER = (
    "import django, time\n"
    "django.setup()\n"
    "from django.core.management import call_command\n"
    "while True:\n"
    "    call_command('poll_mailboxes', verbosity=0)\n"
    "    time.sleep(0.05)\n"
)


def _django(env: dict[str, str | None]) -> None:
    for name, value in env.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    os.environ["DJANGO_SETTINGS_MODULE"] = "retainer.settings"
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def _setup(imap_host: str, imap_port: int, imap_user: str) -> None:
    """Migrate the empty database; an organization owning ``burst.example`` with a
    contract, and the IMAP mailbox opening cases on its product."""
    import datetime as dt
    from decimal import Decimal

    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    from retainer.accounts.actions import do_create_organization
    from retainer.catalog.actions import do_save_product
    from retainer.contracts.actions import do_create_contract
    from retainer.mail.actions import do_save_mailbox

    organization = do_create_organization(
        name="Burst Ltd", domains=["burst.example"], currency="EUR", actor=None
    )
    product = do_save_product(
        None, actor=None, name="Bench", code="bench", list_price=Decimal(1), currency="EUR"
    )
    do_create_contract(
        organization=organization,
        preset="subscription",
        start_date=dt.date.today() - dt.timedelta(days=30),  # noqa: DTZ011 - a date only
        covered_products=[product],
        actor=None,
    )
    do_save_mailbox(
        None,
        values={
            "name": "burst",
            "address": "support@vendor.example",
            "kind": "imap",
            "product": product,
            "imap_host": imap_host,
            "imap_port": imap_port,
            "imap_tls": False,
            "imap_folder": "INBOX",
            "imap_user": imap_user,
            "password_env": PASSWORD_ENV,
        },
        actor=None,
    )


def _messages(count: int, run: str) -> list[bytes]:
    out = []
    for n in range(count):
        msg = EmailMessage()
        msg["From"] = f"Person {n % 50} <person{n % 50}@burst.example>"
        msg["To"] = "support@vendor.example"
        msg["Subject"] = f"Export {n} fails at step {n % 7}"
        msg["Message-ID"] = f"<burst-{run}-{n}@client.example>"
        msg.set_content(f"Export number {n} stops with an error.\n\nRegards\n")
        out.append(msg.as_bytes())
    return out


def _progress() -> int:
    """Messages stored and processed (any status but ``received``)."""
    from retainer.mail.models import InboundMessage

    return InboundMessage.objects.exclude(status="received").count()


def _start_worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", WORKER],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _drive(env: dict[str, str], total: int, kills: int, seed: int) -> tuple[float, int]:
    """Run the worker until every message is processed, killing it ``kills`` times;
    returns the seconds it took and the kills made."""
    rng = random.Random(seed)
    started = time.monotonic()
    worker, made = _start_worker(env), 0
    next_kill = time.monotonic() + rng.uniform(1.5, 3.0)
    deadline = started + max(600, total)
    try:
        while _progress() < total:
            if time.monotonic() > deadline:
                raise SystemExit(f"mail_burst: only {_progress()} of {total} processed in time")
            if made < kills and time.monotonic() >= next_kill:
                worker.send_signal(signal.SIGKILL)
                worker.wait()
                made += 1
                worker = _start_worker(env)
                next_kill = time.monotonic() + rng.uniform(1.5, 3.0)
            time.sleep(0.05)
        return time.monotonic() - started, made
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()


def _count(ids: list[str]) -> dict[str, int]:
    from django.db.models import Count

    from retainer.cases.models import Case
    from retainer.mail.models import InboundMessage

    rows = InboundMessage.objects.filter(message_id__in=ids)
    stored = dict(rows.values_list("message_id").annotate(n=Count("id")))
    processed = set(rows.exclude(status="received").values_list("message_id", flat=True))
    cases = Case.objects.filter(channel="email").count()
    opened = rows.filter(outcome__in=["new_case", "reply"]).count()
    return {
        "received": len(stored),
        "cases+replies": cases,
        "lost": sum(1 for i in ids if i not in processed),
        "duplicated": sum(n - 1 for n in stored.values()) + max(cases - opened, 0),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--seed", type=int, default=12)
    args = parser.parse_args()

    from retainer.mail.testing import running_dovecot

    tmp = Path(tempfile.mkdtemp(prefix="retainer-mail-burst-"))
    target = Target(args.db, args.database_url, tmp, purpose="mail_burst")
    try:
        with running_dovecot() as imap:
            _django(target.env)
            _setup(imap.host, imap.port, imap.user)
            run = f"{args.seed}-{os.getpid()}"
            imap.append_many(_messages(args.messages, run))
            ids = [f"burst-{run}-{n}@client.example" for n in range(args.messages)]
            env = {k: v for k, v in os.environ.items() if k not in target.env}
            env.update({k: v for k, v in target.env.items() if v is not None})
            env.update({
                PASSWORD_ENV: imap.password,
                "DJANGO_SETTINGS_MODULE": "retainer.settings",
                "RETAINER_MAIL_RATE_PER_HOUR": str(10 * args.messages),  # one burst, many each
            })  # fmt: skip
            seconds, made = _drive(env, args.messages, args.kills, args.seed)
            counts = _count(ids)
    finally:
        target.close()
        shutil.rmtree(tmp, ignore_errors=True)
    rate = args.messages / seconds
    ok = (
        counts["lost"] == 0
        and counts["duplicated"] == 0
        and (args.db != "sqlite" or rate >= BUDGET)
    )
    verdict = "ok" if ok else "FAILED"
    print(
        f"{args.messages} messages, {made} kills, {seconds:.1f} s; budget ≥ {BUDGET:g}/s on SQLite"
    )
    print(
        f"mail_burst db={args.db} received={counts['received']} "
        f"cases+replies={counts['cases+replies']} lost={counts['lost']} "
        f"duplicated={counts['duplicated']} messages_per_s={rate:.1f} kills={made} "
        f"budget={BUDGET:g} verdict={verdict}"
    )
    return 0 if counts["lost"] == 0 and counts["duplicated"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
