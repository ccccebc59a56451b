"""A role's readiness (``roles.R.ready``) attributed to one process: by a pid in the log line
or in the probe reading, else to the oldest live process of the role not yet ready."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError
from timelines import Story

from harness.invariants.base import RoleFacts
from harness.invariants.lifetimes import Lifetimes
from harness.invariants.role_ready import ready_times
from harness.scenario.model import RoleReadySpec


def _modules(ready: RoleReadySpec) -> Story:
    """Two modules (201, 202) under a supervisor; 201 is killed at 1.0, 203 replaces it."""
    story = Story(roles={"module": RoleFacts(count=2, ready=ready)}).root(0.0, 200)
    story.start(0.1, 201, "module").start(0.1, 202, "module").ready(0.5)
    return story.kill(1.0, 201).exit(1.01, 201).start(1.02, 203, "module")


_PID_READY = RoleReadySpec(log=r"registered pid (?P<pid>\d+)")


def _ready_by_pid(story: Story) -> dict[int, float]:
    history = story.history()
    lives = Lifetimes(history)
    times = ready_times("module", history, lives)
    assert times is not None
    return {life.pid: times[id(life)] for life in lives.lives if id(life) in times}


def test_a_log_line_names_its_process_with_a_pid_group() -> None:
    story = _modules(RoleReadySpec(log=r"registered pid (?P<pid>\d+)"))
    story.log(0.2, "module m1 registered pid 202").log(0.3, "module m0 registered pid 201")
    story.log(1.5, "module m1 registered pid 202")  # the survivor again: not the new one
    story.log(1.6, "module m0 registered pid 203").log(1.7, "registered pid 999")
    assert _ready_by_pid(story) == {202: 0.2, 201: 0.3, 203: 1.6}


def test_a_line_read_before_the_tracker_first_saw_its_pid_counts_for_that_process() -> None:
    # On a loaded machine the replacement's ready line (1.03) can come before the tracker's
    # first sighting of the new pid (1.10): the process existed when it said so.
    story = Story(roles={"module": RoleFacts(count=1, ready=_PID_READY)}).root(0.0, 200)
    story.start(0.1, 201, "module").ready(0.5).kill(1.0, 201).exit(1.01, 201)
    story.log(1.03, "module m0 registered pid 203").start(1.10, 203, "module")
    story.log(9.0, "registered pid 204").start(12.0, 204, "module")  # seen 3 s later: not it
    assert _ready_by_pid(story) == {203: 1.03}


def test_a_line_without_a_pid_counts_for_the_oldest_process_not_yet_ready() -> None:
    story = _modules(RoleReadySpec(log=r"module registered"))
    story.log(0.2, "module registered").log(0.3, "module registered")
    story.log(1.4, "module registered")
    assert _ready_by_pid(story) == {201: 0.2, 202: 0.3, 203: 1.4}


def test_a_probe_reading_names_its_process_by_a_pid_path_with_a_wildcard() -> None:
    spec = RoleReadySpec.model_validate(
        {"probe": "status", "pid": "modules.*.pid", "path": "state", "equals": "ok"}
    )
    story = _modules(spec)

    def status(t: float, **modules: dict[str, Any]) -> None:
        story.probe(t, "status", {"modules": modules})

    status(0.3, m0={"pid": 201, "state": "ok"}, m1={"pid": 202, "state": "initializing"})
    status(0.4, m0={"pid": 201, "state": "ok"}, m1={"pid": 202, "state": "ok"})
    status(1.1, m0={"pid": 203, "state": "initializing"}, m1={"pid": 202, "state": "ok"})
    status(1.3, m0={"pid": 203, "state": "ok"}, m1={"pid": 202, "state": "ok"})
    assert _ready_by_pid(story) == {201: 0.3, 202: 0.4, 203: 1.3}


def test_a_probe_answered_by_the_process_itself() -> None:
    story = _modules(RoleReadySpec(probe="health", pid="pid"))
    story.probe(0.2, "health", {"pid": 201}).probe(0.25, "health", {"pid": "202"})
    story.probe(1.05, "health", None, ok=False).probe(1.2, "health", {"pid": 203})
    assert _ready_by_pid(story) == {201: 0.2, 202: 0.25, 203: 1.2}


def test_no_readiness_declared_is_none_not_an_empty_guess() -> None:
    story = Story(roles={"module": RoleFacts(count=1)}).root(0.0, 200).start(0.1, 201, "module")
    history = story.history()
    assert ready_times("module", history, Lifetimes(history)) is None


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, "exactly one of log"),
        ({"log": "x", "probe": "p"}, "exactly one of log"),
        ({"log": "x", "pid": "pid"}, "pid: for probe readings only"),
        ({"log": "("}, "not a valid regular expression"),
    ],
)
def test_a_readiness_is_one_log_regex_or_one_probe(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        RoleReadySpec.model_validate(options)
