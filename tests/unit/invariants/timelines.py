"""Hand-built trial timelines for checker tests: one line per thing that happened.

``Story`` records events in the words of a trial ("backend 101 started at 0.1", "kill 101
at 1.0") and hands back the ``History`` a checker reads.
"""

from __future__ import annotations

from typing import Any

from harness.invariants.base import History, RoleFacts
from harness.observe.events import (
    Event,
    FaultAction,
    FaultPhase,
    LogLine,
    Lookup,
    Phase,
    PortListen,
    ProbeResult,
    ProcessExit,
    ProcessStart,
    Ready,
    Request,
    SystemStart,
    Teardown,
    TeardownStep,
)
from harness.scenario.model import RoleReadySpec
from harness.spec.effects import Effect


class Story:
    """A timeline under construction; every method returns ``self`` for chaining."""

    def __init__(self, roles: dict[str, RoleFacts] | None = None, instances: int = 1) -> None:
        self.events: list[Event] = []
        self.roles = roles or {}
        self.instances = instances
        self._who: dict[int, tuple[str | None, int]] = {}
        self._faults = 0

    def add(self, event: Event) -> Story:
        self.events.append(event)
        return self

    # ------------------------------------------------------------------ processes

    def root(self, t: float, pid: int, role: str = "supervisor", instance: int = 0) -> Story:
        self.add(SystemStart(t=t, instance=instance, pid=pid, command=["sup"], cwd="/"))
        return self.start(t, pid, role, instance=instance, root=True)

    def start(
        self, t: float, pid: int, role: str | None, *, instance: int = 0, root: bool = False
    ) -> Story:
        self._who[pid] = (role, instance)
        return self.add(
            ProcessStart(
                t=t, pid=pid, ppid=1, instance=instance, role=role, cmdline=[str(role)], root=root
            )
        )

    def exit(
        self, t: float, pid: int, *, code: int | None = None, signal: str | None = None
    ) -> Story:
        role, instance = self._who[pid]
        return self.add(
            ProcessExit(t=t, pid=pid, instance=instance, role=role, code=code, signal=signal)
        )

    def ready(self, t: float, instance: int = 0, **groups: str) -> Story:
        return self.add(Ready(t=t, instance=instance, elapsed_s=t, groups=groups))

    def port(self, t: float, pid: int, port: int) -> Story:
        role, instance = self._who[pid]
        return self.add(PortListen(t=t, pid=pid, instance=instance, role=role, port=port))

    # ------------------------------------------------------------------ faults

    def kill(self, t: float, *pids: int, fault: int | None = None) -> Story:
        return self._fault(t, "kill", FaultPhase.INSTANT, Effect.ENDS, pids, fault)

    def act(
        self, t: float, kind: str, effect: Effect, *pids: int, fault: int | None = None
    ) -> Story:
        """A one-shot action of any fault kind, known to the checkers only by its effect."""
        return self._fault(t, kind, FaultPhase.INSTANT, effect, pids, fault)

    def freeze(self, t: float, until: float | None, *pids: int) -> Story:
        fault = self._faults
        self._fault(t, "freeze", FaultPhase.START, Effect.STOPS, pids, fault)
        if until is not None:
            self._fault(until, "freeze", FaultPhase.END, Effect.RESUMES, pids, fault)
        return self

    def miss(self, t: float, role: str, reason: str) -> Story:
        self._faults += 1
        return self.add(
            FaultAction(
                t=t,
                fault=self._faults - 1,
                kind="kill",
                phase=FaultPhase.MISS,
                effect=Effect.ENDS,
                role=role,
                detail={"reason": reason},
            )
        )

    def _fault(
        self,
        t: float,
        kind: str,
        phase: FaultPhase,
        effect: Effect,
        pids: tuple[int, ...],
        fault: int | None,
    ) -> Story:
        index = self._faults if fault is None else fault
        if phase is not FaultPhase.END:
            self._faults = max(self._faults, index + 1)
        role = self._who[pids[0]][0] if pids and pids[0] in self._who else None
        return self.add(
            FaultAction(
                t=t,
                fault=index,
                kind=kind,
                phase=phase,
                effect=effect,
                role=role,
                pids=list(pids),
            )
        )

    # ------------------------------------------------------------------ observations

    def probe(
        self, t: float, name: str, value: Any, *, ok: bool = True, instance: int = 0
    ) -> Story:
        return self.add(
            ProbeResult(
                t=t,
                name=name,
                instance=instance,
                ok=ok,
                value=value if ok else None,
                status=200 if ok else None,
                error=None if ok else "connection refused",
            )
        )

    def request(
        self,
        t: float,
        workload: str = "ui",
        *,
        ok: bool = True,
        status: int | None = 200,
        error: str | None = None,
        recorded: Any = None,
        instance: int = 0,
    ) -> Story:
        return self.add(
            Request(
                t=t,
                workload=workload,
                instance=instance,
                ok=ok,
                status=status,
                error=error,
                recorded=recorded,
            )
        )

    def lookup(
        self,
        t: float,
        key: str,
        value: Any,
        *,
        status: int | None = 200,
        workload: str = "jobs",
    ) -> Story:
        return self.add(
            Lookup(t=t, workload=workload, instance=0, key=key, status=status, value=value)
        )

    def log(self, t: float, line: str, stream: str = "stdout", instance: int = 0) -> Story:
        return self.add(LogLine(t=t, instance=instance, stream=stream, line=line))

    def says_ready(self, t: float, pid: int) -> Story:
        """The supervisor's line about one child (``READY_LINE`` matches it)."""
        _, instance = self._who[pid]
        return self.log(t, f"[supervisor] child pid {pid} ready", "stderr", instance)

    def served(
        self, t: float, latency: float = 0.01, *, ok: bool = True, instance: int = 0
    ) -> Story:
        """One ``ui`` request sent at ``t`` and answered ``latency`` later."""
        return self.add(
            Request(
                t=t,
                workload="ui",
                instance=instance,
                ok=ok,
                status=200 if ok else 502,
                latency_s=latency,
                error=None if ok else "bad gateway",
            )
        )

    def replace(
        self,
        t_kill: float,
        old: int,
        new: int,
        *,
        died: float,
        spawned: float,
        listening: float | None = None,
        ready: float | None = None,
        port: int = 40000,
    ) -> Story:
        """A kill of ``old`` and its replacement ``new``, phase by phase (absolute times)."""
        role, instance = self._who[old]
        self.kill(t_kill, old).exit(died, old, signal="SIGKILL")
        self.start(spawned, new, role, instance=instance)
        if listening is not None:
            self.port(listening, new, port)
        if ready is not None:
            self.says_ready(ready, new)
        return self

    # ------------------------------------------------------------------ teardown

    def teardown(self, t: float) -> Story:
        return self.add(Phase(t=t, name="teardown"))

    def harness_kill(self, t: float, pid: int, action: str = "sweep") -> Story:
        role, instance = self._who.get(pid, (None, 0))
        step = TeardownStep(action)
        return self.add(Teardown(t=t, action=step, pid=pid, instance=instance, role=role))

    def history(self, probes: tuple[str, ...] = (), workloads: tuple[str, ...] = ()) -> History:
        events = sorted(self.events, key=lambda e: e.t)
        return History(
            events=events,
            roles=self.roles,
            instances=self.instances,
            probes=probes,
            workloads=workloads,
        )


READY_LINE = RoleReadySpec(log=r"child pid (?P<pid>\d+) ready")
"""A role readiness read from the supervisor's log, naming the process by its pid."""


def backend_system(
    instances: int = 1,
    backend_count: int | None = None,
    ready_at: float = 0.5,
    *,
    ready: RoleReadySpec | None = None,
) -> Story:
    """A supervisor (pid 100 + 10·i) with one backend (pid 101 + 10·i), per instance,
    ready at ``ready_at``; with ``ready``, the backend role declares that readiness and
    the first backend shows it (and listens on a port) at 0.2."""
    story = Story(
        roles={
            "supervisor": RoleFacts(root=True),
            "backend": RoleFacts(count=backend_count, ready=ready),
        },
        instances=instances,
    )
    for i in range(instances):
        story.root(0.0, 100 + 10 * i, instance=i)
        story.start(0.1, 101 + 10 * i, "backend", instance=i)
        if ready is not None:
            story.port(0.15, 101 + 10 * i, 40000 + i).says_ready(0.2, 101 + 10 * i)
        story.ready(ready_at, instance=i)
    return story
