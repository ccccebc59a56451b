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
  ``<hierarchy>/<our own cgroup there>/chaos/<run name>/<trial id>-f<fault>-p<pid>``.
  Under our own cgroup, so whatever limit the harness itself runs under still holds. The
  process stays in its v2 trial leaf (containment is untouched). The run's v1 folders are
  removed when the fault ends, at the run's end, by the guardian when the harness dies,
  and by the next run (``leftovers``) if both died.

Memory the process already has stays charged where it was: the limit counts what it
allocates from then on (both versions; v1 charge moving is deprecated). Swap is limited
too where the kernel offers it, so a limit ends in an OOM kill rather than swapping.
"""

from __future__ import annotations

import contextlib
import enum
import errno
import functools
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from harness.system import cgroups

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
    "settings",
    "v1_run_dirs",
]

CPU_PERIOD_US = 100_000
PARENT_NAME = "chaos"
_MOVE_ROUNDS = 50


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
    """Each v1 controller and its ``chaos`` folder under our own cgroup there."""
    mounts = parse_v1_mounts(_read("/proc/self/mountinfo"))
    own = parse_v1_own(_read("/proc/self/cgroup"))
    parents: dict[str, Path] = {}
    for name, point in mounts.items():
        rel = own.get(name, "/").strip("/")
        parents[name] = (point / rel if rel else point) / PARENT_NAME
    return parents


@functools.cache
def _backends(v2_parent: Path | None) -> tuple[dict[Controller, Backend], dict[Controller, str]]:
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
    found, why = _backends(v2_parent)
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


class LimitGroup:
    """One process's limit cgroup: made, limited, entered; ``release`` undoes it all."""

    def __init__(
        self,
        backend: Backend,
        group: cgroups.Cgroup,
        home: Mapping[int, Path],
        fallback_home: Path,
    ) -> None:
        self.backend = backend
        self.group = group
        self._home = dict(home)
        self._fallback = fallback_home
        self._oom_seen = 0

    @property
    def path(self) -> Path:
        return self.group.path

    def apply(self, value: int) -> None:
        """Write the limit, then move every process in (``OSError`` as the kernel says)."""
        for name, text, required in settings(self.backend.controller, self.backend.version, value):
            try:
                _write(self.group.path / name, text)
            except OSError:
                if required:
                    raise
        for pid in self._home:
            self.group.add(pid)

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
        """Move every process back where it came from and remove the group; problems."""
        problems: list[str] = []
        for _ in range(_MOVE_ROUNDS):
            left = self.group.pids()
            if not left:
                break
            for pid in left:
                home = self._home.get(pid, self._fallback)
                try:
                    _write(home / "cgroup.procs", str(pid))
                except OSError as exc:
                    if exc.errno != errno.ESRCH:
                        with contextlib.suppress(OSError):
                            _write(self._fallback / "cgroup.procs", str(pid))
        for _ in range(_MOVE_ROUNDS):
            if self.group.remove():
                break
            time.sleep(0.01)  # a killed task leaving its cgroup
        else:
            problems.append(f"limit cgroup {self.group.path} could not be removed (still busy)")
        return problems


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

    def backend(self, controller: Controller) -> Backend | str:
        if self._refuse is not None:
            return self._refuse
        return backend_for(controller, self._v2_parent if self._trial is not None else None)

    def open(self, controller: Controller, name: str, pid: int, instance: int) -> LimitGroup:
        """Make the group ``name`` for ``pid`` (not yet limited nor entered)."""
        backend = self.backend(controller)
        if isinstance(backend, str):
            raise OSError(errno.ENOTSUP, backend)
        if backend.version == 2:
            assert self._trial is not None
            self._enable_v2(controller)
            group = self._trial.child(f"i{instance}-{name}")  # TrialCgroup reads the i<N>
            home = self._trial.path / f"i{instance}"  # the instance's leaf (containment.py)
            homes = {pid: home}
            fallback = home
        else:
            run = backend.parent / self.run_name
            group = cgroups.Cgroup(run / f"{self.trial_id}-{name}")
            homes = {pid: self._v1_home(controller, pid, backend)}
            fallback = backend.parent.parent
        group.create()
        limit = LimitGroup(backend, group, homes, fallback)
        self._open.append(limit)
        return limit

    def _v1_home(self, controller: Controller, pid: int, backend: Backend) -> Path:
        own = parse_v1_own(_read(f"/proc/{pid}/cgroup")).get(str(controller))
        point = parse_v1_mounts(_read("/proc/self/mountinfo")).get(str(controller))
        if own is None or point is None:
            return backend.parent.parent
        rel = own.strip("/")
        return point / rel if rel else point

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


def remove_v1_run(run_dir: Path) -> bool:
    """Remove a run's v1 folder: its groups should be empty (their processes were moved
    back or ended); a process still there is SIGKILLed first (only ours go there)."""
    root = cgroups.Cgroup(run_dir)
    for pid in root.pids():
        with contextlib.suppress(OSError):
            os.kill(pid, 9)
    for _ in range(_MOVE_ROUNDS):
        if root.remove():
            cgroups.Cgroup(run_dir.parent).rmdir_if_empty()
            return True
        time.sleep(0.01)
    return False
