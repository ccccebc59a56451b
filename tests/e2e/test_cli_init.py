"""``chaos init -- COMMAND``: the scenario it writes validates and passes, nothing leaks.

Tried as a new user would: on the testbed (a supervisor of exec'd children, HTTP on its
port) and on the pre-fork server (workers forked without exec). The ``chaos`` fixture
checks that neither the watch nor the runs leave a process, cgroup, port or folder.
"""

from __future__ import annotations

import socket
import sys

import pytest
import yaml
from e2e_support import SYSTEMS, Chaos

pytestmark = pytest.mark.e2e


def free_port() -> int:
    """A port free now: the command given to init names a fixed one, as a user's would."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _init_validate_run(chaos: Chaos, *command: str) -> dict[str, object]:
    result = chaos.run("init", "--out", "drafted.yaml", "--", *command)
    assert result.returncode == 0, result
    assert "wrote drafted.yaml" in result.stderr, result
    path = chaos.home / "drafted.yaml"
    checked = chaos.run("validate", path)
    assert checked.returncode == 0, (checked, path.read_text())
    ran = chaos.run("run", path)
    assert ran.returncode == 0, (ran, path.read_text())
    data: dict[str, object] = yaml.safe_load(path.read_text())
    return data


def test_init_on_the_testbed_writes_a_scenario_that_passes(chaos: Chaos) -> None:
    port = free_port()
    data = _init_validate_run(
        chaos, "python", "-m", "harness.testbed", "--port", str(port), "--data-dir", "data"
    )
    assert data["roles"] == {
        "testbed": {"root": True},
        "backend": {"cmdline": r"harness\.testbed\.backend", "count": 1},
        "module": {"cmdline": r"harness\.testbed\.module", "count": 2},
        "worker": {"cmdline": r"harness\.testbed\.worker", "count": 2},
    }
    system = data["system"]
    assert isinstance(system, dict)
    assert system["command"][:4] == ["{python}", "-m", "harness.testbed", "--port"]
    assert system["command"][4] == "{port}"  # the port it listened on, made a template
    assert system["ready"]["tcp"] == {"port": "{port}"}
    assert data["workload"] == [
        {"name": "http", "http": {"url": "http://127.0.0.1:{port}/health"}, "rate": "20/s"}
    ]
    kinds = [next(iter(i)) for i in data["invariants"]]  # type: ignore[attr-defined]
    assert kinds.count("recovers") == 3
    assert {"alive", "restarts", "no_orphans"} <= set(kinds)


def test_init_on_a_prefork_server_names_workers_by_forked_from(chaos: Chaos) -> None:
    port = free_port()
    data = _init_validate_run(
        chaos, sys.executable, str(SYSTEMS / "prefork.py"), "--port", str(port), "--workers", "3"
    )
    assert data["roles"] == {
        "prefork": {"root": True},
        "worker": {"forked_from": "prefork", "count": 3},
    }
    system = data["system"]
    assert isinstance(system, dict)
    assert system["ready"]["roles"] == {"worker": 3}
    assert data["faults"] == [{"at": "1s", "kill": {"role": "worker", "signal": "SIGKILL"}}]


def test_init_on_a_system_that_exits_writes_an_expected_exit(chaos: Chaos) -> None:
    result = chaos.run("init", "--out", "-", "--", sys.executable, "-c", "raise SystemExit(3)")
    assert result.returncode == 0, result
    data = yaml.safe_load(result.stdout)
    assert data["system"]["expect_exit"] == {"within": "5s"}
    assert data["invariants"][0] == {"exit": {"code": 3}}


def test_init_refuses_to_overwrite_and_needs_a_command(chaos: Chaos) -> None:
    (chaos.home / "taken.yaml").write_text("name: mine\n")
    result = chaos.run("init", "--out", "taken.yaml", "--", "true")
    assert result.returncode == 2, result
    assert "taken.yaml exists; give --force" in result.stderr
    assert (chaos.home / "taken.yaml").read_text() == "name: mine\n"
    assert chaos.run("init").returncode == 2
