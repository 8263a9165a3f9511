"""The settings module fails loudly in production when secrets are missing."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def load_settings(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {
        k: v
        for k, v in os.environ.items()
        if k not in ("SECRET_KEY", "DATABASE_URL", "ALLOWED_HOSTS")
    }
    environ.update(RETAINER_VAR_DIR=str(tmp_path / "var"), **env)
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import retainer.settings as s; print(s.SECRET_KEY[:6], s.DATABASES['default']['ENGINE'])",
        ],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        check=False,
    )


def test_production_without_a_secret_key_refuses_to_start(tmp_path):
    result = load_settings(tmp_path, RETAINER_MODE="production", ALLOWED_HOSTS="x.example")
    assert result.returncode != 0
    assert "SECRET_KEY is required but not set" in result.stderr


def test_production_rejects_a_short_secret_key(tmp_path):
    result = load_settings(
        tmp_path, RETAINER_MODE="production", SECRET_KEY="short", ALLOWED_HOSTS="x.example"
    )
    assert "SECRET_KEY must be at least 50 characters" in result.stderr


def test_the_demo_generates_a_secret_key_once_and_keeps_it(tmp_path):
    first = load_settings(tmp_path)
    second = load_settings(tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    key_file = tmp_path / "var" / "secret_key"
    assert key_file.stat().st_mode & 0o077 == 0


def test_database_url_picks_postgresql(tmp_path):
    result = load_settings(tmp_path, DATABASE_URL="postgres://u@127.0.0.1:5432/retainer")
    assert result.returncode == 0, result.stderr
    assert "django.db.backends.postgresql" in result.stdout


def test_without_database_url_sqlite_lives_in_var(tmp_path):
    result = load_settings(tmp_path)
    assert "retainer.lib.sqlite" in result.stdout


def test_a_malformed_database_url_is_rejected(tmp_path):
    result = load_settings(tmp_path, DATABASE_URL="oracle://x")
    assert result.returncode != 0
    assert "DATABASE_URL must be a URL starting with one of" in result.stderr
