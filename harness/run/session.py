"""``SystemSession``: a live system under test as a Python object, for tests written as code.

The pytest fixture ``chaos_system`` returns one, started and ready: the test calls
``kill``/``freeze``/``inject`` itself, waits for what it expects, and judges the timeline
recorded so far with ``check``. Underneath is the same ``RunningSystem`` (launcher,
tracker, safety, teardown) that ``chaos run`` uses.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Collection
from types import TracebackType
from typing import Any

from harness.errors import UsageError
from harness.faults.base import Firing
from harness.faults.registry import FAULTS
from harness.invariants.judge import history_of
from harness.invariants.registry import INVARIANTS
from harness.observe.events import FaultAction
from harness.observe.timeline import Timeline
from harness.run.settle import settle
from harness.run.system import PhaseCallback, RunningSystem
from harness.scenario.model import Scenario
from harness.spec.verdict import InvariantResult
from harness.system.process import TrackedProcess


class SystemSession:
    """One running copy (or ``instances`` copies) of the system under test, driven by code."""

    def __init__(
        self,
        scenario: Scenario,
        *,
        seed: int = 0,
        keep_run_dir: bool = False,
        on_phase: PhaseCallback | None = None,
        abort: threading.Event | None = None,
    ) -> None:
        self.system = RunningSystem(
            scenario, seed=seed, keep_run_dir=keep_run_dir, on_phase=on_phase, abort=abort
        )
        self.scenario = scenario
        self._fault_index = len(scenario.faults)

    @property
    def timeline(self) -> Timeline:
        """Everything recorded so far (process starts and exits, requests, faults...)."""
        return self.system.timeline

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Launch the system (its roots, in their own sessions, tracked from the start)."""
        self.system.start()

    def wait_ready(self) -> None:
        """Wait for the scenario's readiness; ``NotReadyError`` with the system's output.

        A system expected to exit (``system.expect_exit``) is never ready: ``wait_exit``.
        """
        if self.scenario.system.expect_exit is not None:
            raise UsageError(
                f"scenario {self.scenario.name!r} expects its system to exit"
                " (system.expect_exit), so it never becomes ready: call wait_exit()"
            )
        self.system.wait_ready()

    def wait_exit(self) -> str | None:
        """With ``system.expect_exit``: wait until every root exited (at most ``within``).

        None when they did; else what still ran. Judge ``exit`` afterwards as usual.
        """
        if self.scenario.system.expect_exit is None:
            raise UsageError(
                f"scenario {self.scenario.name!r} does not say its system must exit: give it"
                " system.expect_exit, or wait_ready()"
            )
        return self.system.wait_exit()

    def observe(self) -> None:
        """Start the scenario's probes and workloads."""
        self.system.observe()

    def settle(self) -> None:
        """Stop traffic and take the end-of-trial observations (probes, ledger lookups)."""
        settle(self.system)

    def close(self) -> None:
        """Tear everything down (idempotent); nothing the system started is left."""
        self.system.close()

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

    # ------------------------------------------------------------------ faults and checks

    def processes(
        self, role: str | None = None, instance: int | None = None
    ) -> list[TrackedProcess]:
        """Live processes of the system, optionally of one role."""
        return self.system.tracker.processes(role=role, instance=instance)

    def inject(self, kind: str, **options: Any) -> list[int]:
        """Inject one fault now, by kind name and its YAML options (``kill``, ``freeze``...).

        Returns the pids it acted on (empty when it found no target: see the timeline).
        """
        fault = FAULTS.get(kind)
        spec = fault.spec.model_validate(options)
        index = self._fault_index
        self._fault_index += 1
        fault.run(spec, self.system.ctx, Firing(index))
        return [
            pid
            for action in self.timeline.of(FaultAction)
            if action.fault == index and action.phase.injects
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
        return checker.judge(spec, history_of(self.scenario, self.timeline.events()))

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
