"""A run's containment: its cgroups (or the marker fallback) and its guardian.

Layout, under the parent ``host.place`` picks (``<cgroup2 root>/chaos`` as root)::

    chaos/                                   chaos-owned, shared by every run on the host
      run-<pidns>-<harness pid>-<harness start>-<n>/   one per run (per RunScope)
        trial-<trial id>/                    one per trial: cgroup.kill ends all of it
          i0/  i1/ ...                       one leaf per instance: the processes live here

Only leaves hold processes, so a later issue can enable controllers (memory, cpu, pids)
on the ``chaos``, run and trial levels, and put a role's limits in a leaf of its own,
without meeting cgroup v2's "no internal processes" rule. A run's name says whose it is:
the next run (any run) ends and removes a run cgroup whose harness is gone (``leftovers``).

``RunScope`` is shared by everything a harness process runs at the same time (``acquire``
/ ``release`` count the holders: ``Run.execute`` holds it for a whole ``chaos run``, each
``RunningSystem`` for its trial, so the pytest plugin and ``SystemSession`` get one too).
It starts the run's guardian (``guardian.py``), which ends the run's cgroups, or in the
marker fallback this harness's marked processes, the moment the harness dies. The last
holder's ``release`` removes the run cgroup and dismisses the guardian.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import select
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from harness.errors import HostError
from harness.system import cgroups, guardian, host, limits
from harness.system.marker import start_time

__all__ = ["RunName", "RunScope", "TrialCgroup", "acquire", "release"]

_GUARDIAN_READY_S = 10.0
_GUARDIAN_EXIT_S = 10.0
_FREEZE_WAIT_S = 1.0
_EMPTY_WAIT_S = 5.0
_RUN_NAME = re.compile(r"^run-(\d+)-(\d+)-(\d+)-(\d+)$")
_LIMIT_GROUP = re.compile(r"^i(\d+)-.+$")
"""A resource fault's group beside the leaves, ``i<N>-f<fault>-p<pid>`` (``limits.py``)."""


def _limit_instance(name: str) -> int | None:
    match = _LIMIT_GROUP.match(name)
    return int(match.group(1)) if match else None


def pid_namespace() -> int:
    """The inode of this process's pid namespace: pids only mean something inside one."""
    try:
        return os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        return 0


@dataclass(frozen=True)
class RunName:
    """Whose a run cgroup is: the harness's pid namespace, pid and start time (ticks)."""

    pidns: int
    pid: int
    start: int
    seq: int

    def __str__(self) -> str:
        return f"run-{self.pidns}-{self.pid}-{self.start}-{self.seq}"

    @classmethod
    def parse(cls, name: str) -> RunName | None:
        match = _RUN_NAME.match(name)
        if match is None:
            return None
        pidns, pid, start, seq = (int(g) for g in match.groups())
        return cls(pidns, pid, start, seq)

    def harness_alive(self) -> bool:
        """Is the harness that made it still running (same pid, same start, not a zombie)?"""
        if self.pidns != pid_namespace():
            return True  # another namespace's: not ours to judge
        try:
            with open(f"/proc/{self.pid}/stat", "rb") as stat:
                raw = stat.read()
        except OSError:
            return False
        if raw[raw.rfind(b")") + 2 :].split()[:1] in ([b"Z"], [b"X"]):
            return False
        return start_time(self.pid) == self.start


# --------------------------------------------------------------------------- a trial


class TrialCgroup:
    """One trial's cgroup and its per-instance leaves."""

    def __init__(self, group: cgroups.Cgroup, mount: cgroups.Mount, instances: int) -> None:
        self.group = group
        self.mount = mount
        self.leaves = [group.child(f"i{i}") for i in range(instances)]
        self._paths = {mount.path_of(leaf.path): i for i, leaf in enumerate(self.leaves)}

    @property
    def path(self) -> Path:
        return self.group.path

    def create(self) -> None:
        for leaf in self.leaves:
            leaf.create()

    def procs_file(self, instance: int) -> Path:
        """Where a root of ``instance`` is written to enter its leaf."""
        return self.leaves[instance].path / "cgroup.procs"

    def instance_of(self, pid: int) -> int | None:
        """The instance whose leaf (or a cgroup below it) holds ``pid``; None if not ours."""
        path = cgroups.cgroup_of(pid)
        if path is None:
            return None
        found = self._paths.get(path)
        if found is not None:
            return found
        for leaf_path, instance in self._paths.items():
            if path.startswith(leaf_path + "/"):
                return instance
        top = self.mount.path_of(self.group.path) + "/"
        if path.startswith(top):
            return _limit_instance(path[len(top) :].split("/", 1)[0])
        return None

    def listing(self) -> dict[int, int]:
        """Every pid in the trial's cgroup, with the instance whose leaf (or limit group,
        ``harness.system.limits``) holds it."""
        found = {pid: i for i, leaf in enumerate(self.leaves) for pid in leaf.pids()}
        for child in self.group.children():
            instance = _limit_instance(child.name)
            if instance is not None:
                found.update(dict.fromkeys(child.pids(), instance))
        return found

    def pids(self) -> list[int]:
        return self.group.pids()

    def populated(self) -> bool:
        return self.group.populated()

    def kill_all(self) -> list[int]:
        """Freeze, list, ``cgroup.kill``, wait until empty: the pids it killed.

        Frozen first, so nothing forks between the listing and the kill: the list is exact.
        """
        if not self.group.populated():
            return []
        try:
            self.group.freeze(True)
            self.group.wait_for(frozen=True, timeout=_FREEZE_WAIT_S)
        except OSError:
            pass  # killing still works unfrozen; the list may then miss a last fork
        pids = self.group.pids()
        self.group.kill()
        self.group.wait_for(empty=True, timeout=_EMPTY_WAIT_S)
        return pids

    def remove(self) -> bool:
        """Remove the trial's cgroups (False if something is still in them)."""
        return self.group.remove()


# --------------------------------------------------------------------------- the guardian


class Guardian:
    """The run's guardian process: holds the read end of a pipe only the harness writes."""

    def __init__(self, run_cgroup: Path | None, v1_dirs: list[Path] | None = None) -> None:
        read_end, self._write_end = os.pipe()
        env = {k: v for k, v in os.environ.items() if not k.startswith("CHAOS_")}
        command = [
            sys.executable,
            "-I",
            "-S",
            guardian.__file__,
            "--harness-pid",
            str(os.getpid()),
            "--harness-start",
            str(start_time(os.getpid()) or 0),
        ]
        if run_cgroup is not None:
            command += ["--cgroup", str(run_cgroup)]
        for directory in v1_dirs or []:
            command += ["--v1-cgroup", str(directory)]
        command += ["--tmpdir", tempfile.gettempdir()]
        try:
            self._popen = subprocess.Popen(
                command,
                stdin=read_end,
                stdout=subprocess.PIPE,
                env=env,
                start_new_session=True,  # a Ctrl-C for the harness is not for it
                close_fds=True,
            )
        except OSError as exc:
            os.close(self._write_end)
            raise HostError(f"cannot start the run's guardian: {exc.strerror or exc}") from exc
        finally:
            os.close(read_end)
        assert self._popen.stdout is not None
        ready, _, _ = select.select([self._popen.stdout], [], [], _GUARDIAN_READY_S)
        line = self._popen.stdout.readline() if ready else b""
        self._popen.stdout.close()
        if line.strip() != guardian.READY.encode():
            self.close()
            raise HostError("the run's guardian did not start (python -I -S guardian.py)")

    @property
    def pid(self) -> int:
        return self._popen.pid

    def alive(self) -> bool:
        return self._popen.poll() is None

    def close(self) -> None:
        """Dismiss it: say this is a normal end, close the pipe, wait for it to exit."""
        if self._write_end >= 0:
            with contextlib.suppress(OSError):
                os.write(self._write_end, guardian.CLOSE.encode())
            os.close(self._write_end)
            self._write_end = -1
        try:
            self._popen.wait(_GUARDIAN_EXIT_S)
        except subprocess.TimeoutExpired:
            self._popen.kill()
            self._popen.wait()


# --------------------------------------------------------------------------- a run


class RunScope:
    """The containment of one run: its cgroup (or none) and its guardian."""

    _seq = itertools.count(1)

    def __init__(self, choice: host.ContainmentChoice, events: host.EventsChoice) -> None:
        self.containment = choice
        self.events = events
        self.run: cgroups.Cgroup | None = None
        self.name = RunName(
            pid_namespace(), os.getpid(), start_time(os.getpid()) or 0, next(self._seq)
        )
        self.v1_dirs = limits.v1_run_dirs(str(self.name))
        """Where resource faults on v1 hierarchies put this run's groups (made on use)."""
        if choice.mode is host.Containment.CGROUP:
            assert choice.parent is not None
            self.run = cgroups.Cgroup(choice.parent / str(self.name))
            try:
                self.run.create()
            except OSError as exc:
                raise HostError(
                    f"cannot create the run's cgroup {self.run.path}: {exc.strerror or exc}"
                ) from exc
        try:
            self.guardian = Guardian(self.run.path if self.run is not None else None, self.v1_dirs)
        except BaseException:
            if self.run is not None:
                self.run.remove()
            raise
        self._lock = threading.Lock()
        self._closed = False

    @property
    def uses_cgroups(self) -> bool:
        return self.run is not None

    def summary(self) -> str:
        return host.summary(self.containment, self.events)

    def trial(self, trial_id: str, instances: int) -> TrialCgroup | None:
        """The cgroup of a new trial (None in the marker fallback); ``HostError`` if refused."""
        if self.run is None:
            return None
        mount = self.containment.mount
        assert mount is not None
        group = TrialCgroup(self.run.child(f"trial-{trial_id}"), mount, instances)
        try:
            group.create()
        except OSError as exc:
            group.remove()
            raise HostError(
                f"cannot create the trial's cgroup {group.path}: {exc.strerror or exc}"
            ) from exc
        return group

    def ensure_guardian(self) -> None:
        """Start a new guardian if the run's has died (it is never trusted dead)."""
        with self._lock:
            if not self._closed and not self.guardian.alive():
                self.guardian.close()
                self.guardian = Guardian(
                    self.run.path if self.run is not None else None, self.v1_dirs
                )

    def close(self) -> None:
        """End anything left in the run's cgroup, remove it, dismiss the guardian."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        try:
            if self.run is not None:
                if self.run.populated():
                    self.run.kill()
                    self.run.wait_for(empty=True, timeout=_EMPTY_WAIT_S)
                self.run.remove()
                cgroups.Cgroup(self.run.path.parent).rmdir_if_empty()  # shared by runs
            for directory in self.v1_dirs:
                if directory.exists():
                    limits.remove_v1_run(directory)
        finally:
            self.guardian.close()


_lock = threading.Lock()
_scopes: dict[tuple[str, str], tuple[RunScope, int]] = {}


def acquire() -> RunScope:
    """The run scope for the current switches, opened on first use; pair with ``release``."""
    choice = host.containment()
    events = host.process_events()
    key = (str(choice.mode), str(events.source))
    with _lock:
        held = _scopes.get(key)
        if held is not None:
            held[0].ensure_guardian()
            _scopes[key] = (held[0], held[1] + 1)
            return held[0]
        scope = RunScope(choice, events)
        _scopes[key] = (scope, 1)
        return scope


def release(scope: RunScope) -> None:
    """One holder fewer; the last one closes the scope."""
    with _lock:
        for key, (held, count) in list(_scopes.items()):
            if held is scope:
                if count > 1:
                    _scopes[key] = (held, count - 1)
                    return
                del _scopes[key]
                break
        else:
            return
    scope.close()
