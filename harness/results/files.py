"""A file of results that could not be written: say which and why, and leave nothing stale.

A full disk or a read-only folder must not leave an older journal or report where this
run's should be (it would be read as this run's). So a failed write removes the older file
at that path and tries once more (on a full disk, the older copy may hold just the space
the new one needs, since an atomic replace needs room for both), and a ``WriteFailure``
names the file, the OS error and whether an older file is still there because it could
not be removed either.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class WriteFailure:
    """``path`` could not be written, because of ``reason`` (the OS error)."""

    path: Path
    reason: str
    stale: bool = False
    """An older file is still at ``path``: it could not be removed."""

    def __str__(self) -> str:
        text = f"{self.path}: {self.reason}"
        if self.stale:
            text += " (an older file there could not be removed: it is not this run's)"
        return text


def write_failed(path: Path, exc: OSError) -> WriteFailure:
    """Describe ``exc`` and remove the older file at ``path`` (best effort)."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    if exc.filename and Path(exc.filename) in path.parents:  # a folder on the way
        reason += f" ({exc.filename})"
    try:
        path.unlink(missing_ok=True)
    except OSError:
        return WriteFailure(path, reason, stale=path.exists())
    return WriteFailure(path, reason)


def write_or_clear(path: Path, write: Callable[[Path], None]) -> WriteFailure | None:
    """``write(path)``; if that fails, remove the older file there and try once more.

    Returns ``None`` once the file is written, else why not (with nothing stale left,
    unless even the removal failed: ``WriteFailure.stale``).
    """
    try:
        write(path)
    except OSError as exc:
        existed = path.exists()
        failure = write_failed(path, exc)
        if not existed or failure.stale:
            return failure
    else:
        return None
    try:
        write(path)
    except OSError as exc:
        return write_failed(path, exc)
    return None


# --------------------------------------------------------------------------- atomic writes


def umask() -> int:
    """This process's umask, read without changing it (``/proc/self/status``; setting and
    restoring it would race with trial threads that create files meanwhile)."""
    try:
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    current = os.umask(0o022)  # no /proc: the one way left
    os.umask(current)
    return current


def write_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` (UTF-8): a temp file beside it, ``fsync``,
    ``os.replace``, so a reader sees the old file or the new one, never half. The file gets
    the mode any new file gets (0644 under umask 022), not the temp file's 0600: a CI box
    that serves the reports must be able to read them."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~umask())
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
