"""The run's guardian: ends everything the harness started the moment the harness dies.

Started once per run scope (``containment.Guardian``) as ``python -I -S guardian.py``, in
its own session so a Ctrl-C meant for the harness does not reach it. Its stdin is the read
end of a pipe whose write end only the harness holds (close-on-exec, so no system process
inherits it). It blocks reading; end of file means the harness is gone, whatever killed it
(SIGKILL, the OOM killer): then it ``cgroup.kill``s the run's cgroup, waits until it is
empty and removes it, or, in the marker fallback, SIGKILLs every process marked with this
harness's pid and start time, through pidfds; then it unmounts the harness's disks
(tmpfs named after it, ``harness/disks/mounts.py``, itself standard library only and
loaded from its file) and removes the trial folders whose owner file names this harness
(``rundir.py``), and the run's folders in cgroup v1 hierarchies (``--v1-cgroup``,
resource faults: ``limits.py``; what is still in them is SIGKILLed through pidfds too). A
harness ending normally first writes ``close``: the guardian then only removes what is
left of the run's cgroup (nothing, as a rule), never hunts markers (another run scope of
the same live harness may own them).

Why not ``PR_SET_PDEATHSIG`` on each root instead: it fires when the *thread* that forked
the root exits, and trials run in pool threads; and it reaches only the root, not a daemon
that left its tree. The guardian covers both.

It imports nothing of the harness (only the standard library), so it starts in a few tens
of milliseconds and cannot be broken by the harness's state.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import select
import shutil
import signal
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

READY = "guardian ready"
CLOSE = "close\n"
_EMPTY_WAIT_S = 5.0
_MARKER_ROUNDS = 5


def _cgroup_pids(root: Path) -> list[int]:
    pids: list[int] = []
    for directory, _, _ in os.walk(root):
        with contextlib.suppress(OSError):
            pids += [int(p) for p in (Path(directory) / "cgroup.procs").read_bytes().split()]
    return pids


def _populated(root: Path) -> bool:
    try:
        text = (root / "cgroup.events").read_text(encoding="ascii")
    except OSError:
        return False
    return "populated 1" in text


def _remove(root: Path) -> None:
    for directory, _, _ in sorted(os.walk(root), key=lambda w: -len(w[0])):
        with contextlib.suppress(OSError):
            os.rmdir(directory)


def end_cgroup(root: Path) -> int:
    """``cgroup.kill`` the run's cgroup, wait until empty, remove it: how many it ended."""
    if not root.exists():
        return 0
    pids = _cgroup_pids(root)
    if pids:
        with contextlib.suppress(OSError):
            (root / "cgroup.kill").write_text("1", encoding="ascii")
        deadline = time.monotonic() + _EMPTY_WAIT_S
        while _populated(root) and time.monotonic() < deadline:
            time.sleep(0.01)
    _remove(root)
    with contextlib.suppress(OSError):
        os.rmdir(root.parent)  # the shared ``chaos`` parent, if no other run uses it
    return len(pids)


def _in_v1_folder(pid: int, folder: Path, run: str) -> bool:
    """``/proc/PID/cgroup`` puts ``pid`` in ``folder`` (of the run folder named ``run``):
    a v1 line whose path ends ``folder``'s path and passes through ``run``."""
    try:
        text = Path(f"/proc/{pid}/cgroup").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3 or parts[0] == "0":
            continue
        seen = parts[2].strip()
        if run in seen.split("/") and folder.as_posix().endswith(seen):
            return True
    return False


def kill_in_v1(root: Path) -> int:
    """SIGKILL every process in a run's v1 folder ``root`` (and its groups): each through
    a pidfd opened first, then checked to be in that folder still, so a pid that was reused
    meanwhile is never signalled. How many were signalled."""
    ended = 0
    for directory, _, _ in os.walk(root):
        folder = Path(directory)
        try:
            listed = [int(p) for p in (folder / "cgroup.procs").read_bytes().split()]
        except OSError:
            continue
        for pid in listed:
            if _kill_held(pid, partial(_in_v1_folder, pid, folder, root.name)):
                ended += 1
    return ended


def _kill_held(pid: int, still_ours: Callable[[], bool], *, wake: bool = False) -> bool:
    """SIGKILL ``pid`` through a pidfd, if ``still_ours()`` holds once the fd is open (the
    same process, then: its pid cannot be reused while the fd is held). ``wake`` also sends
    SIGCONT, so a frozen process runs to its death. Whether it was signalled."""
    try:
        fd = os.pidfd_open(pid)
    except OSError:
        return False  # gone already
    try:
        if not still_ours():
            return False
        signal.pidfd_send_signal(fd, signal.SIGKILL)
        if wake:
            with contextlib.suppress(OSError):
                signal.pidfd_send_signal(fd, signal.SIGCONT)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


def end_v1(run_dirs: list[Path]) -> int:
    """The run's folders in v1 hierarchies (resource faults): SIGKILL what is still in
    them (only processes a fault moved there, and their forks), then remove them."""
    ended = 0
    for root in run_dirs:
        if not root.exists():
            continue
        ended += kill_in_v1(root)
        deadline = time.monotonic() + _EMPTY_WAIT_S
        while root.exists() and time.monotonic() < deadline:
            _remove(root)
            if root.exists():
                time.sleep(0.01)
        with contextlib.suppress(OSError):
            os.rmdir(root.parent)  # the shared chaos folder of that hierarchy
    return ended


def _marker(pid: int) -> dict[str, str]:
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return {}
    found: dict[str, str] = {}
    for item in raw.split(b"\0"):
        key, sep, value = item.partition(b"=")
        if sep and key.startswith(b"CHAOS_"):
            found[key.decode("ascii", "replace")] = value.decode("ascii", "replace")
    return found


def _ours(pid: int, harness_pid: int, harness_start: int) -> bool:
    marker = _marker(pid)
    if marker.get("CHAOS_HARNESS_PID") != str(harness_pid) or "CHAOS_TRIAL" not in marker:
        return False
    start = marker.get("CHAOS_HARNESS_START")
    return start is None or not harness_start or start == str(harness_start)


def end_marked(harness_pid: int, harness_start: int) -> int:
    """SIGKILL every process marked by this harness, checked with its pidfd held."""
    ended = 0
    for _ in range(_MARKER_ROUNDS):
        found = 0
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            pid = int(entry.name)
            if not _ours(pid, harness_pid, harness_start):
                continue
            if _kill_held(pid, partial(_ours, pid, harness_pid, harness_start), wake=True):
                found += 1
        ended += found
        if not found:
            break
        time.sleep(0.02)  # let the killed exit before looking for their last forks
    return ended


def end_folders(tmpdir: Path, harness_pid: int, harness_start: int) -> None:
    """Remove the trial folders (``chaos-*``) whose owner file names this harness."""
    for owner_file in tmpdir.glob("chaos-*/.chaos-owner"):
        try:
            owner = json.loads(owner_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(owner, dict) or owner.get("harness_pid") != harness_pid:
            continue
        if harness_start and owner.get("harness_start") not in (None, harness_start):
            continue
        shutil.rmtree(owner_file.parent, ignore_errors=True)


def end_disks(harness_pid: int, harness_start: int) -> list[str]:
    """Unmount every disk the harness mounted (its tmpfs carry its pid and start time)."""
    path = Path(__file__).resolve().parents[1] / "disks" / "mounts.py"
    spec = importlib.util.spec_from_file_location("chaos_guardian_mounts", path)
    if spec is None or spec.loader is None:
        return []
    mounts = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mounts  # its dataclasses look their module up there
    spec.loader.exec_module(mounts)
    start = str(harness_start) if harness_start else None
    done: list[str] = mounts.unmount_owned_by(harness_pid, start)
    return done


def _wait_for_end_of_file() -> bool:
    """Block until the harness closes the pipe; True if it said ``close`` first."""
    said = b""
    while True:
        try:
            select.select([0], [], [])
            chunk = os.read(0, 4096)
        except InterruptedError:
            continue
        if not chunk:
            return said.endswith(CLOSE.encode())
        said = (said + chunk)[-64:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="chaos-guardian")
    parser.add_argument("--harness-pid", type=int, required=True)
    parser.add_argument("--harness-start", type=int, default=0)
    parser.add_argument("--cgroup", type=Path, default=None)
    parser.add_argument("--tmpdir", type=Path, default=None)
    parser.add_argument("--v1-cgroup", type=Path, action="append", default=[])
    args = parser.parse_args(argv)
    for signum in (signal.SIGINT, signal.SIGHUP, signal.SIGPIPE):
        signal.signal(signum, signal.SIG_IGN)
    sys.stdout.write(READY + "\n")
    sys.stdout.flush()
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)
    normal = _wait_for_end_of_file()
    ended = end_cgroup(args.cgroup) if args.cgroup is not None else 0
    if not normal and args.cgroup is None:
        ended += end_marked(args.harness_pid, args.harness_start)
    ended += end_v1(args.v1_cgroup)
    if not normal:
        with contextlib.suppress(Exception):  # the folders below must still go
            end_disks(args.harness_pid, args.harness_start)
    if not normal and args.tmpdir is not None:
        end_folders(args.tmpdir, args.harness_pid, args.harness_start)
    if ended and not normal:
        with contextlib.suppress(OSError):
            sys.stderr.write(
                f"chaos guardian: the harness (pid {args.harness_pid}) is gone;"
                f" ended {ended} process(es) it had started\n"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
