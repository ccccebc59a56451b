"""Shrinking a failing schedule: fewer faults, earlier and closer, shorter. Pure.

The shrinker edits a trial's ``Schedule`` and asks ``attempt`` (one rerun of a candidate:
did it fail the same way?) whether each edit still fails; it keeps every edit that does.
It never runs anything itself, so it is tested with a recorded oracle.

**The repeat rule.** Trials are noisy, so a candidate counts as failing only if it fails
on two runs in a row: a first run that passes rejects it at the cost of one run, a first
failure is confirmed by a second. The original schedule's first run is the journal's, so
shrinking begins with one confirming rerun; if that passes, the failure did not recur and
nothing is shrunk. "The same way" is ``same_failure``: the candidate fails one of the
invariants the original failed, on evidence, not for having nothing to judge.

**The passes**, in the order of Hypothesis's shrinker (delete first, then make smaller),
each repeated until a whole round changes nothing or the budget is spent:

1. *fewer*: remove chunks of steps, largest first (all of them, halves, quarters... single
   steps), the complement-only half of delta debugging;
2. *earlier*: shift every timed step earlier, by all the room before the first one (to the
   start of the chaos phase) or by half of it;
3. *closer*: for each timed step after the first, shift it and every later one earlier by
   the whole gap to the step before it, or by half of it;
4. *shorter*: halve each fault's ``for`` (down to 100 ms).

Moves under 10 ms are not tried. Every candidate's result is remembered: the same schedule
is never run twice. The budget (reruns, seconds) is checked before each candidate, which
needs two runs at most; when it is spent the smallest failing schedule so far is the answer.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from harness.results.model import TrialResult
from harness.schedule.describe import seconds
from harness.schedule.model import Schedule, Step
from harness.spec import units
from harness.spec.units import parse_duration
from harness.spec.verdict import Verdict

MIN_MOVE_S = 0.01
MIN_FOR_S = 0.1
Attempt = Callable[[Schedule], bool]
"""One rerun of a candidate: ``True`` when it failed the same way."""


@dataclass(frozen=True)
class Budget:
    """How much shrinking may cost: reruns of the system, and wall-clock seconds."""

    runs: int = 40
    seconds: float = 900.0


@dataclass
class Tried:
    """One candidate: what it changed, and whether it still failed (``None``: not run,
    already known)."""

    change: str
    failed: bool


@dataclass
class ShrinkResult:
    """What shrinking found, and what it cost."""

    original: Schedule
    smallest: Schedule
    reproduced: bool
    """Whether the original failed again on its confirming rerun."""
    runs: int = 0
    seconds: float = 0.0
    stopped: str | None = None
    """Why it stopped early (``the budget of 40 reruns``), ``None`` when it finished."""
    tried: list[Tried] = field(default_factory=list)

    def removed(self) -> list[Step]:
        kept = {s.number for s in self.smallest.steps}
        return [s for s in self.original.steps if s.number not in kept]

    def changed(self) -> list[tuple[Step, Step]]:
        """``(before, after)`` of every kept step that was moved or shortened."""
        now = {s.number: s for s in self.smallest.steps}
        return [
            (s, now[s.number])
            for s in self.original.steps
            if s.number in now and now[s.number] != s
        ]

    def summary(self) -> list[str]:
        """What was removed, moved and shortened, one sentence each."""
        lines = [f"removed #{s.number} {describe_step(s)}" for s in self.removed()]
        for before, after in self.changed():
            if before.at != after.at:
                moved = f"from {_secs(before.at)} to {_secs(after.at)}"
                lines.append(f"moved #{before.number} {before.kind} {moved}")
            old, new = before.options.get("for"), after.options.get("for")
            if old != new:
                lines.append(f"shortened #{before.number} {before.kind} for {old} to {new}")
        return lines


def describe_step(step: Step) -> str:
    """``kill at 1.250s`` / ``kill on_log``: enough to recognise a step in a comment."""
    if step.timed:
        return f"{step.kind} at {_secs(step.at)}"
    return f"{step.kind} {step.trigger}"


def _secs(value: float | None) -> str:
    return seconds(value or 0.0)


NOTHING_TO_JUDGE = "nothing to judge"
"""How every checker words a failure for want of evidence (no fault hit the role...)."""


def failed_invariants(trial: TrialResult, *, vacuous: bool = True) -> frozenset[int]:
    """The positions (in the scenario's ``invariants``) of those a trial failed; without
    ``vacuous``, not those that failed only for having nothing to judge."""
    return frozenset(
        i
        for i, inv in enumerate(trial.invariants)
        if inv.verdict is Verdict.FAIL and (vacuous or NOTHING_TO_JUDGE not in inv.detail)
    )


def same_failure(original: TrialResult, candidate: TrialResult) -> bool:
    """Whether ``candidate`` fails as ``original`` did: a failed verdict, and one of the
    invariants the original failed fails again on evidence (removing the fault that
    mattered leaves a ``recovers`` with "nothing to judge": that is not the same failure,
    unless the original's was such a failure too). A system that never became ready (no
    invariant judged) must again not become ready."""
    if candidate.verdict is not Verdict.FAIL:
        return False
    wanted = failed_invariants(original)
    if not wanted:
        return not candidate.invariants
    judged = failed_invariants(original, vacuous=False)
    return bool(wanted & failed_invariants(candidate, vacuous=not judged))


class Shrinker:
    """Greedy shrinking of one failing schedule under a budget (see the module docs)."""

    def __init__(
        self,
        schedule: Schedule,
        attempt: Attempt,
        budget: Budget = Budget(),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.original = schedule
        self.attempt = attempt
        self.budget = budget
        self.clock = clock
        self.known: dict[str, bool] = {schedule.to_json(): True}
        self.runs = 0
        self.tried: list[Tried] = []
        self.stopped: str | None = None
        self._began = clock()

    # ------------------------------------------------------------------ the loop

    def shrink(self) -> ShrinkResult:
        """Confirm the failure, then run the passes until nothing changes or the budget ends."""
        reproduced = self._run(self.original)
        current = self.original
        if reproduced:
            changed = True
            while changed and self.stopped is None:
                changed = False
                for candidates in (self._fewer, self._earlier, self._closer, self._shorter):
                    better = self._first_failing(current, candidates)
                    while better is not None:
                        current, changed = better, True
                        better = self._first_failing(current, candidates)
        return ShrinkResult(
            original=self.original,
            smallest=current,
            reproduced=reproduced,
            runs=self.runs,
            seconds=self.clock() - self._began,
            stopped=self.stopped,
            tried=self.tried,
        )

    def _first_failing(
        self, current: Schedule, candidates: Callable[[Schedule], Iterator[tuple[str, Schedule]]]
    ) -> Schedule | None:
        for change, candidate in candidates(current):
            if self.stopped is not None:
                return None
            if self._fails(change, candidate):
                return candidate
        return None

    def _fails(self, change: str, candidate: Schedule) -> bool:
        key = candidate.to_json()
        if key in self.known:
            return self.known[key]
        if not self._affordable():
            return False
        failed = self._run(candidate) and self._run(candidate)
        self.known[key] = failed
        self.tried.append(Tried(change, failed))
        return failed

    def _affordable(self) -> bool:
        if self.runs + 2 > self.budget.runs:
            self.stopped = f"the budget of {self.budget.runs} reruns"
        elif self.clock() - self._began >= self.budget.seconds:
            self.stopped = f"the time budget of {self.budget.seconds:g}s"
        return self.stopped is None

    def _run(self, candidate: Schedule) -> bool:
        self.runs += 1
        return self.attempt(candidate)

    # ------------------------------------------------------------------ the passes

    def _fewer(self, current: Schedule) -> Iterator[tuple[str, Schedule]]:
        steps = list(current.steps)
        size = len(steps)
        while size >= 1:
            for start in range(0, len(steps), size):
                gone = steps[start : start + size]
                kept = [s for s in steps if s not in gone]
                names = ", ".join(f"#{s.number}" for s in gone)
                yield f"remove {names}", current.with_steps(kept)
            size = size // 2 if size > 1 else 0

    def _earlier(self, current: Schedule) -> Iterator[tuple[str, Schedule]]:
        timed = current.timed()
        if not timed:
            return
        room = (timed[0].at or 0.0) - current.chaos[0]
        for shift in (room, room / 2):
            if shift >= MIN_MOVE_S:
                yield (
                    f"shift every timed step {shift:.3f}s earlier",
                    _shifted(current, timed, shift),
                )

    def _closer(self, current: Schedule) -> Iterator[tuple[str, Schedule]]:
        timed = current.timed()
        for k in range(1, len(timed)):
            gap = (timed[k].at or 0.0) - (timed[k - 1].at or 0.0)
            for shift in (gap, gap / 2):
                if shift >= MIN_MOVE_S:
                    change = f"move #{timed[k].number} and later {shift:.3f}s closer"
                    yield change, _shifted(current, timed[k:], shift)

    def _shorter(self, current: Schedule) -> Iterator[tuple[str, Schedule]]:
        for step in current.steps:
            text = step.options.get("for")
            if not isinstance(text, str):
                continue
            seconds = parse_duration(text)
            half = max(MIN_FOR_S, seconds / 2)
            if seconds - half >= MIN_MOVE_S:
                options = {**step.options, "for": duration_text(half)}
                others = [s for s in current.steps if s.number != step.number]
                change = f"shorten #{step.number} {step.kind} for {text} to {options['for']}"
                yield change, current.with_steps([*others, step.with_options(options)])


def _shifted(current: Schedule, moving: list[Step], shift: float) -> Schedule:
    numbers = {s.number for s in moving}
    floor = current.chaos[0]
    return current.with_steps(
        [
            s.moved(max(floor, (s.at or 0.0) - shift)) if s.number in numbers else s
            for s in current.steps
        ]
    )


def duration_text(seconds: float) -> str:
    """Seconds → ``1500ms`` (never an exponent), to the microsecond a schedule plans in:
    how a scenario writes a duration (``Duration``'s own text)."""
    return units.duration_text(round(seconds, 6))
