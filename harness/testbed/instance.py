"""One instance's own resources: its data folder (locked for its life) and its key store.

The Jan multi-instance fix: a per-instance data folder guarded by an fcntl lock, so a
second instance on the same folder fails with a clear error instead of writing over the
first one's files. The ``shared-data`` bug takes no lock.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
from pathlib import Path
from typing import Any

LOCK_NAME = "instance.lock"
KEY_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class DataDirInUseError(RuntimeError):
    """Another live instance holds the data folder's lock."""


class BadKeyError(ValueError):
    """A data key outside ``[A-Za-z0-9_.-]{1,64}``."""


class DataDir:
    """The instance's data folder; holds the lock file descriptor while open."""

    def __init__(self, path: Path, *, lock: bool, instance: str) -> None:
        self.path = path.resolve()
        self.path.mkdir(parents=True, exist_ok=True)
        (self.path / "data").mkdir(exist_ok=True)
        self._lock_fd: int | None = None
        if lock:
            self._take_lock(instance)

    def _take_lock(self, instance: str) -> None:
        fd = os.open(self.path / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise DataDirInUseError(
                f"data dir {self.path} is in use by another instance ({holder}); "
                "give each instance its own --data-dir"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} instance {instance}\n".encode(), 0)
        self._lock_fd = fd

    @property
    def queue_path(self) -> Path:
        """The SQLite job queue file."""
        return self.path / "jobs.sqlite3"

    def _key_path(self, key: str) -> Path:
        if not KEY_RE.match(key):
            raise BadKeyError(f"bad key {key!r}: use 1-64 of A-Z a-z 0-9 _ . -")
        return self.path / "data" / f"{key}.json"

    def put(self, key: str, value: Any) -> None:
        """Store a JSON value (write to a temp file, then rename)."""
        target = self._key_path(key)
        tmp = target.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(value))
        os.replace(tmp, target)

    def get(self, key: str) -> tuple[bool, Any]:
        """(found, value) for a key."""
        target = self._key_path(key)
        try:
            return True, json.loads(target.read_text())
        except FileNotFoundError:
            return False, None

    def close(self) -> None:
        """Release the lock."""
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None
