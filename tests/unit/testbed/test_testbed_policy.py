"""The restart policy is a pure function: properties hold for any sequence of events."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from harness.testbed.policy import (
    Event,
    GiveUp,
    Nothing,
    Phase,
    Policy,
    Restart,
    SlotState,
    backoff,
    decide,
)

POLICY = Policy(max_restarts=3, window_s=10.0, backoff_base_s=0.1, backoff_cap_s=1.0)
events = st.lists(
    st.tuples(st.sampled_from([Event.READY, Event.EXITED, Event.SPAWNED]), st.floats(0, 5)),
    max_size=60,
)


def run(seq: list[tuple[Event, float]], policy: Policy = POLICY) -> list[tuple[float, object]]:
    state, now, out = SlotState(policy=policy), 0.0, []
    for event, gap in seq:
        now += gap
        decision = decide(state, event, now)
        state = decision.state
        out.append((now, decision.action))
    return out


def test_first_restart_after_ready_is_immediate() -> None:
    state = decide(SlotState(policy=POLICY), Event.READY, 1.0).state
    assert decide(state, Event.EXITED, 2.0).action == Restart(0.0)


def test_crash_loop_backs_off_exponentially_up_to_the_cap() -> None:
    state, delays = SlotState(policy=Policy(max_restarts=100)), []
    for i in range(8):
        decision = decide(state, Event.EXITED, float(i))
        assert isinstance(decision.action, Restart)
        delays.append(decision.action.delay_s)
        state = decide(decision.state, Event.SPAWNED, float(i)).state
    assert delays[:4] == [0.0, 0.1, 0.2, 0.4]
    assert max(delays) == Policy().backoff_cap_s


def test_more_deaths_than_allowed_in_the_window_gives_up_for_good() -> None:
    state = SlotState(policy=POLICY)
    actions = []
    for i in range(5):
        decision = decide(state, Event.EXITED, float(i))
        state = decision.state
        actions.append(decision.action)
    assert [type(a) for a in actions] == [Restart, Restart, Restart, GiveUp, Nothing]
    assert state.phase is Phase.FAILED
    assert "Max restart attempts reached" in actions[3].reason  # type: ignore[union-attr]
    assert decide(state, Event.READY, 9.0).state.phase is Phase.FAILED


def test_deaths_outside_the_window_are_forgiven() -> None:
    state = SlotState(policy=POLICY)
    for i in range(20):
        decision = decide(state, Event.EXITED, i * 11.0)
        assert isinstance(decision.action, Restart)
        state = decide(decision.state, Event.READY, i * 11.0 + 1).state
    assert state.restarts == 20


def test_no_restart_and_extra_delay_switches() -> None:
    dead = decide(SlotState(policy=Policy(restart=False)), Event.EXITED, 0.0)
    assert dead.action == Nothing()
    assert dead.state.phase is Phase.CRASHED
    slow = decide(SlotState(policy=Policy(extra_delay_s=1.0)), Event.EXITED, 0.0)
    assert slow.action == Restart(1.0)


def test_stop_wins_over_everything() -> None:
    state = decide(SlotState(policy=POLICY), Event.STOP, 0.0).state
    for event in Event:
        decision = decide(state, event, 1.0)
        assert decision.action == Nothing()
        assert decision.state.phase is Phase.STOPPED


@given(events)
def test_restarts_in_any_window_never_exceed_the_limit(seq: list[tuple[Event, float]]) -> None:
    times = [t for t, action in run(seq) if isinstance(action, Restart)]
    for t in times:
        in_window = [u for u in times if t - POLICY.window_s < u <= t]
        assert len(in_window) <= POLICY.max_restarts


@given(events)
def test_after_giving_up_nothing_is_ever_restarted(seq: list[tuple[Event, float]]) -> None:
    actions = [action for _, action in run(seq)]
    if any(isinstance(a, GiveUp) for a in actions):
        after = actions[[isinstance(a, GiveUp) for a in actions].index(True) + 1 :]
        assert all(a == Nothing() for a in after)


@given(events)
def test_delays_are_bounded_and_count_matches(seq: list[tuple[Event, float]]) -> None:
    state = SlotState(policy=POLICY)
    restarts = 0
    for event, gap in seq:
        decision = decide(state, event, gap)
        state = decision.state
        if isinstance(decision.action, Restart):
            restarts += 1
            assert 0.0 <= decision.action.delay_s <= POLICY.backoff_cap_s
    assert state.restarts == restarts


@given(st.integers(0, 50))
def test_backoff_is_monotonic(streak: int) -> None:
    assert backoff(POLICY, streak) <= backoff(POLICY, streak + 1) <= POLICY.backoff_cap_s
