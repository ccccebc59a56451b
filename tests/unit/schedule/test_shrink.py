"""The shrinker against recorded oracles: it keeps what still fails (on a repeat), drops
what does not, moves and shortens faults, and stops at its budget."""

from __future__ import annotations

from collections.abc import Callable

from harness.results.model import TrialResult
from harness.schedule.model import Schedule, Step
from harness.schedule.shrink import Budget, Shrinker, same_failure
from harness.spec.verdict import InvariantResult, Verdict


def kill(number: int, at: float, role: str = "worker") -> Step:
    return Step(
        number=number,
        entry=number,
        kind="kill",
        options={"role": role, "signal": "SIGKILL"},
        trigger="at",
        at=at,
    )


def freeze(number: int, at: float, lasting: str) -> Step:
    return Step(
        number=number,
        entry=number,
        kind="freeze",
        options={"role": "worker", "for": lasting},
        trigger="at",
        at=at,
    )


def schedule(*steps: Step, chaos: tuple[float, float] = (0.0, 10.0)) -> Schedule:
    return Schedule(seed=1, steps=steps, chaos=chaos, duration=chaos[1])


class Oracle:
    """A recorded system: ``fails(schedule)`` decides; every call is one rerun."""

    def __init__(self, fails: Callable[[Schedule], bool]) -> None:
        self.fails = fails
        self.calls: list[Schedule] = []

    def __call__(self, candidate: Schedule) -> bool:
        self.calls.append(candidate)
        return self.fails(candidate)


def has_backend_kill(candidate: Schedule) -> bool:
    return any(s.options.get("role") == "backend" for s in candidate.steps)


def test_four_faults_shrink_to_the_one_that_matters() -> None:
    original = schedule(kill(0, 0.3), kill(1, 1.25), kill(2, 2.7, "backend"), kill(3, 3.3))
    oracle = Oracle(has_backend_kill)

    result = Shrinker(original, oracle).shrink()

    assert result.reproduced
    assert [s.number for s in result.smallest.steps] == [2]
    assert [s.number for s in result.removed()] == [0, 1, 3]
    assert result.runs == len(oracle.calls)
    # Moved as early as it can go: still failing (this oracle ignores time).
    assert result.smallest.steps[0].at == 0.0
    assert "removed #0 kill at 0.300s" in result.summary()
    assert "moved #2 kill from 2.700s to 0.000s" in result.summary()


def test_a_candidate_counts_only_if_it_fails_on_a_repeat() -> None:
    original = schedule(kill(0, 1.0), kill(1, 2.0))
    seen: dict[str, int] = {}

    def flaky(candidate: Schedule) -> bool:
        """The original always fails; any other schedule only on its first run."""
        key = candidate.to_json()
        if key == original.to_json():
            return True
        seen[key] = seen.get(key, 0) + 1
        return seen[key] == 1

    result = Shrinker(original, Oracle(flaky)).shrink()

    assert result.smallest == original
    assert seen, "candidates were tried"
    assert all(count == 2 for count in seen.values()), "each candidate was run twice"
    assert not any(t.failed for t in result.tried)


def test_a_failure_that_does_not_recur_is_not_shrunk() -> None:
    original = schedule(kill(0, 1.0))
    oracle = Oracle(lambda _: False)

    result = Shrinker(original, oracle).shrink()

    assert not result.reproduced
    assert result.smallest == original
    assert len(oracle.calls) == 1  # the confirming rerun only


def test_faults_move_earlier_and_closer_while_the_failure_holds() -> None:
    # Fails while the two kills are at most 2 s apart and the first is at 3 s or later.
    def fails(candidate: Schedule) -> bool:
        times = [s.at or 0.0 for s in candidate.timed()]
        return len(times) == 2 and times[0] >= 3.0 and times[1] - times[0] <= 2.0

    original = schedule(kill(0, 6.0), kill(1, 7.5), chaos=(1.0, 10.0))
    result = Shrinker(original, Oracle(fails)).shrink()

    first, second = result.smallest.timed()
    assert 3.0 <= (first.at or 0) < 4.0  # halved toward the chaos start, then stopped
    assert (second.at or 0) - (first.at or 0) < 0.1  # as close as it goes
    assert len(result.smallest.steps) == 2


def test_a_fault_window_is_shortened_while_the_failure_holds() -> None:
    def fails(candidate: Schedule) -> bool:
        return any(s.options.get("for") in ("4000ms", "2000ms", "1000ms") for s in candidate.steps)

    result = Shrinker(schedule(freeze(0, 1.0, "4000ms")), Oracle(fails)).shrink()

    assert result.smallest.steps[0].options["for"] == "1000ms"
    assert "shortened #0 freeze for 4000ms to 1000ms" in result.summary()


def test_the_budget_of_reruns_is_never_exceeded() -> None:
    steps = [kill(n, float(n + 1)) for n in range(8)]
    oracle = Oracle(lambda c: len(c.steps) >= 3)

    result = Shrinker(schedule(*steps), oracle, Budget(runs=7)).shrink()

    assert len(oracle.calls) <= 7
    assert result.stopped == "the budget of 7 reruns"
    assert len(result.smallest.steps) >= 3


def test_the_time_budget_stops_it() -> None:
    now = [0.0]

    def slow(candidate: Schedule) -> bool:
        now[0] += 100.0
        return len(candidate.steps) == 2  # nothing smaller fails: it keeps trying

    result = Shrinker(
        schedule(kill(0, 1.0), kill(1, 2.0)), slow, Budget(seconds=250), clock=lambda: now[0]
    ).shrink()

    assert result.stopped == "the time budget of 250s"
    assert result.runs <= 3


def _trial(verdict: Verdict, *invariants: tuple[str, str], detail: str = "") -> TrialResult:
    return TrialResult(
        index=0,
        verdict=verdict,
        duration_s=1.0,
        invariants=[
            InvariantResult(kind=kind, verdict=Verdict(v), detail=detail or f"{kind} detail")
            for kind, v in invariants
        ],
    )


def test_the_same_failure_is_one_of_the_same_invariants_failing_on_evidence() -> None:
    original = _trial(Verdict.FAIL, ("recovers", "fail"), ("alive", "pass"))
    assert same_failure(original, _trial(Verdict.FAIL, ("recovers", "fail"), ("alive", "fail")))
    assert not same_failure(original, _trial(Verdict.FAIL, ("recovers", "pass"), ("alive", "fail")))
    assert not same_failure(original, _trial(Verdict.PASS, ("recovers", "pass"), ("alive", "pass")))
    assert not same_failure(original, _trial(Verdict.ERROR))
    nothing = "no fault ended a process of role backend; nothing to judge"
    vacuous = _trial(Verdict.FAIL, ("recovers", "fail"), ("alive", "pass"), detail=nothing)
    assert not same_failure(original, vacuous), "the fault that mattered was removed"
    assert same_failure(vacuous, vacuous), "unless the original failed for that too"


def test_a_system_that_never_became_ready_must_not_again() -> None:
    never = _trial(Verdict.FAIL)
    assert same_failure(never, _trial(Verdict.FAIL))
    assert not same_failure(never, _trial(Verdict.FAIL, ("recovers", "fail")))
