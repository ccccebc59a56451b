"""A tiny system for the plugin's pytester tests: a supervisor that restarts its child.

Written into pytester's folder as real Python programs, so the plugin runs real processes
and real signals exactly as it does for the testbed, in a second or two per trial. With
``mode: no-restart`` the supervisor leaves a dead child dead: the ``recovers`` invariant
must fail and say so.
"""

from __future__ import annotations

from pathlib import Path

import pytest

SUPERVISOR = """
import signal, subprocess, sys, threading

CHILD = [sys.executable, sys.argv[2]]
restart = sys.argv[1] == "restart"
stopping = threading.Event()
child = None

def stop(signum, frame):
    stopping.set()
    if child is not None:
        child.terminate()

signal.signal(signal.SIGTERM, stop)
child = subprocess.Popen(CHILD)
while not stopping.is_set():
    code = child.wait()
    if stopping.is_set():
        break
    print(f"child exited with {code}", flush=True)
    if not restart:
        print("child is not restarted", flush=True)
        stopping.wait()
        break
    child = subprocess.Popen(CHILD)
if child.poll() is None:
    child.terminate()
    child.wait()
"""

CHILD = """
import signal
print("child up", flush=True)
signal.signal(signal.SIGTERM, signal.SIG_DFL)
while True:
    signal.pause()
"""

SCENARIO = """\
name: {name}
description: the tiny supervisor restarts its child after a SIGKILL
tags: [{tags}]
timeout: 40s
vars: {{mode: {mode}}}
system:
  command: ["{{python}}", "{supervisor}", "{{mode}}", "{child}"]
  ready: {{log: 'child up', timeout: 20s}}
  stop: {{signal: SIGTERM, grace: 3s}}
roles:
  supervisor: {{root: true}}
  child: {{cmdline: 'tiny_child\\.py', count: 1}}
faults:
  - {{at: 0.3s, kill: {{role: child}}}}
duration: 1s
invariants:
  - recovers: {{role: child, within: 10s}}
  - alive: {{role: supervisor}}
"""

INI = """\
[pytest]
addopts = --strict-markers -p no:cacheprovider
filterwarnings = error
"""


def write_programs(pytester: pytest.Pytester) -> tuple[Path, Path]:
    """The supervisor and child programs, in pytester's folder."""
    supervisor = pytester.path / "tiny_supervisor.py"
    child = pytester.path / "tiny_child.py"
    supervisor.write_text(SUPERVISOR, encoding="utf-8")
    child.write_text(CHILD, encoding="utf-8")
    return supervisor, child


def scenario_text(
    pytester: pytest.Pytester, name: str, *, mode: str = "restart", tags: str = "tiny, restart"
) -> str:
    supervisor, child = write_programs(pytester)
    return SCENARIO.format(name=name, tags=tags, mode=mode, supervisor=supervisor, child=child)


def write_scenario(
    pytester: pytest.Pytester,
    name: str,
    *,
    folder: str = "scenarios",
    mode: str = "restart",
    tags: str = "tiny, restart",
) -> Path:
    """``folder/name.yaml``: the tiny system, one SIGKILL of its child, two invariants."""
    path = pytester.path / folder / f"{name}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(scenario_text(pytester, name, mode=mode, tags=tags), encoding="utf-8")
    return path


def project(pytester: pytest.Pytester) -> None:
    """One passing scenario and one that catches the no-restart bug, strict markers on."""
    pytester.makeini(INI)
    write_scenario(pytester, "tiny-restart")
    write_scenario(pytester, "tiny-broken", mode="no-restart", tags="tiny, bug")
