"""Event triggers as pure matchers, fed recorded events: each fires once, at the nth."""

from __future__ import annotations

from harness.observe.events import Event, LogLine, ProbeResult, ProcessStart, Request
from harness.scenario.model import OnLog, OnProbe, OnRequest, OnSpawn
from harness.schedule.triggers import Fired, matcher_for


def _offer_all(
    trigger: object, events: list[Event], roles: dict[int, str] | None = None
) -> list[Fired]:
    matcher = matcher_for(trigger, (roles or {}).get)  # type: ignore[arg-type]
    return [fired for e in events if (fired := matcher.offer(e)) is not None]


def _start(t: float, pid: int, role: str, instance: int = 0) -> ProcessStart:
    return ProcessStart(t=t, pid=pid, ppid=1, instance=instance, role=role, cmdline=["x"])


def test_on_spawn_fires_at_the_nth_start_of_its_role_and_instance() -> None:
    events: list[Event] = [
        _start(1, 10, "module"),
        _start(2, 11, "other"),
        _start(3, 12, "module", instance=1),
        _start(4, 13, "module"),
        _start(5, 14, "module"),
    ]
    (fired,) = _offer_all(OnSpawn(role="module", nth=2), events)
    assert fired.pid == 12  # without an instance, every instance's starts count
    (fired,) = _offer_all(OnSpawn(role="module", nth=1, instance=1), events)
    assert fired.pid == 12


def _line(t: float, text: str, instance: int = 0) -> LogLine:
    return LogLine(t=t, instance=instance, stream="stderr", line=text)


def test_on_log_fires_at_the_nth_matching_line_and_names_its_pid() -> None:
    events: list[Event] = [
        _line(1, "[worker w0 100] claimed job a"),
        _line(2, "[worker w1 101] ready"),
        _line(3, "[worker w1 101] claimed job b"),
        _line(4, "[worker w0 100] claimed job c"),
    ]
    trigger = OnLog(pattern=r"\[worker \S+ (?P<pid>\d+)\] claimed job", nth=2)
    (fired,) = _offer_all(trigger, events)
    assert (fired.pid, fired.event.t) == (101, 3)


def test_on_log_with_a_role_counts_only_lines_naming_a_process_of_that_role() -> None:
    events: list[Event] = [
        _line(1, "pid 7 claimed"),  # pid 7 is not a worker
        _line(2, "pid 8 claimed"),
        _line(3, "pid 9 claimed"),  # not one of the trial's processes at all
        _line(4, "pid 8 claimed"),
    ]
    trigger = OnLog(pattern=r"pid (?P<pid>\d+) claimed", role="worker", nth=2)
    (fired,) = _offer_all(trigger, events, roles={7: "backend", 8: "worker"})
    assert (fired.pid, fired.event.t) == (8, 4)


def test_on_log_without_a_pid_group_names_no_process() -> None:
    (fired,) = _offer_all(
        OnLog(pattern="boom", instance=1), [_line(1, "boom"), _line(2, "boom", 1)]
    )
    assert (fired.pid, fired.event.t) == (None, 2)


def _request(t: float, ok: bool, recorded: object = None, workload: str = "jobs") -> Request:
    return Request(t=t, workload=workload, instance=0, ok=ok, recorded=recorded)


def test_on_request_counts_ok_answers_or_acknowledged_ids() -> None:
    events: list[Event] = [
        _request(1, True),  # ok, but no id recorded
        _request(2, False, "x"),  # not ok
        _request(3, True, "a", workload="other"),
        _request(4, True, "b"),
        _request(5, True, "c"),
    ]
    (fired,) = _offer_all(OnRequest(workload="jobs", nth=2), events)
    assert fired.event.t == 4
    (fired,) = _offer_all(OnRequest(workload="jobs", nth=2, acknowledged=True), events)
    assert isinstance(fired.event, Request)
    assert (fired.event.t, fired.event.recorded) == (5, "c")


def _reading(t: float, value: object, ok: bool = True, name: str = "status") -> ProbeResult:
    return ProbeResult(t=t, name=name, instance=0, ok=ok, value=value)


def test_on_probe_fires_at_the_nth_reading_that_meets_its_conditions() -> None:
    events: list[Event] = [
        _reading(1, {"backend": {"state": "running", "restarts": 0}}),
        _reading(2, {"backend": {"state": "crashed", "restarts": 0}}, ok=False),
        _reading(3, {"backend": {"state": "crashed", "restarts": 1}}, name="other"),
        _reading(4, {"backend": {"state": "crashed", "restarts": 1}}),
        _reading(5, {"backend": {"state": "starting", "restarts": 2}}),
    ]
    crashed = OnProbe.model_validate(
        {"probe": "status", "path": "backend.state", "equals": "crashed"}
    )
    (fired,) = _offer_all(crashed, events)
    assert fired.event.t == 4
    down = OnProbe.model_validate(
        {"probe": "status", "path": "backend.state", "in": ["crashed", "starting"], "nth": 2}
    )
    assert [f.event.t for f in _offer_all(down, events)] == [5]
    restarted = OnProbe.model_validate({"probe": "status", "path": "backend.restarts", "above": 1})
    assert [f.event.t for f in _offer_all(restarted, events)] == [5]
    missing = OnProbe.model_validate({"probe": "status", "path": "nope", "equals": None})
    assert _offer_all(missing, events) == []  # a missing path is never a value


def test_a_trigger_fires_once_however_many_events_follow() -> None:
    events: list[Event] = [_request(t, True) for t in range(10)]
    assert len(_offer_all(OnRequest(workload="jobs", nth=1), events)) == 1
