"""A trial's ``timeout`` bounds it at run time, whatever the model let through.

The loader refuses a ``duration`` that cannot fit; these scenarios are made with
``model_copy`` so that they reach the run anyway, as a scenario built in code could.
"""

from __future__ import annotations

import sys
import time
from typing import Any

import pytest

from harness import Verdict, run_trial, scenario_from_mapping
from harness.scenario.model import Scenario

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

SERVE = "import signal, time; print('up', flush=True); signal.pause()"
NEVER = "import signal; print('starting', flush=True); signal.pause()"


def _scenario(code: str, *, ready_timeout: float = 10.0, **fields: Any) -> Scenario:
    base = scenario_from_mapping(
        {
            "name": "bounded",
            "system": {
                "command": [sys.executable, "-c", code],
                "ready": {"log": "^up$"},
                "stop": {"grace": "500ms"},
            },
            "invariants": [{"log": {"present": "^up$"}}],
        },
        {},
    )
    ready = base.system.ready.model_copy(update={"timeout": ready_timeout})
    system = base.system.model_copy(update={"ready": ready})
    return base.model_copy(update={"system": system, **fields})


def _phases(result: Any) -> dict[str, float]:
    return {e.name: e.t for e in result.events if getattr(e, "type", "") == "phase"}


def test_a_duration_longer_than_the_timeout_is_stopped_there_as_an_error() -> None:
    """``duration: 10s, timeout: 5s`` once passed in 0.008 s, having observed nothing."""
    scenario = _scenario(SERVE, duration=10.0, timeout=5.0)
    started = time.monotonic()

    result = run_trial(scenario, 0, seed=1)

    took = time.monotonic() - started
    assert result.verdict is Verdict.ERROR
    assert result.error is not None
    assert result.error.startswith("ran past its timeout: ready at ")
    assert "a duration of 10s would end at" in result.error
    assert "teardown had to begin at 2.5s" in result.error
    phases = _phases(result)
    assert "settle" not in phases, "cut short: straight to teardown"
    assert phases["teardown"] >= 2.5 - 0.05, "it observed until teardown had to begin"
    assert took < 5.0 + 1.0, "the whole trial, teardown included, kept to its timeout"
    assert result.invariants == [], "not judged"


def test_an_absurd_duration_ends_at_the_timeout_too() -> None:
    """``duration: 9999999h`` once passed after 53 s."""
    scenario = _scenario(SERVE, duration=9999999 * 3600.0, timeout=4.0)

    result = run_trial(scenario, 0, seed=1)

    assert result.verdict is Verdict.ERROR
    assert result.error is not None
    assert "a duration of 9,999,999h" in result.error
    assert result.duration_s < 4.0 + 1.0


def test_a_wait_for_readiness_cut_by_the_timeout_is_an_error_not_a_failure() -> None:
    scenario = _scenario(NEVER, timeout=4.0, ready_timeout=30.0)

    result = run_trial(scenario, 0, seed=1)

    assert result.verdict is Verdict.ERROR
    assert result.error is not None
    assert "ran past its timeout while waiting for the system to be ready" in result.error
    assert "before its ready.timeout of 30s was up" in result.error
    assert result.output_tail == ["starting"]
    assert result.duration_s < 4.0 + 1.0


def test_a_trial_that_fits_its_timeout_is_judged_as_before() -> None:
    scenario = _scenario(SERVE, duration=0.3, timeout=10.0)

    result = run_trial(scenario, 0, seed=1)

    assert result.verdict is Verdict.PASS, result.error
    assert [i.kind for i in result.invariants] == ["log"]
