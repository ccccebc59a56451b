"""Launching marked roots and waiting until they are ready, with real programs."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from harness.errors import SystemUnderTestError
from harness.observe.events import LogLine, NotReady, Ready, SystemStart
from harness.system.launcher import launch
from harness.system.marker import find_marked, read_marker
from harness.system.ports import free_port, release
from harness.system.readiness import ReadyChecks, ReadyOutcome, wait_ready

from .rig import DEADLINE_S, Rig, program, role


def _ready(rig: Rig, checks: ReadyChecks, timeout: float = DEADLINE_S) -> ReadyOutcome:
    proc = rig.launched[-1]
    return wait_ready(
        checks,
        proc,
        rig.timeline,
        deadline=time.monotonic() + timeout,
        is_alive=lambda: rig.tracker.is_alive(proc.pid),
    )


@pytest.fixture
def port() -> Iterator[int]:
    chosen = free_port()
    yield chosen
    release(chosen)


def test_root_is_marked_and_its_output_recorded(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig([role("main", root=True)])
    proc = rig.launch(program("never_ready.py"))
    rig.line("^child \\d+$")
    marker = read_marker(proc.pid)
    assert marker is not None
    assert marker.trial_id == rig.trial_id
    assert marker.harness_pid == os.getpid()
    assert proc.pid in find_marked(rig.trial_id)
    start = rig.timeline.of(SystemStart)[0]
    assert (start.pid, start.instance, start.cwd) == (proc.pid, 0, str(rig.cwd))
    streams = {(e.stream, e.line) for e in rig.timeline.of(LogLine)}
    assert ("stdout", "warming up the flux capacitor") in streams
    assert ("stderr", "still warming") in streams
    # The marker is inherited: the worker child carries it too (readable once its exec is
    # complete, which its own first line proves; "child N" may come while it is mid-exec).
    worker = int(rig.line("^child (\\d+)$").group(1))
    rig.line(f"^worker ready {worker}$")
    assert worker in find_marked(rig.trial_id)


def test_ready_by_log_pattern_with_groups(make_rig: Callable[..., Rig], port: int) -> None:
    rig = make_rig([role("main", root=True)])
    rig.launch(program("serve.py", str(port)))
    outcome = _ready(rig, ReadyChecks(log_regex=r"listening on http://127\.0\.0\.1:(?P<port>\d+)"))
    assert outcome.ok, outcome.reason
    assert outcome.groups == {"port": str(port)}
    ready = rig.timeline.of(Ready)
    assert [(r.instance, r.groups) for r in ready] == [(0, {"port": str(port)})]


def test_ready_by_http_tcp_and_file_together(
    make_rig: Callable[..., Rig], port: int, tmp_path: Path
) -> None:
    rig = make_rig([role("main", root=True)])
    marker_file = tmp_path / "ready.flag"
    rig.launch(program("serve.py", str(port), str(marker_file)))
    outcome = _ready(
        rig,
        ReadyChecks(
            http_url=f"http://127.0.0.1:{port}/health",
            tcp_host="127.0.0.1",
            tcp_port=port,
            file_path=str(marker_file),
        ),
    )
    assert outcome.ok, outcome.reason
    assert marker_file.exists()
    assert len(rig.timeline.of(Ready)) == 1


def test_http_status_must_match(make_rig: Callable[..., Rig], port: int) -> None:
    rig = make_rig([role("main", root=True)])
    rig.launch(program("serve.py", str(port)))
    rig.line("listening")
    outcome = _ready(rig, ReadyChecks(http_url=f"http://127.0.0.1:{port}/nope"), timeout=1.0)
    assert not outcome.ok
    assert "status 404, expected 200" in outcome.reason


def test_never_ready_reports_tail_and_teardown_removes_tree(
    make_rig: Callable[..., Rig],
) -> None:
    rig = make_rig([role("main", root=True), role("worker", r"worker\.py")])
    proc = rig.launch(program("never_ready.py"))
    rig.line("^child ")
    outcome = _ready(rig, ReadyChecks(log_regex="will never be printed"), timeout=1.0)
    assert not outcome.ok
    assert "no output line matched" in outcome.reason
    not_ready = rig.timeline.of(NotReady)
    assert len(not_ready) == 1
    assert "warming up the flux capacitor" in not_ready[0].output_tail
    assert "still warming" in not_ready[0].output_tail
    tracked = {p.pid for p in rig.tracker.processes()}
    assert proc.pid in tracked
    assert len(tracked) == 2, "the worker child must be tracked too"
    rig.teardown()
    assert rig.tracker.processes() == []
    for pid in tracked:
        assert not os.path.exists(f"/proc/{pid}"), f"{pid} survived teardown"
    assert find_marked(rig.trial_id) == []


def test_exit_before_ready_fails_at_once_with_code(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig([role("main", root=True)])
    proc = rig.launch(program("crash.py"))
    began = time.monotonic()
    outcome = _ready(rig, ReadyChecks(log_regex="never"), timeout=60.0)
    assert not outcome.ok
    assert "exited with code 3" in outcome.reason
    assert time.monotonic() - began < 30.0, "must not wait for the readiness deadline"
    assert proc.returncode == 3
    assert "fatal: config missing" in rig.timeline.of(NotReady)[0].output_tail


def test_missing_executable_is_a_system_error(tmp_path: Path) -> None:
    from harness.observe.timeline import Timeline

    with pytest.raises(SystemUnderTestError, match="No such file"):
        launch(
            [str(tmp_path / "no-such-program")],
            instance=0,
            env={},
            cwd=tmp_path,
            timeline=Timeline(),
            trial_id="t",
        )


def test_not_executable_is_a_system_error(tmp_path: Path) -> None:
    from harness.observe.timeline import Timeline

    script = tmp_path / "script.sh"
    script.write_text("#!/bin/sh\necho hi\n")
    script.chmod(0o644)
    with pytest.raises(SystemUnderTestError, match="Permission denied"):
        launch([str(script)], instance=0, env={}, cwd=tmp_path, timeline=Timeline(), trial_id="t")
