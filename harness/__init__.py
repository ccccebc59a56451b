"""chaos: run a managed-process system under real faults and judge its recovery.

The front door. Everything a user's code needs is importable from here::

    from harness import SystemSession, Verdict, load_scenario

- the Python API: ``SystemSession`` (a live system driven by code), ``run_trial`` (one
  trial as ``chaos run`` runs it), ``load_scenario`` / ``load_all`` /
  ``scenario_from_mapping`` (validated scenarios), ``read_journal``;
- results: ``Verdict``, ``InvariantResult``, ``TrialResult``, ``ScenarioResult``,
  ``RunResult``;
- the timeline's events (``ProcessStart``, ``FaultAction``...) and their enum fields
  (``FaultPhase``, ``Effect``, ``TeardownStep``, ``NoteLevel``);
- the errors, by who is at fault (``ScenarioError``, ``SystemUnderTestError``...).

Names are loaded on first use, so ``import harness`` (which the pytest plugin does in
every pytest run) costs almost nothing.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from harness.spec.version import __version__

if TYPE_CHECKING:
    from harness.errors import (
        ChaosError,
        HostError,
        JournalError,
        NotReadyError,
        ScenarioError,
        SystemUnderTestError,
        UsageError,
    )
    from harness.observe.events import (
        Event,
        FaultAction,
        FaultPhase,
        HarnessNote,
        LogLine,
        Lookup,
        NoteLevel,
        NotReady,
        Phase,
        PortListen,
        ProbeResult,
        ProcessExit,
        ProcessStart,
        Ready,
        Request,
        SystemStart,
        Teardown,
        TeardownStep,
    )
    from harness.results.journal import read as read_journal
    from harness.results.model import RunResult, ScenarioResult, TrialResult
    from harness.run.catalog import load_all, load_scenario, scenario_from_mapping
    from harness.run.session import SystemSession
    from harness.run.trial import run_trial
    from harness.scenario.model import Scenario
    from harness.spec.effects import Effect
    from harness.spec.verdict import InvariantResult, Verdict

_EXPORTS: dict[str, tuple[str, str]] = {
    # the Python API
    "SystemSession": ("harness.run.session", "SystemSession"),
    "run_trial": ("harness.run.trial", "run_trial"),
    "load_scenario": ("harness.run.catalog", "load_scenario"),
    "load_all": ("harness.run.catalog", "load_all"),
    "scenario_from_mapping": ("harness.run.catalog", "scenario_from_mapping"),
    "read_journal": ("harness.results.journal", "read"),
    "Scenario": ("harness.scenario.model", "Scenario"),
    # results
    "Verdict": ("harness.spec.verdict", "Verdict"),
    "InvariantResult": ("harness.spec.verdict", "InvariantResult"),
    "TrialResult": ("harness.results.model", "TrialResult"),
    "ScenarioResult": ("harness.results.model", "ScenarioResult"),
    "RunResult": ("harness.results.model", "RunResult"),
    # events
    **{
        name: ("harness.observe.events", name)
        for name in (
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
        )
    },
    "Effect": ("harness.spec.effects", "Effect"),
    # errors
    **{
        name: ("harness.errors", name)
        for name in (
            "ChaosError",
            "ScenarioError",
            "UsageError",
            "SystemUnderTestError",
            "NotReadyError",
            "HostError",
            "JournalError",
        )
    },
}

__all__ = [
    "ChaosError",
    "Effect",
    "Event",
    "FaultAction",
    "FaultPhase",
    "HarnessNote",
    "HostError",
    "InvariantResult",
    "JournalError",
    "LogLine",
    "Lookup",
    "NotReady",
    "NotReadyError",
    "NoteLevel",
    "Phase",
    "PortListen",
    "ProbeResult",
    "ProcessExit",
    "ProcessStart",
    "Ready",
    "Request",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "ScenarioResult",
    "SystemSession",
    "SystemStart",
    "SystemUnderTestError",
    "Teardown",
    "TeardownStep",
    "TrialResult",
    "UsageError",
    "Verdict",
    "__version__",
    "load_all",
    "load_scenario",
    "read_journal",
    "run_trial",
    "scenario_from_mapping",
]


def __getattr__(name: str) -> object:
    """Import an exported name on first use (PEP 562) and keep it."""
    try:
        module, attribute = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'harness' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
