"""``squat_port``: the port is really taken while held, and really free afterwards."""

from __future__ import annotations

import errno
import socket

import pytest

from harness.faults.base import Firing
from harness.faults.squat_port import KIND, SquatPortSpec
from harness.observe.events import Event, FaultAction

from .context import RealContext


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _bind_error(port: int) -> int | None:
    """The errno of binding ``port`` the way a system under test would, or None if free."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError as exc:
            return exc.errno
    return None


@pytest.fixture
def port_ctx() -> RealContext:
    return RealContext(values={"port": str(_free_port())})


def test_port_is_taken_then_released_after_for(port_ctx: RealContext) -> None:
    ctx = port_ctx
    try:
        port = int(ctx.resolve("{port}"))
        KIND.inject(
            SquatPortSpec.model_validate({"port": "{port}", "for": "300ms"}), ctx, Firing(0)
        )

        [start] = ctx.timeline.of(FaultAction)
        assert (start.phase, start.detail["port"]) == ("start", port)
        assert _bind_error(port) == errno.EADDRINUSE

        def ended(event: Event) -> bool:
            return isinstance(event, FaultAction) and event.phase == "end"

        assert ctx.timeline.wait_for(ended, timeout=10.0) is not None
        assert _bind_error(port) is None
    finally:
        ctx.close()


def test_teardown_releases_the_port(port_ctx: RealContext) -> None:
    ctx = port_ctx
    try:
        port = int(ctx.resolve("{port}"))
        KIND.inject(SquatPortSpec(port="{port}"), ctx, Firing(0))
        assert _bind_error(port) == errno.EADDRINUSE
        ctx.run_teardown()
        assert _bind_error(port) is None
        assert [a.phase for a in ctx.timeline.of(FaultAction)] == ["start", "end"]
    finally:
        ctx.close()


def test_a_port_already_taken_is_a_miss(ctx: RealContext) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        KIND.inject(SquatPortSpec(port=str(port)), ctx, Firing(4))

    [miss] = ctx.timeline.of(FaultAction)
    assert (miss.fault, miss.phase) == (4, "miss")
    assert str(port) in miss.detail["reason"]


def test_a_port_that_is_not_a_number_is_a_miss() -> None:
    ctx = RealContext(values={"port": "http"})
    try:
        KIND.inject(SquatPortSpec(port="{port}"), ctx, Firing(0))
        [miss] = ctx.timeline.of(FaultAction)
        assert miss.phase == "miss"
        assert "'http'" in miss.detail["reason"]
    finally:
        ctx.close()
