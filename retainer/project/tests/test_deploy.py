"""The production recipe's files: systemd units that systemd accepts, an nginx site that
nginx accepts, and a docs/deploy.md that lists every environment variable and unit."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from conftest import ROOT, require_program

DEPLOY = ROOT / "deploy"
DOC = (ROOT / "docs" / "deploy.md").read_text()
UNITS = sorted(p for p in DEPLOY.iterdir() if p.suffix in (".service", ".timer"))
#: Every variable the code reads through ``retainer.lib.env``.
ENV_READ = re.compile(r"\benv\.[a-z_]+\(\s*\"([A-Z][A-Z0-9_]+)\"")


def require(program: str) -> str:
    return require_program(program, program, "check the deploy files")


def installed(unit: Path, tmp_path: Path) -> Path:
    """The unit as installed: paths into this checkout (its venv exists here), a
    template under an instance name."""
    name = unit.name.replace("@.", "@8001.")
    target = tmp_path / name
    target.write_text(unit.read_text().replace("/opt/retainer", str(ROOT)))
    return target


def test_systemd_accepts_every_unit_file(tmp_path: Path) -> None:
    systemd_analyze = require("systemd-analyze")
    assert {u.name for u in UNITS} >= {
        "retainer-web@.service",
        "retainer-worker@.service",
        "retainer-scheduler.service",
        "retainer-backup.service",
        "retainer-backup.timer",
    }
    paths = [str(installed(unit, tmp_path)) for unit in UNITS]
    result = subprocess.run(
        [systemd_analyze, "verify", *paths], capture_output=True, text=True, timeout=60,
        check=False, cwd=tmp_path,
    )  # fmt: skip
    # verify fails only on missing programs; unknown keys and bad values are warnings.
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr


def test_exactly_one_unit_runs_the_scheduler() -> None:
    consumers = {u.name: u.read_text() for u in UNITS if "-m retainer worker" in u.read_text()}
    with_scheduler = [name for name, text in consumers.items() if "worker -n" not in text]
    assert with_scheduler == ["retainer-scheduler.service"]
    assert "@" not in with_scheduler[0]  # not a template: one instance only


def test_nginx_accepts_the_site(tmp_path: Path) -> None:
    nginx, openssl = require("nginx"), require("openssl")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=support.example.com", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    site = (DEPLOY / "nginx-retainer.conf").read_text()
    site = re.sub(r"ssl_certificate\s+\S+;", f"ssl_certificate {cert};", site)
    site = re.sub(r"ssl_certificate_key\s+\S+;", f"ssl_certificate_key {key};", site)
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log stderr;\nevents {{}}\n"
        f"http {{\n  access_log off;\n  include {tmp_path}/site.conf;\n}}\n"
    )
    result = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr


def test_the_recipe_lists_every_environment_variable_and_file() -> None:
    read = set()
    for module in (ROOT / "retainer").rglob("*.py"):
        if "tests" not in module.parts:
            read |= set(ENV_READ.findall(module.read_text()))
    assert "DATABASE_URL" in read and "RETAINER_MODE" in read  # the pattern finds them
    missing = sorted(name for name in read if f"`{name}`" not in DOC)
    assert missing == [], f"docs/deploy.md does not list {missing}"
    for path in DEPLOY.iterdir():
        assert f"`{path.name}`" in DOC, f"docs/deploy.md does not mention deploy/{path.name}"
