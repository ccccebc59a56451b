"""Finding a journal's trial again, and the commands that rerun it.

A trial is named ``NAME#I``: its scenario and its ``index`` in the journal (0-based, as in
JUnit's ``NAME[trial-I]``). Two ways back to it:

- ``chaos run FILE -k NAME --seed N --repeat 1``: trial 0 of seed ``N`` is the trial whose
  seed is ``N`` (``harness.run.runner.trial_seed``), so the same seed plans the same
  schedule from the same file and vars;
- ``chaos replay JOURNAL --trial NAME#I``: the schedule the journal stored, run as it is
  (the same even if the file's faults changed since, or the planner did).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from pathlib import Path

import yaml

from harness.errors import UsageError
from harness.results.model import RunResult, ScenarioResult, TrialResult
from harness.scenario import include
from harness.scenario.parts import effective_vars
from harness.scenario.source import SourceError, parse, read_source
from harness.schedule.model import Schedule

_REF = re.compile(r"^(?P<name>.+)#(?P<index>\d+)$")
_SELECTABLE = re.compile(r"[\w:+\-.\[\]\\/]+")
"""A name ``-k`` reads as one word (``harness.scenario.selection``)."""


def parse_ref(text: str) -> tuple[str, int]:
    """``backend-sigkill#3`` → ``("backend-sigkill", 3)``."""
    match = _REF.match(text.strip())
    if not match:
        raise UsageError(
            f"--trial expects NAME#I, the scenario's name and the trial's index (such as "
            f"backend-sigkill#0), got {text!r}"
        )
    return match.group("name"), int(match.group("index"))


def find_trial(run: RunResult, name: str, index: int) -> tuple[ScenarioResult, TrialResult]:
    """The scenario and trial ``NAME#I`` of a journal; ``UsageError`` lists what it has."""
    for scenario in run.scenarios:
        if scenario.name != name:
            continue
        for trial in scenario.trials:
            if trial.index == index:
                return scenario, trial
        have = ", ".join(f"{name}#{t.index}" for t in scenario.trials) or "none"
        raise UsageError(f"the journal has no trial {name}#{index}; its trials of {name}: {have}")
    names = ", ".join(s.name for s in run.scenarios) or "none"
    raise UsageError(f"the journal has no scenario {name!r}; it has: {names}")


def failing(run: RunResult) -> list[tuple[ScenarioResult, TrialResult]]:
    """Every trial that did not pass nor was cut short before being judged."""
    return [
        (scenario, trial)
        for scenario in run.scenarios
        for trial in scenario.trials
        if str(trial.verdict) in ("fail", "error")
    ]


def stored_schedule(trial: TrialResult) -> Schedule | None:
    """The schedule the journal stored for a trial; ``None`` for a journal from before
    schedules were stored. ``ScheduleError`` for one this version cannot read."""
    if trial.schedule is None:
        return None
    return Schedule.from_dict(trial.schedule)


def rerun_command(file: str, name: str, seed: int, overrides: Mapping[str, str]) -> str:
    """``chaos run FILE -k NAME --seed N --repeat 1`` (with the ``--var``s the run had)."""
    words = ["chaos", "run", file]
    if _SELECTABLE.fullmatch(name) and name.lower() not in ("and", "or", "not"):
        words += ["-k", name]  # else left out: the file holds that one scenario anyway
    words += ["--seed", str(seed), "--repeat", "1"]
    for key, value in sorted(overrides.items()):
        words += ["--var", f"{key}={value}"]
    return shlex.join(words)


def replay_command(journal: Path | str, name: str, index: int) -> str:
    """``chaos replay JOURNAL --trial NAME#I``."""
    return shlex.join(["chaos", "replay", str(journal), "--trial", f"{name}#{index}"])


def shrink_command(journal: Path | str, name: str, index: int) -> str:
    """``chaos shrink JOURNAL --trial NAME#I``."""
    return shlex.join(["chaos", "shrink", str(journal), "--trial", f"{name}#{index}"])


def declared_vars(file: Path) -> dict[str, str]:
    """The vars a scenario file declares, its fragments' (``include``) too, as text (what a
    run has without ``--var``); empty when the file cannot be read."""
    try:
        data, lines = parse(read_source(file))
        if isinstance(data, dict):
            data, _ = include.expand(data, lines, str(file))
    except (OSError, SourceError, yaml.YAMLError, include.IncludeError):
        return {}  # gone or changed: every var counts as given
    raw = data.get("vars") if isinstance(data, dict) else None
    return effective_vars(raw, {})[0]
