"""Structural rules of the code base and the ``retainer`` command.

The import layering is checked by ``lint-imports`` in ``scripts/test.sh`` (contract in
``pyproject.toml``); this module checks what import-linter cannot.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from retainer import __main__ as command

ROOT = Path(__file__).resolve().parent.parent
MAX_FUNCTION_LINES = 80

# Functions allowed to stay longer than MAX_FUNCTION_LINES, with the reason. Shrink it:
# an entry whose function got short (or went away) fails the test until it is removed.
# docs/architecture.md ("Long functions") repeats this list.
LONG_FUNCTIONS: dict[str, str] = {
    # "retainer/<app>/<module>.py:<function>": "why it is long",
}


def _functions(tree: ast.AST, prefix: str = "") -> Iterator[tuple[str, int]]:
    """(qualified name, length in lines from ``def`` to the last line) of every function
    and method, nested ones included."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            name = prefix + node.name
            yield name, (node.end_lineno or node.lineno) - node.lineno + 1
            yield from _functions(node, name + ".")
        elif isinstance(node, ast.ClassDef):
            yield from _functions(node, prefix + node.name + ".")
        else:
            yield from _functions(node, prefix)


def _function_lengths() -> dict[str, int]:
    lengths = {}
    for path in sorted((ROOT / "retainer").rglob("*.py")):
        relative = path.relative_to(ROOT)
        if {"migrations", "tests"} & set(relative.parts):
            continue
        for name, length in _functions(ast.parse(path.read_text(), str(relative))):
            lengths[f"{relative.as_posix()}:{name}"] = length
    return lengths


def test_no_function_is_longer_than_80_lines_except_the_listed_ones():
    lengths = _function_lengths()
    too_long = {
        name: length
        for name, length in lengths.items()
        if length > MAX_FUNCTION_LINES and name not in LONG_FUNCTIONS
    }
    assert not too_long, f"split these functions (lines): {too_long}"
    fixed = [name for name in LONG_FUNCTIONS if lengths.get(name, 0) <= MAX_FUNCTION_LINES]
    assert not fixed, f"no longer too long, remove from LONG_FUNCTIONS: {fixed}"


def test_the_architecture_guide_lists_every_long_function():
    guide = (ROOT / "docs" / "architecture.md").read_text()
    assert [name for name in LONG_FUNCTIONS if f"`{name}`" not in guide] == []


def run_retainer(*args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    environ["RETAINER_VAR_DIR"] = str(tmp_path / "var")
    return subprocess.run(
        [sys.executable, "-m", "retainer", *args],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_python_m_retainer_help_names_its_own_commands(tmp_path):
    result = run_retainer("--help", tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    for name in ("serve", "worker", "demo", "management command"):
        assert name in result.stdout


def test_python_m_retainer_passes_other_commands_to_django(tmp_path):
    result = run_retainer("check", tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout
    unknown = run_retainer("no_such_command", tmp_path=tmp_path)
    assert unknown.returncode != 0
    assert "Unknown command" in unknown.stderr


def test_serve_runs_gunicorn_on_the_configured_address(monkeypatch):
    calls: list[list[str]] = []
    monkeypatch.setattr(command.os, "execv", lambda path, argv: calls.append(argv))
    monkeypatch.setenv("RETAINER_HOST", "10.1.2.3")
    monkeypatch.setenv("RETAINER_PORT", "8123")
    monkeypatch.setenv("RETAINER_WORKERS", "3")
    command.main(["serve", "--timeout", "5"])
    [argv] = calls
    assert argv[1:4] == ["-m", "gunicorn", "retainer.wsgi:application"]
    assert argv[argv.index("--bind") + 1] == "10.1.2.3:8123"
    assert argv[argv.index("--workers") + 1] == "3"
    assert argv[-2:] == ["--timeout", "5"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["worker", "-n"], [["run_huey", "-n"]]),
        (
            ["demo", "--scale", "2"],
            [
                ["migrate", "--no-input", "--verbosity", "0"],
                ["collectstatic", "--no-input", "--verbosity", "0"],
                ["build_demo", "--scale", "2"],
            ],
        ),
    ],
)
def test_worker_and_demo_run_their_management_commands(monkeypatch, args, expected):
    calls: list[list[str]] = []
    monkeypatch.setattr(command, "manage", lambda *argv: calls.append(list(argv)))
    command.main(args)
    assert calls == expected
