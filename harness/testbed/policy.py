"""The restart policy as a pure function: ``decide(state, event, now) -> Decision``.

No clock, no processes: the supervisor feeds events and carries the returned state.
Rules (OTP-like restart intensity plus Companion's fixed backoff):
- the first restart after a child that had become ready happens at once (delay 0);
- a child that dies again before becoming ready backs off exponentially
  (base, 2*base, 4*base ... capped);
- more than ``max_restarts`` deaths within ``window_s`` seconds: the role is ``FAILED``
  (a clear "gave up", never a silent loop);
- ``extra_delay_s`` is added to every restart (the ``slow-restart`` bug);
- ``restart=False`` leaves a dead child dead (the ``no-restart`` bug).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace


class Phase(enum.Enum):
    """Where one supervised slot stands."""

    STARTING = "starting"  # spawned, not ready (or not registered) yet
    READY = "ready"
    CRASHED = "crashed"  # dead; a restart may be scheduled
    FAILED = "failed"  # restart intensity spent: gave up
    STOPPED = "stopped"  # stopped on purpose


class Event(enum.Enum):
    """What the supervisor observed about a slot."""

    SPAWNED = "spawned"
    READY = "ready"
    EXITED = "exited"
    STOP = "stop"


@dataclass(frozen=True)
class Policy:
    """Tunables of the restart policy."""

    max_restarts: int = 5
    window_s: float = 30.0
    backoff_base_s: float = 0.1
    backoff_cap_s: float = 5.0
    extra_delay_s: float = 0.0
    restart: bool = True


@dataclass(frozen=True)
class SlotState:
    """Everything the policy remembers about one slot."""

    policy: Policy = field(default_factory=Policy)
    phase: Phase = Phase.STARTING
    restarts: int = 0
    streak: int = 0  # deaths since the child was last ready
    deaths: tuple[float, ...] = ()  # death times inside the intensity window


@dataclass(frozen=True)
class Restart:
    """Spawn a replacement after ``delay_s`` seconds."""

    delay_s: float


@dataclass(frozen=True)
class GiveUp:
    """Restart intensity spent: report the role failed."""

    reason: str


@dataclass(frozen=True)
class Nothing:
    """No process action."""


Action = Restart | GiveUp | Nothing


@dataclass(frozen=True)
class Decision:
    """The next state and the action to carry out."""

    state: SlotState
    action: Action


def backoff(policy: Policy, streak: int) -> float:
    """Delay before the restart that follows ``streak`` deaths without reaching ready."""
    if streak <= 1:
        return 0.0
    return float(min(policy.backoff_cap_s, policy.backoff_base_s * 2 ** (streak - 2)))


def decide(state: SlotState, event: Event, now: float) -> Decision:
    """Apply one event to a slot's state; pure and total."""
    if state.phase in (Phase.STOPPED, Phase.FAILED) and event is not Event.STOP:
        return Decision(state, Nothing())
    if event is Event.STOP:
        return Decision(replace(state, phase=Phase.STOPPED), Nothing())
    if event is Event.SPAWNED:
        return Decision(replace(state, phase=Phase.STARTING), Nothing())
    if event is Event.READY:
        return Decision(replace(state, phase=Phase.READY, streak=0), Nothing())
    return _exited(state, now)


def _exited(state: SlotState, now: float) -> Decision:
    policy = state.policy
    deaths = (*(t for t in state.deaths if now - t < policy.window_s), now)
    crashed = replace(state, phase=Phase.CRASHED, deaths=deaths, streak=state.streak + 1)
    if not policy.restart:
        return Decision(crashed, Nothing())
    if len(deaths) > policy.max_restarts:
        reason = (
            f"Max restart attempts reached ({len(deaths)} deaths in "
            f"{policy.window_s:g}s, limit {policy.max_restarts})"
        )
        return Decision(replace(crashed, phase=Phase.FAILED), GiveUp(reason))
    delay = backoff(policy, crashed.streak) + policy.extra_delay_s
    return Decision(replace(crashed, restarts=state.restarts + 1), Restart(delay))
