"""``squat_port``: hold a TCP port (bound and listening) so the system cannot take it.

Incident 2's trap: two instances on one fixed port. A system must pick another port or fail
with a clear error, never hang or hijack. Used with ``before: start`` to take the port
first; ``SO_REUSEADDR`` stays off so the squat is a real conflict.
"""

from __future__ import annotations

import socket

from pydantic import ConfigDict, Field, field_validator

from harness.faults.base import FaultContext, FaultKind, Firing
from harness.faults.once import Once
from harness.faults.targets import record_miss
from harness.observe.events import FaultAction, FaultPhase
from harness.spec.effects import Effect
from harness.spec.kinds import FaultSpec
from harness.spec.loopback import WILDCARDS, is_loopback
from harness.spec.units import Duration


class SquatPortSpec(FaultSpec):
    """``squat_port: {port: "{port}", host: 127.0.0.1, for?: 2s, instance: 0}``."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    port: str
    host: str = "127.0.0.1"
    for_: Duration | None = Field(default=None, alias="for")
    instance: int = Field(default=0, ge=0)
    """Whose template values resolve ``port``."""

    @field_validator("port", mode="before")
    @classmethod
    def _port_text(cls, value: object) -> object:
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return value

    @field_validator("host")
    @classmethod
    def _local_host(cls, value: str) -> str:
        if not (is_loopback(value) or value in WILDCARDS):
            raise ValueError(f"expected a loopback or wildcard address, got {value!r}")
        return value


def inject(spec: SquatPortSpec, ctx: FaultContext, firing: Firing) -> None:
    """Bind and listen now; release after ``for`` or at teardown."""
    index = firing.index
    text = ctx.resolve(spec.port, spec.instance)
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 < port < 65536:
        record_miss(ctx, index, "squat_port", f"port {spec.port!r} resolved to {text!r}")
        return
    family = socket.AF_INET6 if ":" in spec.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 0)
        sock.bind((spec.host, port))
        sock.listen(16)
    except OSError as exc:
        sock.close()
        record_miss(ctx, index, "squat_port", f"could not bind {spec.host}:{port}: {exc}")
        return
    ctx.timeline.record(
        FaultAction(
            t=ctx.timeline.now(),
            fault=index,
            kind="squat_port",
            phase=FaultPhase.START,
            detail={"host": spec.host, "port": port},
        )
    )

    def release() -> None:
        sock.close()
        ctx.timeline.record(
            FaultAction(
                t=ctx.timeline.now(),
                fault=index,
                kind="squat_port",
                phase=FaultPhase.END,
                detail={"host": spec.host, "port": port},
            )
        )

    once = Once(release)
    ctx.on_teardown(once)
    if spec.for_ is not None:
        ctx.later(spec.for_, once)


KIND = FaultKind(
    "squat_port", SquatPortSpec, inject, effects=frozenset({Effect.NONE}), refs={}, family="ports"
)
