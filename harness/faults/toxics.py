"""The network faults: Toxiproxy's toxics on a scenario's proxy, for ``for`` or until teardown.

``- {at: 1s, latency: {proxy: backend, latency: 2s, for: 3s}}`` puts 2 s of latency on every
connection through the proxy ``backend`` (the ones open now and the ones opened while it is
on) and takes it off 3 s later. Each toxic acts on one ``direction``: ``downstream`` (the
system's answers, Toxiproxy's default) or ``upstream`` (what clients send); ``toxicity``
is the share of connections it acts on, drawn from the trial's seed. ``down`` is the
whole proxy: nothing listens, open connections are closed, until it is up again.

Every application and removal is a ``FaultAction`` (``start``/``end``) with what it did;
no process is touched (``Effect.NONE``), so no checker waits for a recovery from a toxic:
judge what clients saw (``availability``) instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, ClassVar, Generic, TypeVar

from pydantic import ConfigDict, Field

from harness import proxy as _proxy
from harness.faults.base import FaultContext, FaultKind, FaultPlugin, Firing
from harness.faults.once import Once
from harness.faults.targets import record_miss
from harness.observe.events import FaultAction, FaultPhase, HarnessNote, NoteLevel
from harness.proxy import (
    Bandwidth,
    Direction,
    Latency,
    LimitData,
    Proxy,
    ProxyError,
    ResetPeer,
    Slicer,
    SlowClose,
    Timeout,
    Toxic,
)
from harness.spec.effects import Effect
from harness.spec.kinds import FaultSpec
from harness.spec.sizes import ByteRate, Size
from harness.spec.units import Duration, Fraction

FAMILY = "network"
_REFS = {"proxy": "proxy"}


class ProxyFaultSpec(FaultSpec):
    """What every network fault names: the proxy, how long, whose instance."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)
    not_templates: ClassVar[frozenset[str]] = frozenset({"proxy", "direction"})

    proxy: str
    for_: Duration | None = Field(default=None, alias="for")
    """How long it stays on; without it, until teardown."""
    instance: Annotated[int, Field(ge=0)] = 0


class ToxicSpec(ProxyFaultSpec):
    """A toxic's common options; each kind adds Toxiproxy's attributes for it."""

    direction: Annotated[Direction, Field(strict=False)] = Direction.DOWNSTREAM
    """``downstream`` (system → client, the default) or ``upstream`` (client → system)."""
    toxicity: Fraction = 1.0

    def toxic(self) -> Toxic:
        raise NotImplementedError


class LatencySpec(ToxicSpec):
    """``latency: {proxy, latency: 1s, jitter: 0ms, direction, toxicity, for, instance}``."""

    latency: Duration
    jitter: Duration = 0.0

    def toxic(self) -> Toxic:
        return Latency(self.latency, self.jitter)


class BandwidthSpec(ToxicSpec):
    """``bandwidth: {proxy, rate: 100KB/s, ...}``."""

    rate: ByteRate

    def toxic(self) -> Toxic:
        return Bandwidth(self.rate)


class SlowCloseSpec(ToxicSpec):
    """``slow_close: {proxy, delay: 1s, ...}``: the close is passed on that late."""

    delay: Duration

    def toxic(self) -> Toxic:
        return SlowClose(self.delay)


class TimeoutSpec(ToxicSpec):
    """``timeout: {proxy, timeout?: 2s, ...}``: data stops (held, not lost); with
    ``timeout`` the connections are closed that long after it reached them."""

    timeout: Duration | None = None

    def toxic(self) -> Toxic:
        return Timeout(self.timeout)


class ResetPeerSpec(ToxicSpec):
    """``reset_peer: {proxy, timeout: 0ms, ...}``: the next data resets the connection."""

    timeout: Duration = 0.0

    def toxic(self) -> Toxic:
        return ResetPeer(self.timeout)


class SlicerSpec(ToxicSpec):
    """``slicer: {proxy, average_size: 64B, size_variation: 32B, delay: 10ms, ...}``."""

    average_size: Annotated[Size, Field(ge=1)]
    size_variation: Size = 0
    delay: Duration = 0.0

    def toxic(self) -> Toxic:
        variation = min(self.size_variation, self.average_size - 1)
        return Slicer(self.average_size, variation, self.delay)


class LimitDataSpec(ToxicSpec):
    """``limit_data: {proxy, bytes: 1KiB, ...}``: closed after that many bytes."""

    bytes: Size

    def toxic(self) -> Toxic:
        return LimitData(self.bytes)


class DownSpec(ProxyFaultSpec):
    """``down: {proxy, for?, instance}``: refuse new connections, close the open ones."""


S = TypeVar("S", bound=ToxicSpec)


class _ToxicFault(Generic[S]):
    """The one inject shared by every toxic kind, recorded under the kind's ``name``."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self, spec: S, ctx: FaultContext, firing: Firing) -> None:
        proxy = _find(self.name, spec, ctx, firing)
        if proxy is None:
            return
        toxic = spec.toxic()
        try:
            applied = proxy.apply(
                toxic, spec.direction, toxicity=spec.toxicity, seed=ctx.rng.getrandbits(32)
            )
        except ProxyError as exc:
            record_miss(ctx, firing.index, self.name, f"proxy {spec.proxy!r}: {exc}")
            return
        where: dict[str, object] = {"proxy": spec.proxy, "direction": str(spec.direction)}
        detail = {**where, **toxic.options(), "port": proxy.port, "links": applied.links_at_start}
        if spec.toxicity < 1.0:
            detail["toxicity"] = spec.toxicity
        _record(ctx, firing.index, self.name, FaultPhase.START, spec.instance, detail)

        def remove() -> None:
            try:
                report = applied.remove()
            except ProxyError as exc:
                _note(ctx, f"fault {firing.index} ({self.name}) could not be removed: {exc}")
                return
            end = {**where, "links": report.links, "closed": report.closed}
            end["early"] = ctx.stopping.is_set()
            _record(ctx, firing.index, self.name, FaultPhase.END, spec.instance, end)

        _schedule(ctx, spec, remove)


def _inject_down(spec: DownSpec, ctx: FaultContext, firing: Firing) -> None:
    proxy = _find("down", spec, ctx, firing)
    if proxy is None:
        return
    try:
        cut = proxy.down()
    except ProxyError as exc:
        record_miss(ctx, firing.index, "down", f"proxy {spec.proxy!r}: {exc}")
        return
    detail: dict[str, object] = {"proxy": spec.proxy, "port": proxy.port, "cut": cut}
    _record(ctx, firing.index, "down", FaultPhase.START, spec.instance, detail)

    def up() -> None:
        end: dict[str, object] = {"proxy": spec.proxy, "early": ctx.stopping.is_set()}
        try:
            proxy.up()
        except ProxyError as exc:
            end["error"] = str(exc)
            _note(ctx, f"fault {firing.index} (down): the proxy could not listen again: {exc}")
        _record(ctx, firing.index, "down", FaultPhase.END, spec.instance, end)

    _schedule(ctx, spec, up)


def _find(kind: str, spec: ProxyFaultSpec, ctx: FaultContext, firing: Firing) -> Proxy | None:
    try:
        return ctx.proxy(spec.proxy, spec.instance)
    except KeyError as exc:
        record_miss(ctx, firing.index, kind, str(exc.args[0]) if exc.args else str(exc))
        return None


def _schedule(ctx: FaultContext, spec: ProxyFaultSpec, undo: Callable[[], None]) -> None:
    once = Once(undo)
    ctx.on_teardown(once)
    if spec.for_ is not None:
        ctx.later(spec.for_, once)


def _record(
    ctx: FaultContext,
    index: int,
    kind: str,
    phase: FaultPhase,
    instance: int,
    detail: dict[str, object],
) -> None:
    ctx.timeline.record(
        FaultAction(
            t=ctx.timeline.now(),
            fault=index,
            kind=kind,
            phase=phase,
            effect=Effect.NONE,
            instance=instance,
            detail=detail,
        )
    )


def _note(ctx: FaultContext, message: str) -> None:
    ctx.timeline.record(HarnessNote(t=ctx.timeline.now(), level=NoteLevel.ERROR, message=message))


def _kind(name: str, spec: type[S]) -> FaultKind[S]:
    return FaultKind(
        name,
        spec,
        _ToxicFault[S](name),
        effects=frozenset({Effect.NONE}),
        refs=_REFS,
        family=FAMILY,
        available=_proxy.available,
    )


LATENCY = _kind("latency", LatencySpec)
BANDWIDTH = _kind("bandwidth", BandwidthSpec)
SLOW_CLOSE = _kind("slow_close", SlowCloseSpec)
TIMEOUT = _kind("timeout", TimeoutSpec)
RESET_PEER = _kind("reset_peer", ResetPeerSpec)
SLICER = _kind("slicer", SlicerSpec)
LIMIT_DATA = _kind("limit_data", LimitDataSpec)
DOWN = FaultKind(
    "down",
    DownSpec,
    _inject_down,
    effects=frozenset({Effect.NONE}),
    refs=_REFS,
    family=FAMILY,
    available=_proxy.available,
)

KINDS: tuple[FaultPlugin, ...] = (
    LATENCY,
    BANDWIDTH,
    SLOW_CLOSE,
    TIMEOUT,
    RESET_PEER,
    SLICER,
    LIMIT_DATA,
    DOWN,
)
