"""The owner of one trial's system under test: launch, readiness, traffic, teardown.

``RunningSystem`` is the one place that holds a trial's resources (the run scope and the
trial's cgroup, the kernel event hub, run folder, ports, timeline, process tracker,
launched roots, probe and workload threads) and gives every one of them back in ``close``,
whatever happened before. It judges nothing and offers no faults: ``run_trial`` drives it
from a scenario, and ``SystemSession`` wraps it for code.
"""

from __future__ import annotations

import functools
import re
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from harness import disks as _disks
from harness import proxy as _proxy
from harness.disks import DiskSet
from harness.errors import NotReadyError
from harness.faults.registry import FAULTS
from harness.observe.events import HarnessNote, NoteLevel, Phase, ProcessExit
from harness.observe.timeline import Timeline
from harness.proxy import ProxySet
from harness.run.context import TrialContext
from harness.run.log_patterns import log_patterns
from harness.run.traffic import JOIN_S, Traffic
from harness.scenario.model import Scenario
from harness.scenario.templates import port_names, resolve, values_for
from harness.system import containment, procevents, rundir
from harness.system.containment import RunScope, TrialCgroup
from harness.system.host import EventSource
from harness.system.launcher import Launched, launch
from harness.system.limits import Limits
from harness.system.output import OutputLimits
from harness.system.ports import PortAllocator
from harness.system.process import TrackedProcess
from harness.system.readiness import ReadyChecks, wait_ready
from harness.system.teardown import teardown
from harness.system.tracker import ProcessTracker, RoleMatcher

PhaseCallback = Callable[[str], None]


class RunningSystem:
    """One running copy (or ``instances`` copies) of the system under test."""

    def __init__(
        self,
        scenario: Scenario,
        *,
        seed: int = 0,
        keep_run_dir: bool = False,
        on_phase: PhaseCallback | None = None,
        abort: threading.Event | None = None,
    ) -> None:
        self.scenario = scenario
        self.abort = abort or threading.Event()
        """Set when the run is interrupted: a start-up wait ends at once."""
        self.seed = seed
        self.keep_run_dir = keep_run_dir
        self._on_phase = on_phase
        self.started = time.monotonic()
        self.deadline = self.started + scenario.timeout
        self.timeline = Timeline()
        self.trial_id = uuid.uuid4().hex
        # What needs the host's features first (cgroups, the connector, pidfd, /proc). If
        # anything after it fails, what was already taken is given back before raising.
        self.scope: RunScope = containment.acquire()
        self._scope_held = True
        self.cgroup: TrialCgroup | None = None
        self._hub: procevents.ProcEventHub | None = None
        try:
            self.cgroup = self.scope.trial(self.trial_id, scenario.system.instances)
            if self.scope.events.source is EventSource.NETLINK:
                self._hub = procevents.acquire()
            self.tracker = ProcessTracker(
                self.timeline, self._matchers(), cgroup=self.cgroup, events=self._hub
            )
        except BaseException:
            self._give_back_host()
            raise
        self.ports = PortAllocator()
        self.root_dir = rundir.create(scenario.name)
        self.proxies = ProxySet()
        self.disks = DiskSet()
        try:
            self.values, self.run_dirs = self._template_values()
            self._open_proxies_and_disks()
        except BaseException:
            self.proxies.close()
            self.disks.close()
            self.tracker.stop()
            self.ports.release_all()
            shutil.rmtree(self.root_dir, ignore_errors=True)
            self._give_back_host()
            raise
        self.limits = Limits(
            trial_id=self.trial_id,
            run_name=str(self.scope.name),
            trial=self.cgroup.group if self.cgroup is not None else None,
            v2_parent=self.scope.containment.parent if self.cgroup is not None else None,
        )
        self.ctx = TrialContext(
            timeline=self.timeline,
            tracker=self.tracker,
            values=self.values,
            seed=seed,
            deadline=self.deadline,
            proxies=self.proxies,
            disks=self.disks,
            limits=self.limits,
        )
        self.traffic = Traffic(scenario, self.ctx.resolve, self.timeline)
        self.launched: list[Launched] = []
        self.output_limits = OutputLimits(keep=log_patterns(scenario))
        self.ready_t: float | None = None
        self._closed = False

    # ------------------------------------------------------------------ set-up

    def _template_values(self) -> tuple[list[dict[str, str]], list[Path]]:
        scenario = self.scenario
        share = set(scenario.system.share)
        names = port_names(scenario)
        shared = {name: self.ports.allocate() for name in names} if "port" in share else {}
        shared_proxies = (
            {name: self.ports.allocate() for name in scenario.proxies} if "port" in share else {}
        )
        values: list[dict[str, str]] = []
        run_dirs: list[Path] = []
        for instance in range(scenario.system.instances):
            run_dir = self.root_dir if "run_dir" in share else self.root_dir / f"i{instance}"
            run_dir.mkdir(parents=True, exist_ok=True)
            run_dirs.append(run_dir)
            ports = shared or {name: self.ports.allocate() for name in names}
            proxies = shared_proxies or {name: self.ports.allocate() for name in scenario.proxies}
            values.append(
                values_for(
                    run_dir=run_dir,
                    scenario_file=scenario.file,
                    instance=instance,
                    ports=ports,
                    variables=scenario.vars,
                    proxies=proxies,
                    disks={name: run_dir / "disks" / name for name in scenario.disks},
                )
            )
        return values, run_dirs

    def _open_proxies_and_disks(self) -> None:
        """Proxies listen and disks are mounted before anything starts (``before: start``
        faults and the system's first write find them); instances that share a port or a
        run folder share the proxy or disk."""
        for name, proxy in self.scenario.proxies.items():
            for port, instances in _groups(self.values, f"proxy.{name}").items():
                upstream = functools.partial(self._upstream, proxy.upstream, instances[0])
                self.proxies.open(name, instances, int(port), upstream, proxy.listen)
        for name, disk in self.scenario.disks.items():
            for folder, instances in _groups(self.values, f"disk.{name}").items():
                self.disks.add(name, instances, Path(folder), disk.size)

    def _upstream(self, template: str, instance: int) -> tuple[str, int]:
        """Where a proxy forwards a new connection now (``{ready.X}`` once it is known)."""
        host, _, port = resolve(template, self.values[instance]).rpartition(":")
        return host.strip("[]"), int(port)

    def _matchers(self) -> list[RoleMatcher]:
        return [
            RoleMatcher(
                name=name,
                root=spec.root,
                cmdline=re.compile(spec.cmdline) if spec.cmdline else None,
                exe=spec.exe,
                forked_from=spec.forked_from,
            )
            for name, spec in self.scenario.roles.items()
        ]

    def phase(self, name: str) -> None:
        """Mark a phase on the timeline (and tell the progress display)."""
        self.timeline.record(Phase(t=self.timeline.now(), name=name))
        if self._on_phase is not None:
            self._on_phase(name)

    def note(self, level: NoteLevel, message: str) -> None:
        """Put something the harness noticed on the record (an error keeps a pass away)."""
        self.timeline.record(HarnessNote(t=self.timeline.now(), level=level, message=message))

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Launch the instances, each in its own session and tracked from its first instant.

        With ``start: sequential`` only the first is launched here; ``wait_ready`` launches
        each next one once the previous is ready.
        """
        self.phase("launch")
        self.tracker.start()
        together = self.scenario.system.start == "together"
        for instance in range(len(self.values) if together else 1):
            self._launch(instance)

    def _launch(self, instance: int) -> None:
        system = self.scenario.system
        values = self.values[instance]
        cwd = Path(resolve(system.cwd, values)) if system.cwd else self.run_dirs[instance]
        command = [resolve(part, values) for part in system.command]

        def track(pid: int) -> None:
            self.tracker.add_root(
                pid,
                instance,
                trial_id=self.trial_id,
                command=command,
                daemonizes=system.daemonizes,
            )

        with self.tracker.launching():
            proc = launch(
                command,
                instance=instance,
                env={k: resolve(v, values) for k, v in system.env.items()},
                cwd=cwd,
                timeline=self.timeline,
                trial_id=self.trial_id,
                output=self.output_limits,
                cgroup_procs=self.cgroup.procs_file(instance) if self.cgroup else None,
                on_pid=track,
            )
            self.launched.append(proc)

    def wait_ready(self) -> None:
        """Every instance ready before the deadline, or ``NotReadyError`` with its output."""
        self.phase("ready")
        ready = self.scenario.system.ready
        deadline = min(self.deadline - self.teardown_budget(), time.monotonic() + ready.timeout)
        for instance in range(len(self.values)):
            if instance >= len(self.launched):  # sequential start: the next copy, now
                self._launch(instance)
            proc = self.launched[instance]
            values = self.values[instance]
            checks = ReadyChecks(
                http_url=resolve(ready.http.url, values) if ready.http else None,
                http_status=ready.http.status if ready.http else 200,
                tcp_host=ready.tcp.host if ready.tcp else None,
                tcp_port=int(resolve(ready.tcp.port, values)) if ready.tcp else None,
                log_regex=ready.log,
                file_path=resolve(ready.file, values) if ready.file else None,
                roles=tuple(ready.roles.items()),
            )
            outcome = wait_ready(
                checks,
                proc,
                self.timeline,
                deadline=deadline,
                is_alive=functools.partial(self.tracker.is_alive, proc.pid),
                interrupted=self.abort.is_set,
                daemonizes=self.scenario.system.daemonizes,
                system_alive=functools.partial(self.tracker.instance_alive, instance),
                left_behind=functools.partial(self.tracker.left_behind, instance, proc.pid),
                roots_known=functools.partial(self._has_root, instance),
                role_count=functools.partial(self._live_of_role, instance),
            )
            if not outcome.ok:
                raise NotReadyError(
                    f"instance {instance} did not become ready: {outcome.reason}",
                    proc.output_tail(),
                )

            for key, value in outcome.groups.items():
                values[f"ready.{key}"] = value
        self.ready_t = self.timeline.now()

    def wait_exit(self) -> str | None:
        """With ``system.expect_exit``: wait until every root has exited, at most ``within``
        (and never past the trial's budget). None when they did; else what still runs.

        Exits are seen through pidfds the moment they happen: the wait ends at the last
        root's ``ProcessExit``, never later.
        """
        spec = self.scenario.system.expect_exit
        assert spec is not None
        self.phase("exit")
        deadline = min(self.deadline - self.teardown_budget(), time.monotonic() + spec.within)
        pids = {proc.pid for proc in self.launched}

        def root_exit(event: object) -> bool:
            return isinstance(event, ProcessExit) and event.pid in pids

        while True:
            seen = len(self.timeline)
            exited = {
                e.pid
                for e in self.timeline.events()[:seen]
                if isinstance(e, ProcessExit) and e.pid in pids
            }
            remaining = deadline - time.monotonic()
            if exited == pids or remaining <= 0 or self.abort.is_set():
                break
            self.timeline.wait_for(root_exit, min(remaining, 0.5), since=seen)
        running = sorted(pids - exited)
        if not running:
            return None
        return (
            f"expected the system to exit within {spec.within:g}s (system.expect_exit), but"
            f" its root{'s' if len(running) > 1 else ''} (pid {', '.join(map(str, running))})"
            f" still ran at {self.timeline.now():.2f}s"
        )

    def observe(self) -> None:
        """Start the probes (one reading each first: the steady state) and the workload."""
        self.traffic.start()

    def remaining(self) -> float:
        """Seconds left before the trial must begin its teardown."""
        return self.deadline - time.monotonic() - self.teardown_budget()

    def teardown_budget(self) -> float:
        """What teardown may take: the stop grace and a margin to sweep."""
        return self.scenario.system.stop.grace + 2.0

    # ------------------------------------------------------------------ teardown

    def close(self) -> None:
        """Teardown: always safe, idempotent; leaves no process, port or folder behind.

        Every step runs even if an earlier one fails (or is interrupted): the process tree
        is always stopped and swept, and the first error is raised once all have run.
        """
        if self._closed:
            return
        self._closed = True
        steps: list[Callable[[], object]] = [
            lambda: self.phase("teardown"),
            functools.partial(self.traffic.stop, drain=1.0),
            self.ctx.run_teardown_actions,
            self._release_limits,
            self._teardown_tree,
            self._join_traffic,
            self._close_proxies,
            self.tracker.stop,
            *[p.close for p in self.launched],
            self._remove_cgroup,
            self._unmount_disks,
            self.ports.release_all,
            self._remove_run_dir,
            lambda: self.phase("done"),
            self._give_back_host,
        ]
        first: BaseException | None = None
        for step in steps:
            try:
                step()
            except BaseException as exc:  # finish the teardown, then report the first
                first = first or exc
        if first is not None:
            raise first

    def _live_of_role(self, instance: int, role: str) -> int:
        return len(self.tracker.processes(role, instance))

    def _has_root(self, instance: int) -> bool:
        return any(p.root for p in self.tracker.processes(instance=instance))

    def _roots(self) -> list[TrackedProcess]:
        """Who gets the stop signal: the roots; a launcher that never daemonized too."""
        roots = [p for p in self.tracker.processes(alive_only=False) if p.root]
        held = {p.instance for p in roots if p.alive}
        for launched in self.launched:
            proc = self.tracker.get(launched.pid)
            if proc is not None and proc.alive and not proc.root and proc.instance not in held:
                roots.append(proc)
        return roots

    def _teardown_tree(self) -> None:
        teardown(
            self.tracker,
            self._roots(),
            stop_signal=self.scenario.system.stop.signal,
            grace=self.scenario.system.stop.grace,
            timeline=self.timeline,
            trial_id=self.trial_id,
            cgroup=self.cgroup,
        )

    def _release_limits(self) -> None:
        """Any limit group a fault left open (its own undo ran first, as a rule)."""
        for problem in self.limits.close():
            self.note(NoteLevel.WARNING, problem)

    def _remove_cgroup(self) -> None:
        """The trial's cgroup goes once it is empty (teardown emptied it)."""
        if self.cgroup is None:
            return
        if not self.cgroup.remove():
            left = self.cgroup.kill_all()
            if not self.cgroup.remove():
                self.note(
                    NoteLevel.ERROR,
                    f"the trial's cgroup {self.cgroup.path} could not be removed"
                    f" (still holds {', '.join(map(str, left)) or 'something'});"
                    " the run removes it at its end",
                )

    def _give_back_host(self) -> None:
        """The event hub and the run scope: the last trial's release closes them."""
        hub, self._hub = self._hub, None
        if hub is not None:
            procevents.release(hub)
        if self._scope_held:
            self._scope_held = False
            containment.release(self.scope)

    def _join_traffic(self) -> None:
        hanging = self.traffic.join()
        if hanging:
            self.note(
                NoteLevel.WARNING,
                f"requests of {', '.join(hanging)} still hang {JOIN_S:g}s after"
                " teardown; they end at their own HTTP timeout",
            )

    def _close_proxies(self) -> None:
        for problem in self.proxies.close():
            self.note(NoteLevel.WARNING, f"proxy: {problem}")

    def _unmount_disks(self) -> None:
        for problem in self.disks.close(keep=self.keep_run_dir):
            self.note(NoteLevel.WARNING, problem)

    def _remove_run_dir(self) -> None:
        if not self.keep_run_dir:
            shutil.rmtree(self.root_dir, ignore_errors=True)

    def __enter__(self) -> RunningSystem:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _groups(values: list[dict[str, str]], key: str) -> dict[str, list[int]]:
    """Instances by their value of ``key``: one group per proxy port or disk folder."""
    groups: dict[str, list[int]] = {}
    for instance, mapping in enumerate(values):
        groups.setdefault(mapping[key], []).append(instance)
    return groups


def host_refusals(scenario: Scenario) -> list[str]:
    """What this host cannot give the scenario (its disks, a fault kind it uses), with why:
    such a scenario is skipped, as for a missing ``requires`` executable."""
    reasons: dict[str, str] = {}
    if scenario.disks and (why := _disks.available()):
        reasons["disks"] = why
    if scenario.proxies and (why := _proxy.available()):
        reasons["proxies"] = why
    for entry in scenario.faults:
        for choice in entry.choices:
            if choice.kind in FAULTS and (why := FAULTS.get(choice.kind).available()):
                reasons[choice.kind] = why
    return [f"{what}: {why}" for what, why in reasons.items()]
