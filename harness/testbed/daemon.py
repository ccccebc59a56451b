"""The daemon control API (dora-rs): dataflows with ids, nodes that are dynamic or not.

Requests that name a missing dataflow or a non-dynamic node raise a ``DaemonError`` with
dora's own wording; the gateway turns it into an error answer (the fix) or lets it take
the supervisor down (the ``crash-on-unknown-id`` bug). A canary dataflow ticks every
``canary_ms`` so a stalled or dead daemon shows as a gap. The canary is lazy: it ticks
while someone reads it (for ``CANARY_WATCH_S`` after each read), so an idle supervisor
nobody probes does not wake 20 times a second; gaps are measured only while it ticks.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from typing import Any

CANARY_WATCH_S = 10.0
"""The canary keeps ticking this long after its last read."""
NODES: dict[str, bool] = {"camera": False, "detector": False, "plot": True, "recorder": True}


class DaemonError(Exception):
    """A recoverable request error: answer the caller, keep running."""

    status = 400


class NoSuchDataflowError(DaemonError):
    """``no running dataflow with ID `X```."""

    status = 404


class NoSuchNodeError(DaemonError):
    """No node with that id."""

    status = 404


class NodeNotDynamicError(DaemonError):
    """``node with ID `X` is not dynamic``."""

    status = 400


@dataclass
class Dataflow:
    """A dataflow that ticks ``ticks`` times every ``period_s`` then finishes."""

    id: str
    ticks: int
    period_s: float
    done: int = 0
    next_at: float = 0.0
    state: str = "running"


class Daemon:
    """Dataflows and the canary, ticked by one thread."""

    def __init__(self, canary_ms: float) -> None:
        self._cond = threading.Condition()
        self._flows: dict[str, Dataflow] = {}
        self._finished: dict[str, str] = {}
        self.canary_period = canary_ms / 1000.0
        self.canary_ticks = 0
        self.canary_max_gap = 0.0
        self._canary_last: float | None = None
        self._canary_next = time.monotonic()
        self._canary_until = 0.0  # ticking while monotonic() < this
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="daemon", daemon=True)

    def start(self) -> None:
        """Start ticking."""
        self._thread.start()

    def close(self) -> None:
        """Stop ticking."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    # --- requests ------------------------------------------------------------------------

    def start_dataflow(self, ticks: int, period_ms: float) -> Dataflow:
        """Create a running dataflow."""
        flow = Dataflow(os.urandom(4).hex(), max(1, ticks), max(1.0, period_ms) / 1000.0)
        with self._cond:
            flow.next_at = time.monotonic() + flow.period_s
            self._flows[flow.id] = flow
            self._cond.notify_all()
        return flow

    def stop_dataflow(self, flow_id: str) -> Dataflow:
        """Stop a running dataflow; DaemonError when none runs with that id."""
        with self._cond:
            flow = self._flows.pop(flow_id, None)
            if flow is None:
                raise NoSuchDataflowError(f"no running dataflow with ID `{flow_id}`")
            flow.state = "stopped"
            self._finished[flow.id] = flow.state
            return flow

    def dataflows(self) -> list[dict[str, Any]]:
        """Running and ended dataflows."""
        with self._cond:
            running = [
                {"id": f.id, "state": f.state, "ticks": f.done} for f in self._flows.values()
            ]
            ended = [{"id": k, "state": v} for k, v in self._finished.items()]
        return running + ended

    def node_config(self, node_id: str, config: Any) -> dict[str, Any]:
        """Apply a dynamic node's config; DaemonError for unknown or non-dynamic nodes."""
        if node_id not in NODES:
            raise NoSuchNodeError(f"no node with ID `{node_id}`")
        if not NODES[node_id]:
            raise NodeNotDynamicError(f"node with ID `{node_id}` is not dynamic")
        return {"node": node_id, "config": config, "applied": True}

    def canary(self) -> dict[str, Any]:
        """Canary ticks so far and the largest gap between ticks; keeps it ticking."""
        with self._cond:
            now = time.monotonic()
            if self.canary_period > 0 and now >= self._canary_until:
                self._canary_last = None  # asleep until now: that pause is not a gap
                self._canary_next = now
                self._cond.notify_all()
            self._canary_until = now + CANARY_WATCH_S
            return {
                "ticks": self.canary_ticks,
                "max_gap_ms": round(self.canary_max_gap * 1000.0, 3),
                "period_ms": self.canary_period * 1000.0,
            }

    # --- ticking -------------------------------------------------------------------------

    def _run(self) -> None:
        with self._cond:
            while not self._closed:
                now = time.monotonic()
                self._tick(now)
                due = [f.next_at for f in self._flows.values()]
                if self._canary_on(now):
                    due.append(self._canary_next)
                timeout = max(0.0, min(due) - time.monotonic()) if due else None
                self._cond.wait(timeout)

    def _canary_on(self, now: float) -> bool:
        return self.canary_period > 0 and now < self._canary_until

    def _tick(self, now: float) -> None:
        if self._canary_on(now) and now >= self._canary_next:
            if self._canary_last is not None:
                self.canary_max_gap = max(self.canary_max_gap, now - self._canary_last)
            self._canary_last = now
            self.canary_ticks += 1
            self._canary_next += self.canary_period
            if self._canary_next < now:
                self._canary_next = now + self.canary_period
        for flow in list(self._flows.values()):
            if now >= flow.next_at:
                flow.done += 1
                flow.next_at = now + flow.period_s
                if flow.done >= flow.ticks:
                    flow.state = "finished"
                    del self._flows[flow.id]
                    self._finished[flow.id] = flow.state
