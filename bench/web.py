"""What the HTTP benchmarks share: a signed-in client on one keep-alive connection, and a
gunicorn server started the way the product starts it, with its processes' memory."""

from __future__ import annotations

import http.client
import os
import re
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")


class Session:
    """One client: a keep-alive connection with its cookies (session and CSRF)."""

    def __init__(self, port: int, timeout: float = 30) -> None:
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        self.cookies: dict[str, str] = {}

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, bytes]:
        headers = dict(headers or {})
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if method != "GET":
            headers.setdefault("X-CSRFToken", self.cookies.get("csrftoken", ""))
            headers.setdefault("Referer", f"http://127.0.0.1:{self.port}/")
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()  # the next request connects again
            raise
        for header in response.headers.get_all("Set-Cookie") or []:
            name, value = header.split(";", 1)[0].split("=", 1)
            self.cookies[name] = value
        return response.status, data

    def login(self, email: str, password: str) -> None:
        self.request("GET", "/login/")
        form = (
            f"username={quote(email)}&password={quote(password)}"
            f"&csrfmiddlewaretoken={self.cookies['csrftoken']}"
        )
        status, _ = self.request(
            "POST", "/login/", form.encode(), {"Content-Type": "application/x-www-form-urlencoded"}
        )
        if status != 302:
            raise RuntimeError(f"sign-in as {email} answered {status}")

    def links(self, path: str, pattern: str) -> list[str]:
        """The distinct links on a page that match ``pattern`` (a regex over hrefs)."""
        _, html = self.request("GET", path)
        return sorted(set(re.findall(rf'href="({pattern})"', html.decode())))


def start_server(env: dict[str, str], port: int, workers: int) -> subprocess.Popen[bytes]:
    """``retainer serve`` (the product's own gunicorn command line), ready to answer."""
    env = {
        # The API's rate limits count as in production, with budgets no benchmark spends.
        "RETAINER_API_READS_PER_MINUTE": str(10**9),
        "RETAINER_API_WRITES_PER_MINUTE": str(10**9),
        **env,
        "RETAINER_PORT": str(port),
        "RETAINER_WORKERS": str(workers),
    }
    server = subprocess.Popen(
        [PYTHON, "-m", "retainer", "serve", "--access-logfile", "/dev/null"], cwd=ROOT, env=env
    )
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise RuntimeError("the server did not start")


def hello_env(env: dict[str, str], only: bool = False) -> dict[str, str]:
    """The environment of a server that also answers ``/bench/hello`` (see hello_settings)."""
    bench = str(Path(__file__).resolve().parent)
    return {
        **env,
        "DJANGO_SETTINGS_MODULE": "hello_settings",
        "PYTHONPATH": os.pathsep.join(filter(None, [bench, env.get("PYTHONPATH")])),
        "BENCH_HELLO_ONLY": "1" if only else "0",
    }


def process_tree(pid: int) -> list[int]:
    """``pid`` and its children (gunicorn's master and its workers)."""
    children: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        children.extend(int(child) for child in text)
    return [pid, *children]


def pss_kib(pid: int) -> int:
    """Proportional set size: private pages plus an equal share of the shared ones."""
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1])
    raise RuntimeError(f"no Pss in /proc/{pid}/smaps_rollup")


def written_bytes(pids: list[int]) -> int:
    """Bytes the processes caused to be written to storage so far (``/proc/<pid>/io``)."""
    total = 0
    for pid in pids:
        for line in Path(f"/proc/{pid}/io").read_text().splitlines():
            if line.startswith("write_bytes:"):
                total += int(line.split()[1])
    return total
