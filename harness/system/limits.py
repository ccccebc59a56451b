"""Resource limits on single processes of a trial: memory, CPU, pids, through a cgroup.

A resource fault moves one process (and whatever it forks meanwhile) into a cgroup of its
own with one limit set, and moves it back when the fault ends. Which hierarchy, per
controller (``backend_for``):

- **cgroup v2** where the controller is in the v2 hierarchy and the run is contained in a
  v2 cgroup (most hosts: pure v2 at ``/sys/fs/cgroup``). The limit group is a sibling of
  the instance leaves, ``<trial>/i<N>-f<fault>-p<pid>``; the controller is enabled in the
  ``subtree_control`` of every level from the chaos parent down to the trial (none of
  those levels holds processes, so the no-internal-processes rule is kept). The trial's
  ``cgroup.kill`` and removal cover it; ``TrialCgroup`` knows its instance.
- **cgroup v1** where the controller is a v1 hierarchy (hybrid hosts with v1 controllers):
  ``<hierarchy>/<our own cgroup there>/chaos/<run name>/<trial id>-f<fault>-p<pid>``
  (``chaos``: ``host.parent_name()``). Under our own cgroup, so whatever limit the harness
  itself runs under still holds. The process stays in its v2 trial leaf (containment is
  untouched). The run's v1 folders are removed when the fault ends, at the run's end, by
  the guardian when the harness dies, and by the next run (``leftovers``, which looks
  under every cgroup) if both died.

A pid is moved only while the pidfd held for its process says the pid is still that
process's (``LimitGroup``). One limit per process in v2 (a process is in one cgroup, a
second would lift the first), one per controller in v1: more is a miss.

Memory the process already has stays charged where it was: the limit counts what it
allocates from then on (both versions; v1 charge moving is deprecated). Swap is limited
too where the kernel offers it, so a limit ends in an OOM kill rather than swapping.
"""

from __future__ import annotations

import enum
import errno
import functools
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from harness.system import cgroups, guardian, host, pidfd
from harness.system.process import TrackedProcess

__all__ = [
    "CPU_PERIOD_US",
    "Backend",
    "Controller",
    "LimitGroup",
    "Limits",
    "backend_for",
    "oom_kills",
    "parse_v1_mounts",
    "parse_v1_own",
    "remove_v1_run",
    "settings",
    "v1_parents_anywhere",
    "v1_run_dirs",
]

CPU_PERIOD_US = 100_000
_MOVE_ROUNDS = 50
_LIMIT_GROUP = re.compile(r"^i\d+-f")
"""A limit group's name beside the instance leaves, ``i<N>-f<fault>-p<pid>``."""
_SCAN_DEPTH = 6
"""How deep below a v1 hierarchy's mount ``leftovers`` looks for chaos parents."""


class Controller(enum.StrEnum):
    MEMORY = "memory"
    CPU = "cpu"
    PIDS = "pids"


@dataclass(frozen=True)
class Backend:
    """Where a controller's limit groups go: cgroup ``version`` 2 or 1, under ``parent``."""

    controller: Controller
    version: int
    parent: Path
    """v2: the chaos parent (levels below it get the controller enabled); v1: the
    ``chaos`` folder under our own cgroup of that hierarchy."""

    def describe(self) -> str:
        return f"cgroup v{self.version} {self.controller} at {self.parent}"


# --------------------------------------------------------------------------- pure parts


def parse_v1_mounts(mountinfo: str) -> dict[str, Path]:
    """Each v1 controller (``memory``, ``cpu``...) and where its hierarchy is mounted."""
    found: dict[str, Path] = {}
    for line in mountinfo.splitlines():
        left, sep, right = line.partition(" - ")
        fields, tail = left.split(), right.split()
        if not sep or len(fields) < 5 or len(tail) < 3 or tail[0] != "cgroup":
            continue
        for option in tail[2].split(","):
            if option in set(Controller):
                found.setdefault(option, Path(fields[4]))
    return found


def parse_v1_own(proc_cgroup: str) -> dict[str, str]:
    """Each v1 controller and this process's cgroup path in it (``/proc/self/cgroup``)."""
    found: dict[str, str] = {}
    for line in proc_cgroup.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3 or parts[0] == "0":
            continue
        for name in parts[1].split(","):
            if name:
                found[name] = parts[2]
    return found


def settings(controller: Controller, version: int, value: int) -> list[tuple[str, str, bool]]:
    """The files to write for one limit, in order: (file, text, required).

    ``value`` is bytes (memory), percent of one core (cpu) or a number of tasks (pids).
    """
    if controller is Controller.MEMORY:
        if version == 2:
            return [("memory.max", str(value), True), ("memory.swap.max", "0", False)]
        return [
            ("memory.limit_in_bytes", str(value), True),
            ("memory.memsw.limit_in_bytes", str(value), False),
        ]
    if controller is Controller.CPU:
        quota = max(1000, CPU_PERIOD_US * value // 100)
        if version == 2:
            return [("cpu.max", f"{quota} {CPU_PERIOD_US}", True)]
        return [
            ("cpu.cfs_period_us", str(CPU_PERIOD_US), True),
            ("cpu.cfs_quota_us", str(quota), True),
        ]
    return [("pids.max", str(value), True)]


def oom_kills(version: int, text: str) -> int | None:
    """The ``oom_kill`` count of ``memory.events`` (v2) or ``memory.oom_control`` (v1)."""
    for line in text.splitlines():
        key, _, count = line.partition(" ")
        if key == "oom_kill" and count.strip().isdigit():
            return int(count)
    return None


# --------------------------------------------------------------------------- the host


def _read(path: Path | str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError:
        return ""


def _v2_controllers(base: Path) -> set[str]:
    """The controllers a limit group below ``base`` (the chaos parent's parent) can get:
    those ``base`` already hands down, or, when ``base`` is the hierarchy's root (exempt
    from the no-internal-processes rule, and without ``cgroup.type``), those it has."""
    given = set(_read(base / "cgroup.subtree_control").split())
    if not (base / "cgroup.type").exists():
        given |= set(_read(base / "cgroup.controllers").split())
    return given


def _v1_parents() -> dict[str, Path]:
    """Each v1 controller and its chaos folder (``host.parent_name()``, ``chaos`` unless
    ``CHAOS_CGROUP_PARENT`` names another) under our own cgroup there."""
    mounts = parse_v1_mounts(_read("/proc/self/mountinfo"))
    own = parse_v1_own(_read("/proc/self/cgroup"))
    parents: dict[str, Path] = {}
    for name, point in mounts.items():
        rel = own.get(name, "/").strip("/")
        parents[name] = (point / rel if rel else point) / host.parent_name()
    return parents


def v1_parents_anywhere() -> list[Path]:
    """Every chaos folder (``host.parent_name()``) in the v1 hierarchies of our
    controllers, at most ``_SCAN_DEPTH`` levels below a mount: runs of other cgroups and
    sessions put theirs under their own cgroup, which is not ours."""
    name = host.parent_name()
    found: list[Path] = []
    mounts = parse_v1_mounts(_read("/proc/self/mountinfo"))
    for controller, point in sorted(mounts.items()):
        if controller not in set(Controller):
            continue
        for directory in _walk(point, _SCAN_DEPTH):
            if directory.name == name and directory != point:
                found.append(directory)
    return sorted(set(found))


def _walk(top: Path, depth: int) -> Iterator[Path]:
    """``top`` and its sub-folders down to ``depth`` levels; a chaos folder's insides
    (run folders, groups) are not entered."""
    yield top
    if depth <= 0 or top.name.startswith(host.PARENT_NAME):
        return
    try:
        entries = [e for e in os.scandir(top) if e.is_dir(follow_symlinks=False)]
    except OSError:
        return
    for entry in sorted(entries, key=lambda e: e.name):
        yield from _walk(Path(entry.path), depth - 1)


@functools.cache
def _backends(
    v2_parent: Path | None, parent_name: str
) -> tuple[dict[Controller, Backend], dict[Controller, str]]:
    """Cached per chaos parent name too: ``CHAOS_CGROUP_PARENT`` moves the v1 folders."""
    found: dict[Controller, Backend] = {}
    why: dict[Controller, str] = {}
    v2 = _v2_controllers(v2_parent.parent) if v2_parent is not None else set()
    v1 = _v1_parents()
    for controller in Controller:
        if controller in v2 and v2_parent is not None:
            found[controller] = Backend(controller, 2, v2_parent)
            continue
        parent = v1.get(controller)
        if parent is None:
            if v2_parent is None:
                why[controller] = (
                    f"no {controller} controller: the run has no cgroup v2 of its own"
                    f" (marker containment) and no v1 {controller} hierarchy is mounted"
                )
            else:
                why[controller] = (
                    f"no {controller} controller: not enabled in cgroup v2 at"
                    f" {v2_parent.parent} and no v1 {controller} hierarchy is mounted"
                )
            continue
        if os.geteuid() != 0 and not os.access(parent.parent, os.W_OK):
            why[controller] = f"needs root to create a cgroup in {parent.parent} (v1 {controller})"
            continue
        found[controller] = Backend(controller, 1, parent)
    return found, why


def backend_for(controller: Controller, v2_parent: Path | None) -> Backend | str:
    """The backend for ``controller`` (``v2_parent``: the chaos v2 parent, None in the
    marker fallback), or why there is none."""
    found, why = _backends(v2_parent, host.parent_name())
    return found.get(controller) or why[controller]


def v1_run_dirs(run_name: str) -> list[Path]:
    """Every v1 folder a run named ``run_name`` may create (for the guardian to remove)."""
    return [
        parent / run_name
        for name, parent in sorted(_v1_parents().items())
        if name in set(Controller)
    ]


# --------------------------------------------------------------------------- one group


def _write(path: Path, text: str) -> None:
    with open(path, "w", encoding="ascii") as handle:
        handle.write(text)


def _holds_pid(fd: int) -> bool:
    """The process behind ``fd`` still holds its pid (running, or a zombie not reaped):
    its pid cannot name another process yet."""
    return pidfd.send(fd, 0)


def _inside(directory: Path | None, group: Path) -> bool:
    return directory is not None and (directory == group or group in directory.parents)


Where = Callable[[int], Path | None]
"""The folder a pid is in now, in the backend's hierarchy; None if unknown or gone."""

HoldsPid = Callable[[], bool]
"""Does the target still hold its pid? In a trial, a signal 0 through the tracker
(``FaultContext.signal``: its lock keeps the pidfd from being closed and its number reused
meanwhile); by default, a signal 0 through ``TrackedProcess.pidfd``."""


def _pidfd_holds(process: TrackedProcess) -> HoldsPid:
    def holds() -> bool:
        fd = process.pidfd
        return fd is not None and _holds_pid(fd)

    return holds


@dataclass
class _Moves:
    """What a group's moves saw: warnings for the record, pids it must not touch again."""

    warnings: list[str] = field(default_factory=list)
    strangers: set[int] = field(default_factory=set)


class LimitGroup:
    """One process's limit cgroup: made, limited, entered; ``release`` undoes it all.

    Every move is made with a pidfd held and checked on both sides of the write: still
    holding its pid after the write means the pid was that process's at the write (a pid
    is not reused while its process holds it). A target gone before is a miss, nothing
    moved; gone in between, whatever has its pid now is moved back where the target was
    just before (or left alone, with a warning), never released into the trial.
    """

    def __init__(
        self,
        backend: Backend,
        group: cgroups.Cgroup,
        process: TrackedProcess,
        holds: HoldsPid,
        where: Where,
        fallback_home: Path,
        limited: Callable[[Path], str | None],
        lock: threading.Lock,
    ) -> None:
        self.backend = backend
        self.group = group
        self.process = process
        self._holds = holds
        self._where = where
        self._fallback = fallback_home
        self._limited = limited
        self._lock = lock
        self._home = fallback_home
        self._moves = _Moves()
        self._oom_seen = 0

    @property
    def path(self) -> Path:
        return self.group.path

    @property
    def home(self) -> Path:
        """Where the process was when the limit came on (where ``release`` puts it)."""
        return self._home

    def warnings(self) -> list[str]:
        """Warnings since the last call (a pid that changed hands mid-move), in words."""
        found, self._moves.warnings = self._moves.warnings, []
        return found

    def apply(self, value: int) -> str | None:
        """Write the limit, then move the process in; why not (a miss), or None.

        ``OSError`` as the kernel says for a limit it refuses."""
        pid = self.process.pid
        for name, text, required in settings(self.backend.controller, self.backend.version, value):
            try:
                _write(self.group.path / name, text)
            except OSError:
                if required:
                    raise
        with self._lock:  # one move at a time per trial: the check below stays true
            if not self._holds():
                return f"pid {pid} had exited"
            home = self._where(pid) or self._fallback
            if not self._holds():
                return f"pid {pid} had exited"
            refusal = self._limited(home)
            if refusal is not None:
                return f"pid {pid} {refusal}"
            self._home = home
            try:
                self.group.add(pid)
            except OSError as exc:
                if exc.errno == errno.ESRCH:
                    return f"pid {pid} had exited"
                raise
            if not self._holds():
                self._stranger(pid, home)
                return f"pid {pid} exited while it was being moved into {self.path}"
        return None

    def _stranger(self, pid: int, home: Path) -> None:
        """The target died during its move: what has its pid now, if in our group, goes
        back where the target was just before the write, or stays, named in a warning."""
        if not _inside(self._where(pid), self.path):
            return  # the write reached nobody, or the pid is elsewhere now: not ours
        self._moves.strangers.add(pid)
        try:
            _write(home / "cgroup.procs", str(pid))
        except OSError as exc:
            self._moves.warnings.append(
                f"pid {pid}: its process exited while it was being moved into {self.path};"
                f" the process that has pid {pid} now may be another's and could not be moved"
                f" back to {home} ({exc.strerror or exc}): it is left there, not released"
                " into the trial"
            )
            return
        self._moves.warnings.append(
            f"pid {pid}: its process exited while it was being moved into {self.path};"
            f" the process that has pid {pid} now may be another's: moved back to {home}"
        )

    def pids(self) -> list[int]:
        return self.group.pids()

    def new_oom_kills(self) -> int:
        """OOM kills in this group since the last call (0 for other controllers)."""
        if self.backend.controller is not Controller.MEMORY:
            return 0
        name = "memory.events" if self.backend.version == 2 else "memory.oom_control"
        count = oom_kills(self.backend.version, _read(self.group.path / name)) or 0
        fresh, self._oom_seen = count - self._oom_seen, count
        return max(0, fresh)

    def usage(self) -> dict[str, int]:
        """What the group used, for the record (CPU microseconds, memory peak)."""
        out: dict[str, int] = {}
        if self.backend.controller is Controller.CPU:
            text = _read(self.group.path / "cpu.stat")
            for line in text.splitlines():
                key, _, value = line.partition(" ")
                if key in ("usage_usec", "nr_throttled", "throttled_usec", "throttled_time"):
                    out[key] = int(value)
        if self.backend.controller is Controller.MEMORY:
            out["oom_kill"] = self._oom_seen
        return out

    def release(self) -> list[str]:
        """Move every process back where the target came from and remove the group; the
        problems (a warning of a pid that changed hands mid-move comes via ``warnings``)."""
        problems: list[str] = []
        with self._lock:
            for _ in range(_MOVE_ROUNDS):
                left = [p for p in self.group.pids() if p not in self._moves.strangers]
                if not left:
                    break
                for pid in left:
                    self._move_back(pid)
        for _ in range(_MOVE_ROUNDS):
            if self.group.remove():
                break
            time.sleep(0.01)  # a killed task leaving its cgroup
        else:
            problems.append(f"limit cgroup {self.group.path} could not be removed (still busy)")
        return problems

    def _move_back(self, pid: int) -> None:
        """Move ``pid`` home if, with a pidfd held for it, it is still in this group."""
        fd = pidfd.open_pidfd(pid)
        if fd is None:
            return  # gone
        try:
            if not _inside(self._where(pid), self.path):
                return  # moved on, or not the process that was listed
            home = self._home if (self._home / "cgroup.procs").exists() else self._fallback
            for target in dict.fromkeys((home, self._fallback)):
                try:
                    _write(target / "cgroup.procs", str(pid))
                except OSError as exc:
                    if exc.errno == errno.ESRCH:
                        return
                    continue
                if not _holds_pid(fd) and self._where(pid) == target:
                    self._moves.warnings.append(
                        f"pid {pid}: its process exited while it was being moved back from"
                        f" {self.path}; the process that has pid {pid} now may be another's"
                        f" and may have been moved to {target}"
                    )
                return
        finally:
            os.close(fd)


class Limits:
    """One trial's limit groups: opened by resource faults, all released at teardown."""

    def __init__(
        self,
        trial_id: str,
        run_name: str,
        trial: cgroups.Cgroup | None,
        v2_parent: Path | None,
        refuse: str | None = None,
    ) -> None:
        self.trial_id = trial_id
        self.run_name = run_name
        self._trial = trial
        self._v2_parent = v2_parent
        self._refuse = refuse
        self._open: list[LimitGroup] = []
        self._lock = threading.Lock()

    def backend(self, controller: Controller) -> Backend | str:
        if self._refuse is not None:
            return self._refuse
        return backend_for(controller, self._v2_parent if self._trial is not None else None)

    def open(
        self,
        controller: Controller,
        name: str,
        process: TrackedProcess,
        holds: HoldsPid | None = None,
    ) -> LimitGroup:
        """Make the group ``name`` for ``process`` (not yet limited nor entered);
        ``holds``: how to ask whether it still holds its pid (``HoldsPid``)."""
        backend = self.backend(controller)
        if isinstance(backend, str):
            raise OSError(errno.ENOTSUP, backend)
        where: Where
        limited: Callable[[Path], str | None]
        if backend.version == 2:
            trial = self._trial
            assert trial is not None
            self._enable_v2(controller)
            group = trial.child(f"i{process.instance}-{name}")  # TrialCgroup reads the i<N>
            fallback = trial.path / f"i{process.instance}"  # the instance's leaf (containment)

            def where(pid: int) -> Path | None:
                return _v2_dir(trial.path, pid)

            def limited(home: Path) -> str | None:
                return _v2_limited(trial.path, home)

        else:
            run = backend.parent / self.run_name
            group = cgroups.Cgroup(run / f"{self.trial_id}-{name}")
            fallback = backend.parent.parent
            point = parse_v1_mounts(_read("/proc/self/mountinfo")).get(str(controller))

            def where(pid: int) -> Path | None:
                return _v1_dir(controller, point, pid)

            def limited(home: Path) -> str | None:
                if _inside(home, run):
                    return f"is already under a {controller} limit ({home.name}): refused"
                return None

        group.create()
        check = holds or _pidfd_holds(process)
        limit = LimitGroup(backend, group, process, check, where, fallback, limited, self._lock)
        self._open.append(limit)
        return limit

    def _enable_v2(self, controller: Controller) -> None:
        """``+controller`` in every level's ``subtree_control`` from the chaos parent's
        parent down to the trial (none of them holds processes)."""
        assert self._trial is not None
        assert self._v2_parent is not None
        levels = [self._v2_parent.parent, self._v2_parent]
        current = self._v2_parent
        for part in self._trial.path.relative_to(self._v2_parent).parts:
            current = current / part
            levels.append(current)
        for level in levels:
            control = level / "cgroup.subtree_control"
            if controller in _read(control).split():
                continue
            _write(control, f"+{controller}")

    def close(self) -> list[str]:
        """Release every group still open (teardown); the problems, in words."""
        problems: list[str] = []
        for group in reversed(self._open):
            problems += group.release()
        self._open.clear()
        return problems


def _v1_dir(controller: Controller, point: Path | None, pid: int) -> Path | None:
    """The folder of ``pid`` in the v1 hierarchy of ``controller`` (mounted at ``point``)."""
    own = parse_v1_own(_read(f"/proc/{pid}/cgroup")).get(str(controller))
    if own is None or point is None:
        return None
    rel = own.strip("/")
    return point / rel if rel else point


def _v2_dir(trial: Path, pid: int) -> Path | None:
    """The folder of ``pid`` below ``trial`` (its run and trial names are unique, so the
    ``/proc/PID/cgroup`` path is matched on them); None if elsewhere or gone."""
    seen = cgroups.cgroup_of(pid)
    if seen is None:
        return None
    tail = f"/{trial.parent.name}/{trial.name}"
    if seen.endswith(tail):
        return trial
    at = seen.find(tail + "/")
    return trial / seen[at + len(tail) + 1 :] if at >= 0 else None


def _v2_limited(trial: Path, home: Path) -> str | None:
    """Why a process in ``home`` cannot get another limit on v2, or None: in v2 a process
    is in one cgroup only, so a second limit would silently move it out of the first."""
    if not _inside(home, trial) or home == trial:
        return None
    first = home.relative_to(trial).parts[0]
    if _LIMIT_GROUP.match(first):
        return (
            f"is already under a limit ({first}): in cgroup v2 a process is in one cgroup"
            " only, so a second limit would silently lift the first; refused"
        )
    return None


def remove_v1_run(run_dir: Path) -> bool:
    """Remove a run's v1 folder: its groups should be empty (their processes were moved
    back or ended); a process still there is SIGKILLed first (only ours go there), through
    a pidfd opened while it was seen in that folder."""
    guardian.kill_in_v1(run_dir)
    for _ in range(_MOVE_ROUNDS):
        if cgroups.Cgroup(run_dir).remove():
            cgroups.Cgroup(run_dir.parent).rmdir_if_empty()
            return True
        time.sleep(0.01)
    return False
