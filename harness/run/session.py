"""A live system under test: launched, tracked, observed, and always torn down.

``SystemSession`` is the one place that owns a trial's resources (run folder, ports,
process tree, observers). ``run_trial`` drives it from a scenario's schedule; the pytest
fixture ``chaos_system`` hands it to a test, which calls ``kill``/``freeze``/``check``
itself. Both get the same launcher, safety and teardown.
"""

from __future__ import annotations

import functools
import re
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Collection
from pathlib import Path
from types import TracebackType
from typing import Any

from harness.faults.registry import FAULTS
from harness.invariants.judge import history_of
from harness.invariants.registry import INVARIANTS
from harness.observe.events import FaultAction, HarnessNote, Phase
from harness.observe.probes import ProbePoller
from harness.observe.timeline import Timeline
from harness.run.context import TrialContext
from harness.scenario.model import Scenario
from harness.scenario.templates import port_names, resolve, values_for
from harness.spec.kinds import FaultSpec
from harness.spec.verdict import InvariantResult
from harness.system import rundir
from harness.system.launcher import Launched, launch
from harness.system.ports import PortAllocator
from harness.system.process import TrackedProcess
from harness.system.readiness import ReadyChecks, wait_ready
from harness.system.teardown import teardown
from harness.system.tracker import ProcessTracker, RoleMatcher
from harness.workload.http_load import HttpWorkload

_TRAFFIC_JOIN_S = 5.0
"""How long teardown waits for workload and probe requests still hanging after stop."""


class NotReadyError(Exception):
    """The system did not become ready; ``output_tail`` holds its last output lines."""

    def __init__(self, message: str, output_tail: list[str]) -> None:
        super().__init__(message)
        self.output_tail = output_tail


class SystemSession:
    """One running copy (or ``instances`` copies) of the system under test."""

    def __init__(
        self,
        scenario: Scenario,
        *,
        seed: int = 0,
        keep_run_dir: bool = False,
        on_phase: Any = None,
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
        # The tracker first: it is what needs the host's features (pidfd, /proc). If
        # anything after it fails, what was already taken is given back before raising.
        self.tracker = ProcessTracker(self.timeline, self._matchers())
        self.ports = PortAllocator()
        self.root_dir = rundir.create(scenario.name)
        try:
            self.values, self.run_dirs = self._template_values()
        except BaseException:
            self.tracker.stop()
            self.ports.release_all()
            shutil.rmtree(self.root_dir, ignore_errors=True)
            raise
        self.ctx = TrialContext(
            timeline=self.timeline,
            tracker=self.tracker,
            values=self.values,
            seed=seed,
            deadline=self.deadline,
        )
        self.launched: list[Launched] = []
        self.pollers: list[ProbePoller] = []
        self.workloads: list[HttpWorkload] = []
        self.ready_t: float | None = None
        self._fault_index = len(scenario.faults)
        self._closed = False

    # ------------------------------------------------------------------ set-up

    def _template_values(self) -> tuple[list[dict[str, str]], list[Path]]:
        scenario = self.scenario
        share = set(scenario.system.share)
        names = port_names(scenario)
        shared = {name: self.ports.allocate() for name in names} if "port" in share else {}
        values: list[dict[str, str]] = []
        run_dirs: list[Path] = []
        for instance in range(scenario.system.instances):
            run_dir = self.root_dir if "run_dir" in share else self.root_dir / f"i{instance}"
            run_dir.mkdir(parents=True, exist_ok=True)
            run_dirs.append(run_dir)
            ports = shared or {name: self.ports.allocate() for name in names}
            values.append(
                values_for(run_dir=run_dir, instance=instance, ports=ports, variables=scenario.vars)
            )
        return values, run_dirs

    def _matchers(self) -> list[RoleMatcher]:
        return [
            RoleMatcher(
                name=name,
                root=spec.root,
                cmdline=re.compile(spec.cmdline) if spec.cmdline else None,
                exe=spec.exe,
            )
            for name, spec in self.scenario.roles.items()
        ]

    def phase(self, name: str) -> None:
        """Mark a phase on the timeline (and tell the progress display)."""
        self.timeline.record(Phase(t=self.timeline.now(), name=name))
        if self._on_phase is not None:
            self._on_phase(name)

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
        with self.tracker.launching():
            proc = launch(
                command,
                instance=instance,
                env={k: resolve(v, values) for k, v in system.env.items()},
                cwd=cwd,
                timeline=self.timeline,
                trial_id=self.trial_id,
            )
            self.launched.append(proc)
            self.tracker.add_root(proc.pid, instance, trial_id=self.trial_id, command=command)

    def wait_ready(self) -> None:
        """Every instance ready before the deadline, or ``NotReadyError`` with its output."""
        self.phase("ready")
        ready = self.scenario.system.ready
        deadline = min(self.deadline, time.monotonic() + ready.timeout)
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
            )
            outcome = wait_ready(
                checks,
                proc,
                self.timeline,
                deadline=deadline,
                is_alive=functools.partial(self.tracker.is_alive, proc.pid),
                interrupted=self.abort.is_set,
            )
            if not outcome.ok:
                raise NotReadyError(
                    f"instance {instance} did not become ready: {outcome.reason}",
                    proc.output_tail(),
                )
            for key, value in outcome.groups.items():
                values[f"ready.{key}"] = value
        self.ready_t = self.timeline.now()

    def observe(self) -> None:
        """Start the probes (one reading each first: the steady state) and the workload."""
        instances = self.scenario.system.instances
        self.pollers = [
            ProbePoller(name, spec, self.ctx.resolve, self.timeline, instances)
            for name, spec in self.scenario.probes.items()
        ]
        for poller in self.pollers:
            poller.read_once()
            poller.start()
        self.workloads = [
            HttpWorkload(spec, self.ctx.resolve, self.timeline, instances)
            for spec in self.scenario.workload
        ]
        for workload in self.workloads:
            workload.start()

    def settle(self) -> None:
        """Stop traffic, take the final probe readings and the invariants' end observations."""
        self.phase("settle")
        drain = max(0.5, min(10.0, self.deadline - time.monotonic() - self._teardown_budget()))
        for workload in self.workloads:
            workload.stop(drain_timeout=drain)
        for poller in self.pollers:
            poller.stop()
            poller.read_once()
        for entry in self.scenario.invariants:
            checker = INVARIANTS.get(entry.kind)
            if checker.collect is None:
                continue
            try:
                checker.collect(entry.spec, self.ctx)
            except Exception as exc:
                self.note("error", f"{entry.kind} end observation failed: {exc!r}")

    def close(self) -> None:
        """Teardown: always safe, idempotent; leaves no process, port or folder behind.

        Every step runs even if an earlier one fails (or is interrupted): the process tree
        is always stopped and swept, and the first error is raised once all have run.
        """
        if self._closed:
            return
        self._closed = True
        steps: list[tuple[str, Callable[[], object]]] = [
            ("phase", lambda: self.phase("teardown")),
            *[("workload", functools.partial(w.stop, drain_timeout=1.0)) for w in self.workloads],
            *[("probe", p.stop) for p in self.pollers],
            ("fault clean-up", self.ctx.run_teardown_actions),
            ("process teardown", self._teardown_tree),
            ("traffic threads", self._join_traffic),
            ("tracker", self.tracker.stop),
            *[("output", p.close) for p in self.launched],
            ("ports", self.ports.release_all),
            ("run folder", self._remove_run_dir),
            ("phase", lambda: self.phase("done")),
        ]
        first: BaseException | None = None
        for _, step in steps:
            try:
                step()
            except BaseException as exc:  # finish the teardown, then report the first
                first = first or exc
        if first is not None:
            raise first

    def _teardown_tree(self) -> None:
        teardown(
            self.tracker,
            [p for p in self.tracker.processes(alive_only=False) if p.root],
            stop_signal=self.scenario.system.stop.signal,
            grace=self.scenario.system.stop.grace,
            timeline=self.timeline,
            trial_id=self.trial_id,
        )

    def _join_traffic(self) -> None:
        """Wait (bounded) for requests that outlived stop(): the dead system resets them."""
        deadline = time.monotonic() + _TRAFFIC_JOIN_S
        hanging = [w.spec.name for w in self.workloads if not w.join(deadline - time.monotonic())]
        hanging += [p.name for p in self.pollers if not p.join(deadline - time.monotonic())]
        if hanging:
            self.note(
                "warning",
                f"requests of {', '.join(hanging)} still hang {_TRAFFIC_JOIN_S:g}s after"
                " teardown; they end at their own HTTP timeout",
            )

    def _remove_run_dir(self) -> None:
        if not self.keep_run_dir:
            shutil.rmtree(self.root_dir, ignore_errors=True)

    def _teardown_budget(self) -> float:
        return self.scenario.system.stop.grace + 2.0

    def remaining(self) -> float:
        """Seconds left before the trial must begin its teardown."""
        return self.deadline - time.monotonic() - self._teardown_budget()

    def note(self, level: str, message: str) -> None:
        self.timeline.record(HarnessNote(t=self.timeline.now(), level=level, message=message))

    def __enter__(self) -> SystemSession:
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

    # ------------------------------------------------------------------ the Python API

    def processes(
        self, role: str | None = None, instance: int | None = None
    ) -> list[TrackedProcess]:
        """Live processes of the system, optionally of one role."""
        return self.tracker.processes(role=role, instance=instance)

    def inject(self, kind: str, **options: Any) -> list[int]:
        """Inject one fault now, by kind name and its YAML options (``kill``, ``freeze``...).

        Returns the pids it acted on (empty when it found no target: see the timeline).
        """
        fault = FAULTS.get(kind)
        spec: FaultSpec = fault.spec.model_validate(options)
        index = self._fault_index
        self._fault_index += 1
        fault.inject(spec, self.ctx, index, None)
        return [
            pid
            for action in self.timeline.of(FaultAction)
            if action.fault == index and action.phase in ("start", "instant")
            for pid in action.pids
        ]

    def kill(self, role: str, signal: str = "SIGKILL", **options: Any) -> list[int]:
        """Send ``signal`` to a process of ``role`` (``count``, ``which``, ``instance``);
        returns the pids signalled."""
        return self.inject("kill", role=role, signal=signal, **options)

    def freeze(self, role: str, for_: str = "2s", **options: Any) -> list[int]:
        """SIGSTOP a process of ``role``; SIGCONT after ``for_`` (or at teardown)."""
        return self.inject("freeze", role=role, **{"for": for_}, **options)

    def check(self, kind: str, **options: Any) -> InvariantResult:
        """Judge one invariant on the timeline recorded so far."""
        checker = INVARIANTS.get(kind)
        spec = checker.spec.model_validate(options)
        return checker.check(spec, history_of(self.scenario, self.timeline.events()))

    def wait_for_role(
        self, role: str, count: int = 1, timeout: float = 10.0, *, replacing: Collection[int] = ()
    ) -> bool:
        """Wait (event-driven, on the timeline) until ``count`` live processes of ``role``
        exist, none of them a pid in ``replacing`` (pass what ``kill`` returned to wait for
        the replacement rather than see the dying process)."""
        deadline = time.monotonic() + timeout

        def enough() -> bool:
            live = [p for p in self.processes(role) if p.pid not in replacing]
            return len(live) >= count

        while not enough():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            seen = len(self.timeline)
            self.timeline.wait_for(lambda _: True, min(remaining, 0.5), since=seen)
        return True
