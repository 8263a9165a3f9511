"""The README's first command: the demo served with its job worker, one Ctrl-C stops both."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback
            return response.status, response.read()
    except OSError:
        return 0, b""


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.slow
@pytest.mark.skipif(
    os.environ.get("RETAINER_TEST_DB") == "postgres",
    reason="the first command runs the embedded default (SQLite); the SQLite pass runs it",
)
def first_run_environment(var_dir: Path, port: int) -> dict[str, str]:
    """The environment of a user's first ``scripts/run.sh``: the embedded defaults, none of
    the test run's settings, and a shell whose PATH has no virtual environment in it."""
    skip = ("DATABASE_URL", "REDIS_URL", "RETAINER_JOBS_IMMEDIATE", "RETAINER_MEDIA_DIR")
    environ = {k: v for k, v in os.environ.items() if k not in skip and k != "VIRTUAL_ENV"}
    venv_bin = str(ROOT / ".venv" / "bin")
    environ["PATH"] = os.pathsep.join(
        part for part in environ.get("PATH", "").split(os.pathsep) if part != venv_bin
    )
    environ.update(RETAINER_VAR_DIR=str(var_dir), RETAINER_PORT=str(port))
    return environ


def test_the_first_command_serves_the_demo_with_a_live_worker_and_ctrl_c_stops_both(
    tmp_path: Path,
) -> None:
    port = _free_port()
    environ = first_run_environment(tmp_path / "var", port)
    log = tmp_path / "run.log"
    # A session of its own, like a terminal's foreground group: Ctrl-C reaches all of it.
    process = subprocess.Popen(
        ["/bin/bash", "scripts/run.sh"],
        cwd=ROOT,
        env=environ,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 240
        worker: dict[str, object] = {}
        while not worker.get("alive"):
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.5)
            status, body = _get(f"http://127.0.0.1:{port}/healthz")
            if status == 200:
                worker = json.loads(body)["worker"]
        assert _get(f"http://127.0.0.1:{port}/login/")[0] == 200
        output = log.read_text()
        assert "admin@northwind.example" in output, "the logins are printed"
        assert "Scheduler" in output, "the worker runs the periodic scheduler"
    finally:
        if _group_alive(process.pid):
            os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            raise
    deadline = time.monotonic() + 30
    while _group_alive(process.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _group_alive(process.pid), "a server or worker process outlived Ctrl-C"
