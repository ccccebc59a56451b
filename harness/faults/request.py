"""``request``: a burst of HTTP requests, usually bad input for a daemon.

Incident 3: a daemon that dies on a recoverable error (a stop for a dataflow that no longer
exists). The burst runs on its own thread so a slow system cannot delay the faults after it;
every answer is recorded as a ``Request`` of workload ``name`` (default ``fault:<index>``),
and one ``instant`` action sums the answers by status. Without ``expect_status`` an answer
counts as ok when the system answered at all: for bad input, a clear error answer is the success.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import ConfigDict, Field

from harness.faults.base import FaultContext, FaultKind, Firing
from harness.observe.events import FaultAction, FaultPhase, Request
from harness.observe.http import compact, http_json
from harness.spec.effects import Effect
from harness.spec.kinds import FaultSpec
from harness.spec.loopback import is_loopback
from harness.spec.units import Duration

_JOIN_SLACK_S = 2.0


class RequestSpec(FaultSpec):
    """``request: {url, method: GET, json?, headers?, count: 1, concurrency: 8,
    expect_status?: [400, 404], timeout: 2s, instance: 0}``."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    name: str | None = None
    """Record the answers as this workload (default ``fault:<index>``), so invariants such
    as ``availability`` can judge them: "every bad request got a clear error"."""
    url: str
    method: str = "GET"
    json_body: Any = Field(default=None, alias="json")
    headers: dict[str, str] = Field(default_factory=dict)
    count: Annotated[int, Field(ge=1, le=100_000)] = 1
    concurrency: Annotated[int, Field(ge=1, le=256)] = 8
    expect_status: list[Annotated[int, Field(ge=100, le=599)]] | None = None
    timeout: Duration = 2.0
    instance: Annotated[int, Field(ge=0)] = 0
    """Whose template values resolve ``url`` and ``headers``."""


def inject(spec: RequestSpec, ctx: FaultContext, firing: Firing) -> None:
    """Check the target now (loopback only), then send the burst on a worker thread."""
    index = firing.index
    url = ctx.resolve(spec.url, spec.instance)
    host = urlsplit(url).hostname or ""
    if not is_loopback(host):
        raise ValueError(f"request fault: refusing non-loopback URL {url!r}")
    headers = {k: ctx.resolve(v, spec.instance) for k, v in spec.headers.items()}
    burst = _Burst(spec, ctx, index, url, headers)
    thread = threading.Thread(target=burst.run, name=f"chaos-fault-{index}-request", daemon=True)
    thread.start()
    ctx.on_teardown(lambda: thread.join(spec.timeout + _JOIN_SLACK_S))


class _Burst:
    """Sends ``count`` requests, at most ``concurrency`` at a time, and records each."""

    def __init__(
        self,
        spec: RequestSpec,
        ctx: FaultContext,
        index: int,
        url: str,
        headers: dict[str, str],
    ) -> None:
        self._spec = spec
        self._ctx = ctx
        self._index = index
        self._url = url
        self._headers = headers
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def run(self) -> None:
        timeline = self._ctx.timeline
        started = timeline.now()
        with ThreadPoolExecutor(self._spec.concurrency, "chaos-request") as pool:
            for _ in range(self._spec.count):
                pool.submit(self._one)
        timeline.record(
            FaultAction(
                t=started,
                fault=self._index,
                kind="request",
                phase=FaultPhase.INSTANT,
                instance=self._spec.instance,
                detail={
                    "method": self._spec.method.upper(),
                    "url": self._url,
                    "count": self._spec.count,
                    "by_status": dict(sorted(self._counts.items())),
                    "duration_s": round(timeline.now() - started, 6),
                },
            )
        )

    def _one(self) -> None:
        if self._ctx.stopping.is_set():
            self._count("not sent")
            return
        timeline = self._ctx.timeline
        sent = timeline.now()
        begun = time.monotonic()
        try:
            answer = http_json(
                self._spec.method,
                self._url,
                json_body=self._spec.json_body,
                headers=self._headers,
                timeout=self._spec.timeout,
            )
        except Exception as exc:  # a harness bug must still leave a trace
            self._count("error")
            timeline.record(self._request(sent, time.monotonic() - begun, None, None, repr(exc)))
            return
        self._count("error" if answer.status is None else str(answer.status))
        timeline.record(
            self._request(sent, answer.latency_s, answer.status, answer.value, answer.error)
        )

    def _request(
        self, sent: float, latency: float, status: int | None, value: Any, error: str | None
    ) -> Request:
        expected = self._spec.expect_status
        ok = status is not None and (expected is None or status in expected)
        return Request(
            t=sent,
            workload=self._spec.name or f"fault:{self._index}",
            instance=self._spec.instance,
            ok=ok,
            status=status,
            latency_s=latency,
            error=error,
            body=compact(value),
        )

    def _count(self, key: str) -> None:
        with self._lock:
            self._counts[key] += 1


KIND = FaultKind(
    "request", RequestSpec, inject, effects=frozenset({Effect.NONE}), refs={}, family="requests"
)
