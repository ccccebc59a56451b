"""The front door: ``from harness import ...`` gives the public API, and costs nothing."""

from __future__ import annotations

import subprocess
import sys

import pytest

import harness
from harness.errors import ChaosError, NotReadyError, ScenarioError
from harness.observe.events import FaultAction
from harness.run.session import SystemSession
from harness.spec.verdict import Verdict

PUBLIC = {
    "__version__",
    # the Python API
    "SystemSession",
    "run_trial",
    "load_scenario",
    "load_all",
    "scenario_from_mapping",
    "read_journal",
    "Scenario",
    # results
    "Verdict",
    "InvariantResult",
    "TrialResult",
    "ScenarioResult",
    "RunResult",
    # events and their enum fields
    "Event",
    "Phase",
    "SystemStart",
    "Ready",
    "NotReady",
    "ProcessStart",
    "ProcessExit",
    "PortListen",
    "LogLine",
    "ProbeResult",
    "Request",
    "Lookup",
    "FaultAction",
    "Teardown",
    "HarnessNote",
    "FaultPhase",
    "TeardownStep",
    "NoteLevel",
    "Effect",
    # errors
    "ChaosError",
    "ScenarioError",
    "UsageError",
    "SystemUnderTestError",
    "NotReadyError",
    "HostError",
    "JournalError",
}


def test_exports_are_exactly_the_public_api() -> None:
    assert set(harness.__all__) == PUBLIC
    assert len(harness.__all__) == len(PUBLIC)
    assert sorted(dir(harness)) == sorted(PUBLIC)


def test_every_export_resolves_to_its_real_object() -> None:
    for name in harness.__all__:
        assert getattr(harness, name) is not None, name
    assert harness.SystemSession is SystemSession
    assert harness.Verdict is Verdict
    assert harness.FaultAction is FaultAction
    assert issubclass(harness.NotReadyError, ChaosError)
    assert harness.NotReadyError is NotReadyError
    assert harness.ScenarioError is ScenarioError


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_thing"):
        harness.no_such_thing  # type: ignore[attr-defined]  # noqa: B018


def test_importing_the_package_loads_nothing_heavy() -> None:
    code = (
        "import sys, harness\n"
        "heavy = sorted(m for m in sys.modules if m.startswith('harness.')"
        " and m not in ('harness.spec', 'harness.spec.version'))\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
