"""``manage.py backup`` and ``manage.py restore``: the archive, and every refusal of a
restore, which must leave the database and the media folder as they were."""

from __future__ import annotations

import hashlib
import io
import json
import os
import sqlite3
import subprocess
import sys
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from conftest import ROOT, Cast
from retainer.billing.models import Invoice
from retainer.cases.models import Case
from retainer.contracts.models import Contract
from retainer.project import backups


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    root = tmp_path / "media"
    (root / "attachments" / "2026" / "11").mkdir(parents=True)
    (root / "attachments" / "2026" / "11" / f"{'a' * 32}.bin").write_bytes(b"a stored file\n")
    (root / "attachments" / "2026" / "11" / f".{'b' * 32}.bin.part").write_bytes(b"half")
    settings.MEDIA_ROOT = root
    return root


@pytest.fixture
def archive(transactional_db: None, cast: Cast, media: Path, tmp_path: Path) -> Path:
    # Committed rows: the copy reads the database as another process would.
    out = io.StringIO()
    call_command("backup", output=tmp_path / "backups", stdout=out)
    return Path(out.getvalue().split("Backup written: ", 1)[1].split()[0])


def members(path: Path) -> dict[str, bytes]:
    with tarfile.open(path) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers()}  # type: ignore[union-attr]


def write(path: Path, content: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in content.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def state(media: Path) -> tuple[Any, ...]:
    files = sorted(str(p.relative_to(media.parent)) for p in media.parent.rglob("*"))
    return (Case.objects.count(), Contract.objects.count(), Invoice.objects.count(), files)


def test_a_backup_is_one_archive_with_the_database_the_media_files_and_a_manifest(
    archive: Path, media: Path
) -> None:
    content = members(archive)
    manifest = json.loads(content.pop("manifest.json"))
    database = "database.sqlite3" if connection.vendor == "sqlite" else "database.pgdump"
    assert set(content) == {database, f"media/attachments/2026/11/{'a' * 32}.bin"}  # no .part
    assert manifest["format_version"] == 1
    assert manifest["database"]["vendor"] == connection.vendor
    applied = {(app, name) for app, names in manifest["migrations"].items() for name in names}
    assert {m for m in applied if m[0] == "cases"} == {
        m for m in backups.code_migrations() if m[0] == "cases"
    }
    assert set(manifest["counts"]) == {"cases", "contracts", "invoices"}
    for name, data in content.items():
        assert manifest["files"][name] == {
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
        }
    assert archive.stat().st_mode & 0o777 == 0o600  # it holds password hashes


def tamper_truncate(path: Path) -> Path:
    data = path.read_bytes()
    return write_bytes(path, data[: len(data) // 2])


def write_bytes(path: Path, data: bytes) -> Path:
    target = path.with_name("tampered.tar.gz")
    target.write_bytes(data)
    return target


def tamper_garbage(path: Path) -> Path:
    return write_bytes(path, b"not an archive at all\n" * 100)


def tamper_checksum(path: Path) -> Path:
    content = members(path)
    name = next(n for n in content if n.startswith("media/"))
    content[name] = b"a changed file\n"
    return write(path.with_name("tampered.tar.gz"), content)


def tamper_vendor(path: Path) -> Path:
    content = members(path)
    manifest = json.loads(content["manifest.json"])
    other = "postgresql" if connection.vendor == "sqlite" else "sqlite"
    ours, theirs = backups.DATABASE_MEMBERS[connection.vendor], backups.DATABASE_MEMBERS[other]
    content[theirs] = content.pop(ours)
    manifest["files"][theirs] = manifest["files"].pop(ours)
    manifest["database"] = {"vendor": other, "member": theirs}
    content["manifest.json"] = json.dumps(manifest).encode()
    return write(path.with_name("tampered.tar.gz"), content)


def tamper_migrations(path: Path) -> Path:
    content = members(path)
    manifest = json.loads(content["manifest.json"])
    manifest["migrations"]["cases"].append("9999_from_a_newer_version")
    content["manifest.json"] = json.dumps(manifest).encode()
    return write(path.with_name("tampered.tar.gz"), content)


def tamper_escape(path: Path) -> Path:
    content = members(path)
    manifest = json.loads(content["manifest.json"])
    content["media/../../escaped.txt"] = b"outside"
    manifest["files"]["media/../../escaped.txt"] = {
        "size": 7,
        "sha256": hashlib.sha256(b"outside").hexdigest(),
    }
    content["manifest.json"] = json.dumps(manifest).encode()
    return write(path.with_name("tampered.tar.gz"), content)


def tamper_nothing(path: Path) -> Path:
    return path


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        (tamper_truncate, "is damaged or not a Retainer backup"),
        (tamper_garbage, "is damaged or not a Retainer backup"),
        (tamper_checksum, "Checksum mismatch for media/attachments"),
        (tamper_vendor, "backup; this instance runs on"),
        (tamper_migrations, "cases.9999_from_a_newer_version"),
        (tamper_escape, "outside the media folder"),
        # A good archive into this (non-empty) database without --yes.
        (tamper_nothing, "The database is not empty"),
    ],
)
def test_a_restore_refuses_and_changes_nothing(
    archive: Path, media: Path, tamper: Callable[[Path], Path], message: str
) -> None:
    bad = tamper(archive)
    before = state(media)
    with pytest.raises(CommandError, match=message):
        call_command("restore", str(bad), stdout=io.StringIO())
    assert state(media) == before  # no row, no file, no staging folder left behind


def test_a_refused_restore_exits_with_an_error_status(tmp_path: Path) -> None:
    bad = tmp_path / "bad.tar.gz"
    bad.write_bytes(b"garbage")
    env = {**os.environ, "RETAINER_VAR_DIR": str(tmp_path / "var")}
    result = subprocess.run(
        [sys.executable, "manage.py", "restore", str(bad)], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert "CommandError" in result.stderr and "damaged" in result.stderr


def test_a_sqlite_database_another_process_has_open_is_not_replaced(tmp_path: Path) -> None:
    target = tmp_path / "retainer.sqlite3"
    other = sqlite3.connect(target, isolation_level=None)
    other.execute("PRAGMA journal_mode=WAL")
    other.execute("CREATE TABLE t (a)")
    other.execute("INSERT INTO t VALUES (1)")
    with (
        pytest.raises(backups.BackupRefused, match="Another process uses the database"),
        backups._sqlite_held(target),
    ):
        pass
    other.close()
    with backups._sqlite_held(target):  # once it is closed, the swap may go ahead
        assert not Path(f"{target}-wal").exists()  # the log was folded into the old file


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL sessions")
def test_a_postgresql_database_other_sessions_use_is_not_replaced(db: None) -> None:
    with backups._pg_connect() as other:
        other.execute("SELECT 1")
        with pytest.raises(backups.BackupRefused, match="other session"):
            backups._refuse_if_busy_postgresql()
