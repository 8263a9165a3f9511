"""SQLite for several processes: writers queue on an OS file lock.

SQLite lets one writer at a time hold the database; the others retry from its busy
handler, which sleeps in growing steps (1, 2, 5, 10 … 100 ms). Under concurrent writes
that turns a 10 ms transaction into long, uneven waits. Taking an exclusive ``flock`` on a
sidecar file before ``BEGIN IMMEDIATE`` makes waiting writers sleep in the kernel and wake
the moment the lock is released, in arrival order, and SQLite's own lock is then always
free. The kernel drops the lock if the process dies, so a killed worker never wedges the
database. In-memory databases (tests) are single-process and skip it.
"""

from __future__ import annotations

import fcntl
import os
from typing import Any

from django.db.backends.sqlite3 import base


class DatabaseWrapper(base.DatabaseWrapper):
    _lock_fd: int | None = None
    _lock_held = False

    def _lock_path(self) -> str:
        return f"{self.settings_dict['NAME']}.writelock"

    def _acquire_write_lock(self) -> None:
        if self.is_in_memory_db():
            return
        if self._lock_fd is None:
            self._lock_fd = os.open(self._lock_path(), os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        self._lock_held = True

    def _release_write_lock(self) -> None:
        if self._lock_held and self._lock_fd is not None:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
        self._lock_held = False

    def _start_transaction_under_autocommit(self) -> None:
        self._acquire_write_lock()
        try:
            super()._start_transaction_under_autocommit()  # type: ignore[misc]
        except BaseException:
            self._release_write_lock()
            raise

    def _commit(self) -> Any:
        try:
            return super()._commit()  # type: ignore[misc]
        finally:
            self._release_write_lock()

    def _rollback(self) -> Any:
        try:
            return super()._rollback()  # type: ignore[misc]
        finally:
            self._release_write_lock()

    def _close(self) -> Any:
        try:
            return super()._close()  # type: ignore[misc]
        finally:
            self._release_write_lock()
            if self._lock_fd is not None:
                os.close(self._lock_fd)
                self._lock_fd = None
