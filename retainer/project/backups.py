"""Backups of an instance: its database and its uploaded files in one archive.

``manage.py backup`` writes ``retainer-<UTC time>-<vendor>.tar.gz`` holding

- ``database.sqlite3`` (SQLite: a copy made with SQLite's online backup API, one read
  transaction, so a copy taken while the server and the workers write is a consistent
  snapshot) or ``database.pgdump`` (PostgreSQL: ``pg_dump --format=custom`` of a snapshot
  that also gave the counts and the migration state of the manifest);
- ``media/…``, every file under ``MEDIA_ROOT``, copied *after* the database: a stored
  file is complete before a row names it, and never changes, so every file the database
  refers to is in the archive;
- ``manifest.json`` (last): the format version, the database vendor, the migrations
  applied per app, the time, counts of cases, contracts and invoices, and the size and
  SHA-256 of every other member.

``manage.py restore`` reads the whole archive into staging files beside their targets and
checks it before it changes anything: a damaged or truncated archive, a member whose
checksum differs, an archive of the other database vendor or one that holds migrations
this code does not know, a database that is not empty (without ``--yes``) or that another
process still uses are refused with :class:`BackupRefused`, and nothing is written. Then
it moves the files into ``MEDIA_ROOT`` and replaces the database in one step (SQLite: a
rename over the file; PostgreSQL: ``pg_restore --single-transaction``).

The job queue (``jobs.sqlite3`` or Redis) is not in the archive: the outbox sweep delivers
the events the restored database has not delivered, and the periodic jobs are idempotent.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import io
import json
import os
import secrets
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any

from django.apps import apps
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone

FORMAT = "retainer-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
MANIFEST_MAX_BYTES = 256 * 1024 * 1024
MEDIA_PREFIX = "media/"
DATABASE_MEMBERS = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
#: The rows a backup and a restore count, by the name they print.
COUNTED = {"cases": "cases.Case", "contracts": "contracts.Contract", "invoices": "billing.Invoice"}
CHUNK = 1024 * 1024
#: Options of a Django PostgreSQL connection that are not libpq parameters.
_DJANGO_ONLY_OPTIONS = {"pool", "server_side_binding", "assume_role", "isolation_level"}


class BackupRefused(Exception):
    """A backup or restore that cannot be done; nothing was changed."""


@dataclass(frozen=True)
class Result:
    """What a backup wrote or a restore put back."""

    path: Path
    size: int
    vendor: str
    counts: dict[str, int]
    media_files: int
    created_at: str
    pending_migrations: int = 0


# --- Small helpers ---------------------------------------------------------------------------


def _connection() -> Any:
    return connections[DEFAULT_DB_ALIAS]


def vendor() -> str:
    return str(_connection().vendor)


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def _count_sql() -> dict[str, str]:
    """Counting statements; the table names come from the models, never from input."""
    return {
        name: f'SELECT COUNT(*) FROM "{apps.get_model(label)._meta.db_table}"'  # noqa: S608
        for name, label in COUNTED.items()
    }


def _read_state(cursor: Any) -> tuple[dict[str, list[str]], dict[str, int]]:
    """The applied migrations per app and the counted rows, read through ``cursor``."""
    cursor.execute('SELECT app, name FROM "django_migrations" ORDER BY app, id')
    migrations: dict[str, list[str]] = {}
    for app, name in cursor.fetchall():
        migrations.setdefault(app, []).append(name)
    counts = {}
    for name, sql in _count_sql().items():
        cursor.execute(sql)
        counts[name] = int(cursor.fetchone()[0])
    return migrations, counts


def media_root() -> Path:
    return Path(settings.MEDIA_ROOT)


def _media_files(root: Path) -> list[Path]:
    """Every stored file under ``root`` (relative), without hidden ones: an upload in
    progress is a hidden ``.….part`` file, and restore staging folders are hidden too."""
    if not root.is_dir():
        return []
    found = []
    for directory, subdirs, files in os.walk(root):
        subdirs[:] = sorted(d for d in subdirs if not d.startswith("."))
        for name in sorted(files):
            path = Path(directory) / name
            if not name.startswith(".") and path.is_file() and not path.is_symlink():
                found.append(path.relative_to(root))
    return found


# --- PostgreSQL ------------------------------------------------------------------------------


def pg_binary(name: str) -> str:
    """``pg_dump``/``pg_restore`` from ``PATH``, else the newest of Debian's
    ``/usr/lib/postgresql/<version>/bin`` (where ``scripts/pg-throwaway.sh bindir`` looks)."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(
        Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
        key=lambda p: [int(x) if x.isdigit() else 0 for x in p.parts[-3].split(".")],
    )
    if candidates:
        return str(candidates[-1])
    raise BackupRefused(
        f"{name} was not found on PATH or under /usr/lib/postgresql/*/bin "
        "(Debian: apt-get install postgresql-client)."
    )


def _pg_settings() -> dict[str, Any]:
    return dict(_connection().settings_dict)


def pg_environment() -> dict[str, str]:
    """libpq's environment for the configured database; the password travels in
    ``PGPASSWORD``, never on a command line."""
    db = _pg_settings()
    env = dict(os.environ)
    values = {
        "PGDATABASE": db.get("NAME"),
        "PGUSER": db.get("USER"),
        "PGPASSWORD": db.get("PASSWORD"),
        "PGHOST": db.get("HOST"),
        "PGPORT": db.get("PORT"),
    }
    options = db.get("OPTIONS") or {}
    for option, variable in (
        ("sslmode", "PGSSLMODE"),
        ("sslrootcert", "PGSSLROOTCERT"),
        ("sslcert", "PGSSLCERT"),
        ("sslkey", "PGSSLKEY"),
        ("connect_timeout", "PGCONNECT_TIMEOUT"),
    ):
        values[variable] = options.get(option)
    for variable, value in values.items():
        if value not in (None, ""):
            env[variable] = str(value)
        else:
            env.pop(variable, None)
    return env


def _pg_connect() -> Any:
    import psycopg

    db = _pg_settings()
    options = {k: v for k, v in (db.get("OPTIONS") or {}).items() if k not in _DJANGO_ONLY_OPTIONS}
    params = {
        "dbname": db.get("NAME"),
        "user": db.get("USER") or None,
        "password": db.get("PASSWORD") or None,
        "host": db.get("HOST") or None,
        "port": db.get("PORT") or None,
        **options,
    }
    return psycopg.connect(**{k: v for k, v in params.items() if v is not None})


def _run(argv: list[str], env: dict[str, str], what: str) -> None:
    result = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise BackupRefused(f"{what} failed (exit {result.returncode}): {result.stderr.strip()}")


def _dump_postgresql(target: Path) -> tuple[dict[str, list[str]], dict[str, int]]:
    """``pg_dump`` of one snapshot, which also gives the migrations and the counts."""
    import psycopg

    conn = _pg_connect()
    try:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        with conn.cursor() as cursor:
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
            migrations, counts = _read_state(cursor)
        _run(
            [pg_binary("pg_dump"), "--format=custom", f"--snapshot={snapshot}",
             "--no-owner", "--no-privileges", f"--file={target}"],
            pg_environment(), "pg_dump",
        )  # fmt: skip
    finally:
        conn.rollback()
        conn.close()
    return migrations, counts


# --- SQLite ----------------------------------------------------------------------------------


def _copy_sqlite(target: Path) -> tuple[dict[str, list[str]], dict[str, int]]:
    """Copy the database with SQLite's online backup API in one step (one read
    transaction: writers carry on in WAL mode, the copy is one consistent snapshot)."""
    django_connection = _connection()
    if django_connection.in_atomic_block:
        # The copy would wait forever for the write transaction of its own connection.
        raise BackupRefused("A backup cannot run inside a database transaction.")
    django_connection.ensure_connection()
    source = django_connection.connection
    copy = sqlite3.connect(target)
    try:
        source.backup(copy, pages=-1)
        # One self-contained file: no write-ahead log beside it.
        copy.execute("PRAGMA journal_mode=DELETE")
        return _read_state(copy.cursor())
    finally:
        copy.close()


# --- Backup ----------------------------------------------------------------------------------


class _HashingReader(io.RawIOBase):
    """Reads a file for ``tarfile`` and hashes what it read."""

    def __init__(self, handle: IO[bytes]) -> None:
        self.handle = handle
        self.digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.digest.update(data)
        return data


def _add_file(archive: tarfile.TarFile, name: str, path: Path) -> dict[str, Any]:
    info = tarfile.TarInfo(name)
    stat = path.stat()
    info.size, info.mtime, info.mode = stat.st_size, int(stat.st_mtime), 0o600
    with path.open("rb") as handle:
        reader = _HashingReader(handle)
        archive.addfile(info, reader)
    return {"size": stat.st_size, "sha256": reader.digest.hexdigest()}


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), int(timezone.now().timestamp()), 0o600
    archive.addfile(info, io.BytesIO(data))


def code_migrations() -> set[tuple[str, str]]:
    """Every migration the code holds, as ``(app label, name)``."""
    return set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)


def _write_archive(
    partial: Path,
    dump: Path,
    kind: str,
    created_at: str,
    migrations: dict[str, list[str]],
    counts: dict[str, int],
    files: dict[str, dict[str, Any]],
) -> None:
    """The database dump, the media files, then the manifest, into ``partial``."""
    root = media_root()
    with partial.open("xb") as raw:
        os.chmod(partial, 0o600)
        with tarfile.open(fileobj=raw, mode="w:gz", compresslevel=6) as archive:
            files[dump.name] = _add_file(archive, dump.name, dump)
            for relative in _media_files(root):
                member = MEDIA_PREFIX + relative.as_posix()
                files[member] = _add_file(archive, member, root / relative)
            manifest = {
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "created_at": created_at,
                "database": {"vendor": kind, "member": dump.name},
                "migrations": migrations,
                "counts": counts,
                "files": files,
            }
            _add_bytes(archive, MANIFEST, json.dumps(manifest, indent=2).encode())
        raw.flush()
        os.fsync(raw.fileno())


def take_backup(output: Path) -> Result:
    """Write one archive into ``output`` (created, mode 700) and return what it holds."""
    kind = vendor()
    if kind not in DATABASE_MEMBERS:
        raise BackupRefused(f"Backups cover SQLite and PostgreSQL, not {kind}.")
    output.mkdir(parents=True, exist_ok=True, mode=0o700)
    now = timezone.now()
    created_at = now.astimezone(dt.UTC).isoformat(timespec="seconds")
    name = f"retainer-{now.astimezone(dt.UTC):%Y%m%d-%H%M%S}-{kind}.tar.gz"
    final, partial = output / name, output / f".{name}.partial"
    if final.exists():
        raise BackupRefused(f"{final} exists already; wait a second and run again.")
    with tempfile.TemporaryDirectory(prefix=".retainer-backup-", dir=output) as work:
        dump = Path(work) / DATABASE_MEMBERS[kind]
        dumper = _copy_sqlite if kind == "sqlite" else _dump_postgresql
        migrations, counts = dumper(dump)
        files: dict[str, dict[str, Any]] = {}
        try:
            _write_archive(partial, dump, kind, created_at, migrations, counts, files)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    os.replace(partial, final)
    return Result(
        path=final,
        size=final.stat().st_size,
        vendor=kind,
        counts=counts,
        media_files=len(files) - 1,
        created_at=created_at,
    )


# --- Reading and checking an archive ---------------------------------------------------------


@dataclass
class Staged:
    """An archive read into staging files beside their targets, checked."""

    manifest: dict[str, Any]
    database: Path
    media: dict[str, Path] = field(default_factory=dict)
    cleanup: list[Path] = field(default_factory=list)

    def discard(self) -> None:
        for path in self.cleanup:
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)


def _safe_media_name(member: str) -> PurePosixPath:
    relative = PurePosixPath(member[len(MEDIA_PREFIX) :])
    if (
        relative.is_absolute()
        or not relative.parts
        or any(part in ("", ".", "..") or part.startswith(".") for part in relative.parts)
        or "\\" in member
    ):
        raise BackupRefused(f"The archive holds a file outside the media folder: {member!r}.")
    return relative


def _database_staging(kind: str) -> Path:
    if kind == "sqlite":
        name = Path(_connection().settings_dict["NAME"])
        name.parent.mkdir(parents=True, exist_ok=True)
        return name.parent / f".{name.name}.restore-{secrets.token_hex(4)}"
    return Path(tempfile.mkdtemp(prefix="retainer-restore-")) / "database.pgdump"


@contextlib.contextmanager
def _damage_refused(path: Path) -> Iterator[None]:
    """Reading errors of the archive (truncated, not gzip, not tar) as refusals."""
    try:
        yield
    except FileNotFoundError as exc:
        raise BackupRefused(f"{path}: no such file.") from exc
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        raise BackupRefused(f"{path} is damaged or not a Retainer backup ({exc}).") from exc


def _copy_member(source: IO[bytes], target: Path | None) -> dict[str, Any]:
    """Copy one member to ``target`` (only hash it when ``None``); its size and SHA-256."""
    digest, size = hashlib.sha256(), 0
    out: IO[bytes] | None = None
    if target is not None:
        target.parent.mkdir(parents=True, exist_ok=True)
        out = target.open("xb")
    try:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            if out is not None:
                out.write(chunk)
        if out is not None:
            out.flush()
            os.fsync(out.fileno())
    finally:
        if out is not None:
            out.close()
    return {"size": size, "sha256": digest.hexdigest()}


def _check_manifest(manifest: Any, seen: dict[str, dict[str, Any]]) -> None:
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupRefused("The archive has no Retainer manifest: not a Retainer backup.")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupRefused(
            f"The archive is format version {manifest.get('format_version')}; this version "
            f"of Retainer reads version {FORMAT_VERSION}."
        )
    listed = manifest.get("files")
    if not isinstance(listed, dict):
        raise BackupRefused("The archive's manifest lists no files: damaged.")
    missing = sorted(set(listed) - set(seen))
    extra = sorted(set(seen) - set(listed))
    if missing or extra:
        raise BackupRefused(
            f"The archive does not match its manifest (missing {missing[:3]}, "
            f"unlisted {extra[:3]}): damaged."
        )
    for name, found in seen.items():
        expected = listed[name]
        if found != {"size": expected.get("size"), "sha256": expected.get("sha256")}:
            raise BackupRefused(f"Checksum mismatch for {name}: the archive is damaged.")


def _check_compatible(manifest: dict[str, Any]) -> None:
    kind = manifest.get("database", {}).get("vendor")
    if kind != vendor():
        raise BackupRefused(
            f"The archive is a {kind} backup; this instance runs on {vendor()} "
            "(set DATABASE_URL to a database of the archive's kind)."
        )
    known = code_migrations()
    unknown = [
        f"{app}.{name}"
        for app, names in sorted(manifest.get("migrations", {}).items())
        for name in names
        if (app, name) not in known
    ]
    if unknown:
        raise BackupRefused(
            f"The archive comes from a newer version of Retainer: it holds {len(unknown)} "
            f"migration(s) this code does not know ({', '.join(unknown[:5])}). Install that "
            "version (or a later one) before restoring."
        )


def _parse_manifest(handle: IO[bytes], size: int) -> Any:
    if size > MANIFEST_MAX_BYTES:
        raise BackupRefused("The archive's manifest is implausibly large: damaged.")
    try:
        return json.loads(handle.read())
    except ValueError as exc:
        raise BackupRefused("The archive's manifest is not JSON: damaged.") from exc


def read_archive(path: Path) -> Staged:
    """Read ``path`` into staging files, check every checksum and the manifest; on any
    refusal the staging files are removed and :class:`BackupRefused` raised."""
    kind = vendor()
    database = _database_staging(kind)
    staged = Staged(manifest={}, database=database, cleanup=[database])
    if kind == "postgresql":
        staged.cleanup.append(database.parent)
    # Inside the media folder (a hidden name backups skip): the same file system as the
    # files' places, so moving them there is a rename even when the folder is a mount.
    media_stage = media_root() / f".restore-{secrets.token_hex(4)}"
    staged.cleanup.append(media_stage)
    seen: dict[str, dict[str, Any]] = {}
    manifest: Any = None
    try:
        with _damage_refused(path), tarfile.open(path, mode="r|*") as archive:
            for member in archive:
                handle = archive.extractfile(member) if member.isfile() else None
                if handle is None:
                    raise BackupRefused(f"The archive holds {member.name!r}, not a file.")
                if member.name in seen or (member.name == MANIFEST and manifest is not None):
                    raise BackupRefused(f"The archive holds {member.name!r} twice: damaged.")
                if member.name == MANIFEST:
                    manifest = _parse_manifest(handle, member.size)
                elif member.name == DATABASE_MEMBERS.get(kind):
                    seen[member.name] = _copy_member(handle, database)
                elif member.name in DATABASE_MEMBERS.values():  # the other vendor's: refused
                    seen[member.name] = _copy_member(handle, None)
                elif member.name.startswith(MEDIA_PREFIX):
                    target = media_stage / _safe_media_name(member.name)
                    seen[member.name] = _copy_member(handle, target)
                    staged.media[member.name] = target
                else:
                    raise BackupRefused(f"The archive holds an unexpected {member.name!r}.")
        _check_manifest(manifest, seen)
        staged.manifest = manifest
        _check_compatible(manifest)
        return staged
    except BaseException:
        staged.discard()
        raise


# --- Restoring -------------------------------------------------------------------------------


def current_counts() -> dict[str, int] | None:
    """The counted rows of the configured database, ``None`` when it has no tables."""
    conn = _connection()
    tables = set(conn.introspection.table_names())
    if not tables:
        return None
    counts = {}
    with conn.cursor() as cursor:
        for name, label in COUNTED.items():
            table = apps.get_model(label)._meta.db_table
            if table in tables:
                cursor.execute(_count_sql()[name])
                counts[name] = int(cursor.fetchone()[0])
    return counts


def _refuse_if_busy_postgresql() -> None:
    with _connection().cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        others = int(cursor.fetchone()[0])
    if others:
        raise BackupRefused(
            f"{others} other session(s) are connected to the database: stop the web servers, "
            "the job workers and the scheduler before restoring."
        )


def _restore_postgresql(staged: Staged) -> None:
    """Media files, then the database in one transaction (all of it or nothing)."""
    _refuse_if_busy_postgresql()
    _place_media(staged)
    _connection().close()
    _run(
        [pg_binary("pg_restore"), "--clean", "--if-exists", "--single-transaction",
         "--exit-on-error", "--no-owner", "--no-privileges",
         f"--dbname={pg_environment()['PGDATABASE']}", str(staged.database)],
        pg_environment(), "pg_restore",
    )  # fmt: skip


@contextlib.contextmanager
def _sqlite_held(target: Path) -> Iterator[None]:
    """Hold the database for the swap: the write lock every Retainer process takes before
    writing (``lib/sqlite``), then SQLite's exclusive lock, which fails while any other
    connection is open; the write-ahead log is folded into the old file and removed, so
    none of it can be applied to the new one."""
    lock = os.open(f"{target}.writelock", os.O_RDWR | os.O_CREAT, 0o600)
    busy = BackupRefused(
        "Another process uses the database: stop the web server, the job workers and the "
        "scheduler before restoring."
    )
    try:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise busy from exc
        if target.exists():
            old = sqlite3.connect(target, timeout=1, isolation_level=None)
            try:
                old.execute("PRAGMA locking_mode=EXCLUSIVE")
                old.execute("BEGIN EXCLUSIVE")
                old.execute("COMMIT")
                old.execute("PRAGMA journal_mode=DELETE")
            except sqlite3.OperationalError as exc:
                raise busy from exc
            finally:
                old.close()
        yield
    finally:
        os.close(lock)


def _restore_sqlite(staged: Staged) -> None:
    check = sqlite3.connect(staged.database)
    try:
        verdict = check.execute("PRAGMA quick_check").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        verdict = str(exc)
    finally:
        check.close()
    if verdict != "ok":
        raise BackupRefused(f"The archived database fails SQLite's check: {verdict}.")
    target = Path(_connection().settings_dict["NAME"])
    _connection().close()
    with _sqlite_held(target):
        _place_media(staged)
        os.replace(staged.database, target)
        directory = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


def _place_media(staged: Staged) -> None:
    root = media_root()
    for member, source in staged.media.items():
        target = root / _safe_media_name(member)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, target)


def check_target(*, replace: bool) -> dict[str, int] | None:
    """Refuse a database that holds tables unless ``replace``; returns its counts."""
    conn = _connection()
    counts = current_counts()
    if counts is not None and not replace:
        described = ", ".join(f"{n} {name}" for name, n in counts.items()) or "no Retainer data"
        raise BackupRefused(
            f"The database is not empty ({described}); restoring replaces all of it. "
            "Run again with --yes to replace it."
        )
    if conn.vendor == "sqlite" and conn.is_in_memory_db():
        raise BackupRefused("The database is in memory; restore into a database file.")
    return counts


def restore_backup(
    path: Path, *, replace: bool, log: Callable[[str], None] = lambda _: None
) -> Result:
    """Check ``path`` and replace the database and add the media files from it."""
    staged = read_archive(path)
    try:
        check_target(replace=replace)
        manifest = staged.manifest
        log(
            f"Archive checked: {manifest['database']['vendor']} backup of "
            f"{manifest['created_at']}, {len(staged.media)} media file(s)."
        )
        (_restore_sqlite if vendor() == "sqlite" else _restore_postgresql)(staged)
    finally:
        staged.discard()
    counts = current_counts() or {}
    applied = {(a, n) for a, names in manifest["migrations"].items() for n in names}
    return Result(
        path=path,
        size=path.stat().st_size,
        vendor=vendor(),
        counts=counts,
        media_files=len(staged.media),
        created_at=manifest["created_at"],
        pending_migrations=len(code_migrations() - applied),
    )
