"""Systems that must fail: ``system.expect_exit`` ends the trial when the roots exit.

"The port is taken: the system must exit non-zero and say so." The pre-fork server's port
is squatted before start; a correct server exits 1 naming the address (PASS); one that
stays up with the same message (``--keep-running-on-bind-error``) is the bug (FAIL). The
harness's own squatting socket must never make a system ready.
"""

from __future__ import annotations

import pytest
from e2e_support import Chaos, only_trial

pytestmark = pytest.mark.e2e

MUST_EXIT = """\
    name: {name}
    timeout: 20s
    system:
      command: ["{{python}}", "{{SYSTEMS}}/prefork.py", --port, "{{port}}"{extra}]
      expect_exit: {{within: 3s}}
      stop: {{grace: 2s}}
    roles:
      master: {{root: true}}
    faults:
      - before: start
        squat_port: {{port: "{{port}}"}}
    invariants:
      - exit: {{code: nonzero, stderr_matches: 'cannot listen on 127\\.0\\.0\\.1:\\d+'}}
      - no_orphans: {{within: 1s}}
"""


def test_a_system_that_exits_when_its_port_is_taken_passes(chaos: Chaos) -> None:
    path = chaos.scenario("exits.yaml", MUST_EXIT.format(name="port-taken", extra=""))

    result = chaos.run("run", path)

    assert result.returncode == 0, result
    trial = only_trial(chaos.home)
    events = trial["events"]
    assert not [e for e in events if e["type"] in ("ready", "not_ready")], events
    exit_t = next(e["t"] for e in events if e["type"] == "process_exit" and e["code"] == 1)
    teardown_t = next(e["t"] for e in events if e["type"] == "phase" and e["name"] == "teardown")
    assert teardown_t - exit_t < 1.0  # the trial ended at the exit, not after a guessed duration
    assert trial["metrics"]["exit_codes"] == [1]


def test_a_system_that_stays_up_when_its_port_is_taken_fails(chaos: Chaos) -> None:
    path = chaos.scenario(
        "stays.yaml",
        MUST_EXIT.format(name="port-taken-stays", extra=", --keep-running-on-bind-error"),
    )

    result = chaos.run("run", path)

    assert result.returncode == 1, result
    assert "FAIL port-taken-stays" in result.stdout, result
    assert "expected the system to exit within 3s (system.expect_exit)" in result.stdout, result


def test_the_harness_squatter_never_makes_a_system_ready(chaos: Chaos) -> None:
    path = chaos.scenario(
        "squatted.yaml",
        """\
        name: squatted-ready
        timeout: 20s
        system:
          command: ["{python}", "{SYSTEMS}/prefork.py", --port, "{port}",
                    --keep-running-on-bind-error]
          ready: {tcp: {port: "{port}"}, timeout: 1500ms}
          stop: {grace: 2s}
        faults:
          - before: start
            squat_port: {port: "{port}"}
        """,
    )

    result = chaos.run("run", path)

    assert result.returncode == 1, result
    assert "only the harness itself listens there" in result.stdout, result


def test_not_ready_is_recorded_when_the_root_exits(chaos: Chaos) -> None:
    # The squatter accepts and never answers: an http check of it would hang for its own
    # timeout while the root has already exited.
    path = chaos.scenario(
        "early.yaml",
        """\
        name: exits-early
        timeout: 20s
        system:
          command: ["{python}", "{SYSTEMS}/prefork.py", --port, "{port}"]
          ready: {http: {url: "http://127.0.0.1:{port}/"}, timeout: 10s}
          stop: {grace: 2s}
        faults:
          - before: start
            squat_port: {port: "{port}"}
        """,
    )

    result = chaos.run("run", path)

    assert result.returncode == 1, result
    trial = only_trial(chaos.home)
    events = trial["events"]
    assert not [e for e in events if e["type"] == "ready"], events
    exit_t = next(e["t"] for e in events if e["type"] == "process_exit")
    not_ready = next(e for e in events if e["type"] == "not_ready")
    assert not_ready["t"] <= exit_t + 0.1, (exit_t, not_ready)
    assert "exited with code 1" in not_ready["reason"]
