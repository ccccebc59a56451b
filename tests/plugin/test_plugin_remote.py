"""pytest-xdist remote workers: trials run on other "hosts", the controller writes once.

Each host is an execnet socket server (the ``socketserver.py`` execnet ships, what a user
starts on a machine for ``--tx socket=HOST:PORT``) on loopback, started in its own folder
with its own environment (``TMPDIR``, ``CHAOS_REMOTE_HOST``) and its own copy of the
scenario files, as a checkout on another machine would be; nothing is rsynced but what
pytest-xdist itself sends. The scenario's system prints ``CHAOS_REMOTE_HOST`` before it
starts, so the journal shows where every trial ran. Both servers are stopped after each
test, and the suite's leak guard sees that nothing they started is left.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import execnet
import pytest
from support import wait_until

from harness.run.fingerprint import content_digest
from harness.run.runner import trial_seed

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.integration

SOCKETSERVER = Path(execnet.__file__).parent / "script" / "socketserver.py"
NAME = "remote-backend"
SCENARIO = r"""name: remote-backend
description: the testbed on a worker host; its backend is SIGKILLed and comes back
tags: [remote]
timeout: 40s
system:
  command: [sh, -c, 'echo "chaos host: $CHAOS_REMOTE_HOST"; exec "$0" -m harness.testbed
            --port "$1" --data-dir "$2" --modules 0 --workers 0',
            "{python}", "{port}", "{run_dir}/data"]
  ready: {log: 'listening on http://127\.0\.0\.1:(?P<port>\d+)', timeout: 20s}
  stop: {signal: SIGTERM, grace: 3s}
roles:
  supervisor: {root: true}
  backend: {cmdline: 'harness\.testbed\.backend', count: 1}
faults:
  - {at: 0.5s, kill: {role: backend, signal: SIGKILL}}
duration: 1.5s
invariants:
  - recovers: {role: backend, within: 2s}
  - alive: {role: supervisor}
"""
INI = """\
[pytest]
addopts = --strict-markers -p no:cacheprovider
filterwarnings = error
chaos_paths = scenarios
"""


def write_project(folder: Path, scenario: str = SCENARIO) -> None:
    """The project as checked out on one machine: an ini naming the scenario folder."""
    (folder / "scenarios").mkdir(parents=True)
    (folder / "pytest.ini").write_text(INI, encoding="utf-8")
    (folder / "scenarios" / f"{NAME}.yaml").write_text(scenario, encoding="utf-8")


@dataclass
class Host:
    """One execnet socket server: a machine that pytest-xdist can run workers on."""

    name: str
    root: Path
    proc: subprocess.Popen[bytes]
    port: int

    @property
    def tx(self) -> str:
        """Its ``--tx``: the worker runs in ``suite`` under the server's folder."""
        return f"socket=127.0.0.1:{self.port}//chdir=suite"

    @property
    def tmp(self) -> Path:
        return self.root / "tmp"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_host(root: Path, name: str, scenario: str = SCENARIO) -> Host:
    write_project(root / "suite", scenario)
    (root / "tmp").mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.update(TMPDIR=str(root / "tmp"), CHAOS_REMOTE_HOST=name)
    log = root / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-u", str(SOCKETSERVER), "127.0.0.1:0"],
            cwd=root,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )

    def listening() -> int | None:
        if proc.poll() is not None:
            pytest.fail(f"socket server {name} exited: {log.read_text(errors='replace')}")
        found = re.search(r"Entering Accept loop \('127\.0\.0\.1', (\d+)\)", log.read_text())
        return int(found.group(1)) if found else None

    try:
        port = wait_until(listening, what=f"socket server {name} to listen")
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    return Host(name, root, proc, port)


@pytest.fixture
def hosts(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[list[Host]]:
    """Two socket servers; ``indirect`` parametrization may give the second its own text."""
    texts = getattr(request, "param", (SCENARIO, SCENARIO))
    started: list[Host] = []
    try:
        for name, text in zip(("alpha", "beta"), texts, strict=True):
            started.append(start_host(tmp_path / name, name, text))
        yield started
    finally:
        for host in started:
            host.stop()


def where_it_ran(trial: dict[str, object]) -> tuple[str, str]:
    """(host named in the system's first line, folder of its run) from a journal trial."""
    events = trial["events"]
    assert isinstance(events, list)
    lines = [e["line"] for e in events if e["type"] == "log"]
    (said,) = [line for line in lines if line.startswith("chaos host: ")]
    (cwd,) = [e["cwd"] for e in events if e["type"] == "system_start"]
    return said.removeprefix("chaos host: "), cwd


def test_trials_run_on_remote_workers_and_the_controller_writes_once(
    pytester: pytest.Pytester, run_tmp: Path, hosts: list[Host]
) -> None:
    write_project(pytester.path)
    alpha, beta = hosts

    result = pytester.runpytest_subprocess(
        "-d",
        "--tx",
        alpha.tx,
        "--tx",
        beta.tx,
        "--chaos-repeat",
        "4",
        "--chaos-out=out",
        "--chaos-seed",
        "7",
    )

    result.assert_outcomes(passed=4)
    assert result.ret == pytest.ExitCode.OK
    journal = json.loads((pytester.path / "out" / "journal.json").read_text(encoding="utf-8"))
    (scenario,) = journal["scenarios"]
    assert scenario["digest"] == content_digest(SCENARIO)
    trials = scenario["trials"]
    assert [t["index"] for t in trials] == [0, 1, 2, 3]
    assert all(t["verdict"] == "pass" for t in trials)
    assert [t["seed"] for t in trials] == [trial_seed(7, NAME, i) for i in range(4)]
    ran = [where_it_ran(t) for t in trials]
    assert {said for said, _ in ran} == {"alpha", "beta"}  # both hosts ran trials
    for said, cwd in ran:  # ...each in its own environment: its TMPDIR, its name
        host = alpha if said == "alpha" else beta
        assert Path(cwd).is_relative_to(host.tmp), (said, cwd)
    # Reports are written once, by the controller; the hosts keep no report and no trial.
    assert sorted(p.name for p in (pytester.path / "out").iterdir()) == [
        "journal.json",
        "junit.xml",
        "report.html",
        "summary.md",
    ]
    for host in hosts:
        assert [p for p in host.root.rglob("*") if p.name in ("journal.json", "out")] == []
        assert sorted(p.name for p in host.tmp.glob("chaos-*")) == []


@pytest.mark.parametrize(
    "hosts", [(SCENARIO, SCENARIO.replace("within: 2s", "within: 3s"))], indirect=True
)
def test_hosts_with_different_scenario_files_are_not_pooled(
    pytester: pytest.Pytester, run_tmp: Path, hosts: list[Host]
) -> None:
    write_project(pytester.path)
    alpha, beta = hosts

    result = pytester.runpytest_subprocess(
        "-d", "--tx", alpha.tx, "--tx", beta.tx, "--chaos-repeat", "2", "--chaos-out=out"
    )

    result.assert_outcomes(passed=2)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    text = result.stdout.str()
    assert "no chaos report written: the workers ran different versions of a scenario" in text
    assert f"(socket=127.0.0.1:{alpha.port})" in text
    assert f"(socket=127.0.0.1:{beta.port})" in text
    assert "Every host needs the same scenario files" in text
    assert not (pytester.path / "out").exists()


def test_a_path_on_the_command_line_is_refused_for_remote_workers(
    pytester: pytest.Pytester,
) -> None:
    """pytest-xdist would fail deep inside (``arg scenarios not relative to an rsync
    root``); nothing is contacted: the port is never connected to."""
    write_project(pytester.path)

    result = pytester.runpytest_subprocess(
        "-d", "--tx", "socket=127.0.0.1:9//chdir=suite", "scenarios"
    )

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: 'scenarios' is a path here, and pytest-xdist cannot give it to remote"
            " workers (*socket=127.0.0.1:9//chdir=suite) without --rsyncdir, which is"
            " deprecated: name the scenario folders in the chaos_paths ini option*"
        ]
    )


def test_dist_each_keeps_one_result_per_trial_and_says_so(
    pytester: pytest.Pytester, run_tmp: Path
) -> None:
    """``--dist each`` runs every trial on every worker: the journal keeps one of each (the
    last to arrive, as a rerun replaces in ``chaos report``), and the summary says so."""
    write_project(pytester.path)

    result = pytester.runpytest_subprocess(
        "--dist", "each", "--tx", "2*popen", "--chaos-out=out", "--chaos-seed", "3"
    )

    result.assert_outcomes(passed=2)  # one trial, on each of two workers
    assert result.ret == pytest.ExitCode.OK
    journal = json.loads((pytester.path / "out" / "journal.json").read_text(encoding="utf-8"))
    (scenario,) = journal["scenarios"]
    assert [t["index"] for t in scenario["trials"]] == [0]
    assert journal["summary"]["trials"] == 1
    result.stdout.fnmatch_lines(
        [
            "*= chaos =*",
            "warning: 1 trial(s) of gw? (popen) are also in gw? (popen), which replaces them"
            " (it started, or came, later): remote-backend #1",
        ]
    )
