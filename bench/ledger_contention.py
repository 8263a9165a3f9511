"""Many real processes consume from one contract at once: nothing may be lost or doubled.

    python bench/ledger_contention.py --db sqlite|postgres [--workers 8] [--ops 4000] [--kill]

Each worker is a separate process that sets Django up itself and calls the real
action (``retainer.contracts.actions.do_consume``) once per operation with its own
idempotency key, writing every acknowledged key to a file; every tenth operation it
also replays an earlier key, which must be a no-op. The contract's allowance is half
the operations, so the run crosses from covered to billable overage under contention.

- sqlite: a temporary database file created by ``migrate`` (WAL, BEGIN IMMEDIATE).
- postgres: a new database ``retainer_contention_<random>`` on the server of
  ``--database-url`` or ``DATABASE_URL``, or on a throwaway cluster started with
  ``scripts/pg-throwaway.sh`` when neither is set; dropped afterwards.

``--kill`` sends SIGKILL to half of the workers mid-run, checks that every
acknowledged movement is in the ledger exactly once, then replays the killed
workers' keys and checks the ledger again.

The last line is ``ledger_contention db=… workers=… ops=… lost=… doubled=… ops_per_s=…``.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import shutil
import signal
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from targets import Target

ROOT = Path(__file__).resolve().parent.parent
REPLAY_EVERY = 10


def _django(env: dict[str, str | None]) -> None:
    """Configure this process for the target database and set Django up."""
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


def _setup(env: dict[str, str | None], grant: int) -> int:
    """Migrate the empty database and sell one bank contract; return its id."""
    _django(env)
    import datetime as dt
    from decimal import Decimal

    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    from retainer.accounts.actions import do_create_organization
    from retainer.catalog.actions import do_save_product
    from retainer.contracts.actions import do_create_contract

    organization = do_create_organization(name="Contention Ltd", currency="EUR", actor=None)
    product = do_save_product(
        None, actor=None, name="Bench", code="bench", list_price=Decimal(1), currency="EUR"
    )
    contract = do_create_contract(
        organization=organization,
        preset="bank",
        start_date=dt.date(2026, 1, 1),
        covered_products=[product],
        terms={
            "quantity": grant,
            "exhaustion_policy": "bill",
            "overage_rate": "100",
            "low_balance_threshold": max(grant // 10, 1),
        },
        actor=None,
    )
    return contract.pk


def _worker(
    env: dict[str, str | None], contract_id: int, keys: list[str], ack: str, go: Any = None
) -> None:
    """Consume one incident per key; append each acknowledged key to ``ack``."""
    _django(env)
    from django.db import OperationalError, close_old_connections

    from retainer.contracts.actions import do_consume

    if go is not None:
        go.wait()  # start together, after every worker has set Django up

    def consume(key: str) -> bool:
        for attempt in range(100):
            try:
                movement = do_consume(
                    contract_id, quantity=1, key=key, source_type="case", source_id=key, actor=None
                )
                return movement.replayed
            except OperationalError:  # lock timeout under heavy contention: retry, same key
                close_old_connections()
                time.sleep(0.01 * (attempt + 1))
        raise RuntimeError(f"gave up on {key}")

    with open(ack, "a", encoding="utf-8") as out:
        for index, key in enumerate(keys):
            consume(key)
            out.write(f"{key}\n")
            out.flush()
            if index and index % REPLAY_EVERY == 0:
                earlier = keys[index // 2]
                if not consume(earlier):  # an acknowledged key applied a second time
                    out.write(f"DUP {earlier}\n")
                    out.flush()


@dataclass
class Verdict:
    lost: int
    doubled: int
    problems: list[str]


def _verify(
    env: dict[str, str | None],
    contract_id: int,
    grant: int,
    must_have: list[str],
    duplicates: int,
) -> Verdict:
    """Compare the ledger with the keys that must be in it exactly once."""
    _django(env)
    from django.db.models import Sum

    from retainer.contracts.models import Contract, LedgerEntry

    contract = Contract.objects.get(pk=contract_id)
    rows = list(
        LedgerEntry.objects.filter(contract=contract, kind="consume").values_list(
            "key", "quantity", "overage_quantity"
        )
    )
    keys = [key for key, _, _ in rows]
    present = set(keys)
    consumed = sum(-quantity + overage for _, quantity, overage in rows)
    covered = sum(-quantity for _, quantity, _ in rows)
    total = LedgerEntry.objects.filter(contract=contract).aggregate(s=Sum("quantity"))["s"] or 0
    problems = []
    lost = len(set(must_have) - present)
    doubled = duplicates + (len(keys) - len(present)) + max(0, consumed - len(present))
    lost += max(0, len(present) - consumed)
    if contract.balance != total:
        problems.append(f"cached balance {contract.balance} != sum of entries {total}")
    if covered != min(grant, len(present)):
        problems.append(f"covered {covered} != min(grant {grant}, consumed {len(present)})")
    if contract.balance < 0:
        problems.append(f"balance went negative: {contract.balance}")
    return Verdict(lost=lost, doubled=doubled, problems=problems)


def _read_acks(paths: list[Path]) -> tuple[list[str], int]:
    acked: list[str] = []
    duplicates = 0
    for path in paths:
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.startswith("DUP "):
                    duplicates += 1
                elif line:
                    acked.append(line)
    return acked, duplicates


def run(db: str, workers: int, ops: int, kill: bool, database_url: str | None) -> dict[str, Any]:
    spawn = mp.get_context("spawn")
    tmp = Path(tempfile.mkdtemp(prefix="ledger-contention-"))
    tmp.chmod(0o755)  # a throwaway cluster runs as the postgres user and must reach it
    target = Target(db, database_url, tmp)
    try:
        grant = ops // 2
        with ProcessPoolExecutor(1, mp_context=spawn) as pool:
            contract_id = pool.submit(_setup, target.env, grant).result()
        plans = [
            [f"w{w}:op{i}" for i in range(w, ops, workers)] for w in range(workers)
        ]  # every key once, spread over the workers
        acks = [tmp / f"ack-{w}.txt" for w in range(workers)]
        go = spawn.Barrier(workers + 1)
        processes = [
            spawn.Process(
                target=_worker, args=(target.env, contract_id, plans[w], str(acks[w]), go)
            )
            for w in range(workers)
        ]
        for process in processes:
            process.start()
        go.wait()
        started = time.monotonic()
        killed: list[int] = []
        if kill:
            while sum(len(a.read_text().splitlines()) for a in acks if a.exists()) < ops // 4:
                if not any(p.is_alive() for p in processes):
                    break
                time.sleep(0.005)
            for w in range(0, workers, 2):
                pid = processes[w].pid
                if processes[w].is_alive() and pid is not None:
                    os.kill(pid, signal.SIGKILL)
                    killed.append(w)
        for process in processes:
            process.join()
        elapsed = time.monotonic() - started
        failed = [w for w, p in enumerate(processes) if p.exitcode != 0 and w not in killed]
        if failed:
            raise SystemExit(f"workers {failed} failed")
        acked, duplicates = _read_acks(acks)
        with ProcessPoolExecutor(1, mp_context=spawn) as pool:
            after_kill = pool.submit(
                _verify, target.env, contract_id, grant, acked, duplicates
            ).result()
        verdict = after_kill
        if killed:
            replays = [
                spawn.Process(
                    target=_worker,
                    args=(target.env, contract_id, plans[w], str(tmp / f"replay-{w}.txt")),
                )
                for w in killed
            ]
            for process in replays:
                process.start()
            for process in replays:
                process.join()
            _, replay_duplicates = _read_acks([tmp / f"replay-{w}.txt" for w in killed])
            every_key = [key for plan in plans for key in plan]
            with ProcessPoolExecutor(1, mp_context=spawn) as pool:
                verdict = pool.submit(
                    _verify, target.env, contract_id, grant, every_key, duplicates
                ).result()
            verdict.lost += after_kill.lost
            verdict.doubled += after_kill.doubled + replay_duplicates
            verdict.problems += after_kill.problems
        else:
            every_key = [key for plan in plans for key in plan]
            with ProcessPoolExecutor(1, mp_context=spawn) as pool:
                verdict = pool.submit(
                    _verify, target.env, contract_id, grant, every_key, duplicates
                ).result()
        return {
            "db": db,
            "workers": workers,
            "ops": ops,
            "lost": verdict.lost,
            "doubled": verdict.doubled,
            "killed": len(killed),
            "acked": len(acked) if kill else None,
            "ops_per_s": round(ops / elapsed) if not kill else round(len(acked) / elapsed),
            "problems": verdict.problems,
        }
    finally:
        target.close()
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--ops", type=int, default=4000, help="Total operations over all workers.")
    parser.add_argument("--kill", action="store_true", help="SIGKILL half the workers mid-run.")
    parser.add_argument("--database-url", help="PostgreSQL server to create the database on.")
    args = parser.parse_args(argv)
    result = run(args.db, args.workers, args.ops, args.kill, args.database_url)
    for problem in result["problems"]:
        print(f"problem: {problem}")
    extra = f" killed={result['killed']} acked={result['acked']}"
    print(
        f"ledger_contention db={result['db']} workers={result['workers']} ops={result['ops']} "
        f"lost={result['lost']} doubled={result['doubled']} ops_per_s={result['ops_per_s']}"
        + (extra if args.kill else "")
    )
    return 0 if not result["problems"] and not result["lost"] and not result["doubled"] else 1


if __name__ == "__main__":
    sys.exit(main())
