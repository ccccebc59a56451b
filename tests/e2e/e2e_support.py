"""Helpers for the CLI end-to-end tests: run ``chaos`` as a user does, and prove it cleaned up.

Every ``chaos`` process a test starts goes through the ``chaos`` fixture. It runs in the
test's own folder with a private ``TMPDIR``, so after the test the fixture can check, for
that test's runs only: no process carrying a ``CHAOS_TRIAL`` marker launched by one of its
``chaos`` processes is alive, no cgroup of one of its runs is left (``chaos/run-*`` named
with its pid), no port the journals saw the system listen on is still listening, and no
``chaos-*`` temp folder is left. A leak fails the test that caused it.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import pytest
from support import WaitTimeout, wait_until

from harness.disks.mounts import SOURCE_PREFIX, mount_table, unmount_owned_by
from harness.system import cgroups, host, limits
from harness.system.containment import RunName
from harness.system.marker import find_marked, read_marker, start_time

CHAOS = str(Path(sys.executable).with_name("chaos"))
SYSTEMS = Path(__file__).resolve().parent / "systems"
ROOT = Path(__file__).resolve().parents[2]
RUN_DEADLINE = 120.0
"""Generous cap for one ``chaos`` command; each ends on its own long before."""
_WITH_DEFAULT_SIGINT = [
    sys.executable,
    "-c",
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL);"
    " os.execv(sys.argv[1], sys.argv[1:])",
]
"""Background runs get SIGINT back: a shell starting the tests in the background ignores it,
and an ignored signal stays ignored across exec (the SIGINT tests would then hang)."""


@dataclass(frozen=True)
class CliResult:
    """One finished ``chaos`` command."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    def __str__(self) -> str:
        return (
            f"chaos {' '.join(self.args)} -> {self.returncode}\n"
            f"--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"
        )


def read_journal(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    assert data.get("schema") == "chaos-journal/1", path
    return data


def only_trial(home: Path, out: str = "reports") -> dict[str, Any]:
    """The one trial of the one scenario a ``chaos run`` journaled under ``home/out``."""
    scenario = read_journal(home / out / "journal.json")["scenarios"][0]
    (trial,) = scenario["trials"]
    found: dict[str, Any] = trial
    return found


@dataclass
class Chaos:
    """Runs ``chaos`` commands for one test and remembers them for the leak checks."""

    home: Path
    harnesses: dict[int, int | None] = field(default_factory=dict)
    """pid -> start time (clock ticks) of every chaos process started."""
    background: list[subprocess.Popen[str]] = field(default_factory=list)
    extra_env: dict[str, str] = field(default_factory=dict)
    """Added to every chaos command's environment (``CHAOS_CONTAINMENT=marker``...)."""

    @property
    def tmpdir(self) -> Path:
        return self.home / "tmp"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["TMPDIR"] = str(self.tmpdir)
        env["COLUMNS"] = "400"  # no wrapping: a path or a message stays on one line
        env.pop("CHAOS_TRIAL", None)
        env.update(self.extra_env)
        return env

    def scenario(self, name: str, text: str) -> Path:
        """Write a scenario file (``{SYSTEMS}`` becomes the tiny systems' folder)."""
        path = self.home / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).replace("{SYSTEMS}", str(SYSTEMS)), "utf-8")
        return path

    def start(self, *args: str | Path) -> subprocess.Popen[str]:
        """Start ``chaos ARGS`` in the background (the test must wait for it)."""
        self.tmpdir.mkdir(exist_ok=True)
        proc = subprocess.Popen(
            [*_WITH_DEFAULT_SIGINT, CHAOS, *map(str, args)],
            cwd=self.home,
            env=self.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.harnesses[proc.pid] = start_time(proc.pid)
        self.background.append(proc)
        return proc

    def finish(self, proc: subprocess.Popen[str], deadline: float = RUN_DEADLINE) -> CliResult:
        """Wait for a background ``chaos`` to exit, with a deadline."""
        try:
            out, err = proc.communicate(timeout=deadline)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            pytest.fail(f"chaos did not finish within {deadline:g}s:\n{out}\n{err}")
        argv = [str(a) for a in proc.args]  # type: ignore[union-attr]
        args = tuple(argv[argv.index(CHAOS) + 1 :])
        return CliResult(args, proc.returncode, out, err)

    def run(self, *args: str | Path, deadline: float = RUN_DEADLINE) -> CliResult:
        """Run ``chaos ARGS`` to completion."""
        return self.finish(self.start(*args), deadline)

    # ------------------------------------------------------------------ leak checks

    def _listening(self, ports: set[int]) -> dict[int, int | None]:
        """Port → owner of each listening socket on one of ``ports``, except those of a
        process another test's harness launched (xdist: the port number was free again)."""
        found: dict[int, int | None] = {}
        for c in psutil.net_connections("tcp"):
            if c.status != psutil.CONN_LISTEN or not c.laddr or c.laddr.port not in ports:
                continue
            marker = read_marker(c.pid) if c.pid is not None else None
            if marker is not None and marker.harness_pid not in self.harnesses:
                continue
            found[c.laddr.port] = c.pid
        return found

    def marked_processes(self) -> list[int]:
        """Live processes launched by one of this test's chaos processes."""
        found = []
        for pid in find_marked():
            marker = read_marker(pid)
            if marker is None or marker.harness_pid not in self.harnesses:
                continue
            started = self.harnesses[marker.harness_pid]
            if marker.harness_start is None or started in (None, marker.harness_start):
                with contextlib.suppress(psutil.Error):
                    if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                        found.append(pid)
        return found

    def run_cgroups(self) -> list[cgroups.Cgroup]:
        """Run cgroups (``chaos/run-*``) made by one of this test's chaos processes: the
        v2 ones, and those resource faults make in v1 hierarchies."""
        parents = [d.parent for d in limits.v1_run_dirs("_")]
        found = host.locate()
        if found is not None:
            parent, _ = host.place(*found)
            if parent is not None:
                parents.append(parent.with_name(self.extra_env.get(host.PARENT_ENV, parent.name)))
        mine = []
        for child in [c for p in parents for c in cgroups.Cgroup(p).children()]:
            name = RunName.parse(child.name)
            if name is not None and name.pid in self.harnesses:
                started = self.harnesses[name.pid]
                if started is None or started == name.start:
                    mine.append(child)
        return mine

    def journal_ports(self) -> set[int]:
        """Every port a system listened on, from every journal this test produced."""
        ports: set[int] = set()
        for path in self.home.rglob("*.json"):
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (ValueError, OSError):
                continue
            if not isinstance(data, dict) or data.get("schema") != "chaos-journal/1":
                continue
            for scenario in data.get("scenarios", []):
                for trial in scenario.get("trials", []):
                    for event in trial.get("events", []):
                        if event.get("type") == "port_listen":
                            ports.add(int(event["port"]))
        return ports

    def problems(self) -> list[str]:
        """What this test's runs left behind (waits a while for exits in progress)."""
        found: list[str] = []
        with contextlib.suppress(WaitTimeout):
            wait_until(
                lambda: not self.marked_processes(),
                what="the marked processes to exit",
                timeout=10.0,
                interval=0.05,
            )
        found += [f"marked process {_describe(pid)}" for pid in self.marked_processes()]
        with contextlib.suppress(WaitTimeout):
            wait_until(
                lambda: not self.run_cgroups(),
                what="the runs' cgroups to be removed",
                timeout=10.0,
                interval=0.05,
            )
        for group in self.run_cgroups():
            pids = group.pids()
            found.append(f"cgroup {group.path} ({len(pids)} process(es): {pids[:5]})")
        ports = self.journal_ports()
        with contextlib.suppress(WaitTimeout):  # a socket being closed by an exiting process
            wait_until(
                lambda: not self._listening(ports),
                what="the systems' ports to be released",
                timeout=10.0,
                interval=0.05,
            )
        listening = self._listening(ports)
        found += [f"port {port} still listening ({pid})" for port, pid in listening.items()]
        found += [f"mount {point} still mounted" for point in self.mounts()]
        if self.tmpdir.exists():
            found += [f"temp folder {p}" for p in sorted(self.tmpdir.glob("chaos-*"))]
        return found

    def mounts(self) -> list[str]:
        """Disks one of this test's chaos processes mounted that are still mounted."""
        owners = tuple(f"{SOURCE_PREFIX}{pid}-" for pid in self.harnesses)
        return [m.point for m in mount_table() if owners and m.source.startswith(owners)]

    def cleanup(self) -> None:
        """Stop what a failed test left: our own chaos processes, then their marked tree."""
        for proc in self.background:
            if proc.poll() is None:
                proc.kill()
            proc.communicate()
        from harness.system.pidfd import kill_if_marked

        for pid in self.marked_processes():
            kill_if_marked(pid, lambda m: m.harness_pid in self.harnesses)
        for pid in self.harnesses:
            unmount_owned_by(pid)
        v1 = {d.parent for d in limits.v1_run_dirs("_")}
        for group in self.run_cgroups():
            if group.path.parent in v1:
                limits.remove_v1_run(group.path)
                continue
            with contextlib.suppress(OSError):
                if group.populated():
                    group.kill()
                    group.wait_for(empty=True, timeout=5.0)
                group.remove()


def _describe(pid: int) -> str:
    try:
        return f"{pid} {' '.join(psutil.Process(pid).cmdline())[:120]!r}"
    except psutil.Error:
        return str(pid)


def supervisor_scenario(
    name: str,
    *,
    restart_delay: str = "0",
    within: str = "1s",
    duration: str = "2s",
    tags: str = "[tiny]",
    extra_args: str = "",
    timeout: str = "30s",
) -> str:
    """A scenario for the tiny supervisor: kill its worker once (at 300 ms), expect a quick
    restart. ``duration`` must leave the kill and the recovery time to happen."""
    return f"""\
        name: {name}
        tags: {tags}
        repeat: 1
        timeout: {timeout}
        vars: {{delay: "{restart_delay}"}}
        system:
          command: ["{{python}}", "{{SYSTEMS}}/supervisor.py", --port, "{{port}}",
                    --restart-delay, "{{delay}}"{extra_args}]
          ready: {{log: 'worker listening on \\d+', timeout: 20s}}
          stop: {{signal: SIGTERM, grace: 3s}}
        roles:
          supervisor: {{root: true}}
          worker: {{cmdline: 'systems/worker\\.py', count: 1}}
        faults:
          - at: 300ms
            kill: {{role: worker, signal: SIGKILL}}
        duration: {duration}
        invariants:
          - recovers: {{role: worker, within: {within}}}
          - alive: {{role: supervisor}}
        """
