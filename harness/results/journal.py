"""The JSON journal (``chaos-journal/1``): write atomically, read back, validate.

The journal is the contract between a run and everything after it: reports, ``compare``,
re-judging. It is rewritten after every finished trial through a temp file and
``os.replace``, so a killed run leaves a complete journal of the trials it finished.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.errors import JournalError
from harness.observe.events import event_from_dict, event_to_dict
from harness.results.files import write_atomic
from harness.results.model import HostUse, RunResult, ScenarioResult, Source, TrialResult
from harness.spec.verdict import InvariantResult, Verdict

SCHEMA = "chaos-journal/1"


# --------------------------------------------------------------------------- to JSON


def _invariant_to_dict(result: InvariantResult) -> dict[str, Any]:
    return {
        "kind": result.kind,
        "verdict": str(result.verdict),
        "detail": result.detail,
        "expected": result.expected,
        "observed": result.observed,
        "metrics": result.metrics,
        "evidence": result.evidence,
        "spec": result.spec,
    }


def _trial_to_dict(trial: TrialResult) -> dict[str, Any]:
    return {
        "index": trial.index,
        "verdict": str(trial.verdict),
        "duration_s": round(trial.duration_s, 6),
        "seed": trial.seed,
        "vars": trial.vars,
        "error": trial.error,
        "output_tail": trial.output_tail,
        "invariants": [_invariant_to_dict(i) for i in trial.invariants],
        "metrics": trial.metrics,
        "events": [event_to_dict(e) for e in trial.events],
        "schedule": trial.schedule,
    }


def _harness_to_dict(run: RunResult) -> dict[str, Any]:
    out: dict[str, Any] = {"version": run.harness_version, "argv": run.argv, "seed": run.seed}
    if run.host is not None:
        out["containment"] = {"mode": run.host.containment, "detail": run.host.containment_detail}
        out["process_events"] = {
            "source": run.host.process_events,
            "detail": run.host.process_events_detail,
        }
        out["leftovers"] = list(run.host.leftovers)
    return out


def _host_from_dict(harness: dict[str, Any]) -> HostUse | None:
    """Journals before containment was recorded have none of it: None."""
    held = harness.get("containment")
    if not isinstance(held, dict):
        return None
    seen = harness.get("process_events") or {}
    return HostUse(
        containment=str(held.get("mode", "")),
        containment_detail=str(held.get("detail", "")),
        process_events=str(seen.get("source", "")),
        process_events_detail=str(seen.get("detail", "")),
        leftovers=[str(line) for line in harness.get("leftovers", [])],
    )


def run_to_dict(run: RunResult) -> dict[str, Any]:
    """The journal document for ``run``."""
    return {
        "schema": SCHEMA,
        "started": run.started,
        "finished": run.finished,
        "harness": _harness_to_dict(run),
        "plan": {
            "shard": run.shard,
            "scenarios": [{"name": name, "trials": n} for name, n in run.plan.items()],
        },
        "merged_from": [
            {
                "journal": m.journal,
                "started": m.started,
                "shard": m.shard,
                "seed": m.seed,
                "trials": m.trials,
            }
            for m in run.merged_from
        ],
        "scenarios": [
            {
                "name": s.name,
                "file": s.file,
                "digest": s.digest,
                "tags": s.tags,
                "description": s.description,
                "verdict": str(s.verdict),
                "outcome": str(s.outcome),
                "expected_failure": s.expected_failure,
                "skipped": s.skipped,
                "trials": [_trial_to_dict(t) for t in s.trials],
            }
            for s in run.scenarios
        ],
        "summary": run.summary(),
    }


def to_text(run: RunResult) -> str:
    """The journal of ``run`` as text (one-space indent; values JSON lacks as strings)."""
    return json.dumps(run_to_dict(run), indent=1, default=str)


def write(run: RunResult, path: Path) -> None:
    """Write atomically: a reader sees the old journal or the new one, never half (with
    the umask's mode, like every report)."""
    write_atomic(path, to_text(run))


# --------------------------------------------------------------------------- from JSON


def _invariant_from_dict(data: dict[str, Any]) -> InvariantResult:
    return InvariantResult(
        kind=data["kind"],
        verdict=Verdict(data["verdict"]),
        detail=data.get("detail", ""),
        expected=data.get("expected"),
        observed=data.get("observed"),
        metrics=data.get("metrics", {}),
        evidence=data.get("evidence", []),
        spec=data.get("spec", {}),
    )


def _trial_from_dict(data: dict[str, Any]) -> TrialResult:
    return TrialResult(
        index=data["index"],
        verdict=Verdict(data["verdict"]),
        duration_s=data.get("duration_s", 0.0),
        invariants=[_invariant_from_dict(i) for i in data.get("invariants", [])],
        metrics=data.get("metrics", {}),
        events=[event_from_dict(e) for e in data.get("events", [])],
        error=data.get("error"),
        output_tail=data.get("output_tail", []),
        seed=data.get("seed"),
        vars=data.get("vars", {}),
        schedule=data.get("schedule"),
    )


def run_from_dict(data: dict[str, Any]) -> RunResult:
    """Rebuild a ``RunResult``; raises ``JournalError`` for anything that is not ours."""
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        found = data.get("schema") if isinstance(data, dict) else type(data).__name__
        raise JournalError(f"not a {SCHEMA} journal (schema: {found!r})")
    try:
        harness = data.get("harness", {})
        plan = data.get("plan") or {}
        return RunResult(
            started=data["started"],
            finished=data.get("finished"),
            harness_version=harness.get("version", ""),
            argv=harness.get("argv", []),
            seed=harness.get("seed"),
            plan={p["name"]: int(p["trials"]) for p in plan.get("scenarios", [])},
            shard=plan.get("shard"),
            merged_from=[
                Source(
                    journal=m["journal"],
                    started=m.get("started", ""),
                    shard=m.get("shard"),
                    seed=m.get("seed"),
                    trials=m.get("trials", 0),
                )
                for m in data.get("merged_from", [])
            ],
            host=_host_from_dict(harness),
            scenarios=[
                ScenarioResult(
                    name=s["name"],
                    file=s.get("file", ""),
                    tags=s.get("tags", []),
                    description=s.get("description", ""),
                    skipped=s.get("skipped"),
                    digest=s.get("digest"),
                    expected_failure=s.get("expected_failure"),
                    trials=[_trial_from_dict(t) for t in s.get("trials", [])],
                )
                for s in data["scenarios"]
            ],
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise JournalError(f"malformed journal: {exc}") from exc


def read_data(path: Path) -> Any:
    """A journal file's JSON as written (``trend`` also reads its ``harness`` section);
    ``JournalError`` says what is wrong with it."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise JournalError(f"cannot read {path}: {exc.strerror}") from exc
    except json.JSONDecodeError as exc:
        raise JournalError(f"{path}:{exc.lineno}: not valid JSON: {exc.msg}") from exc


def read(path: Path) -> RunResult:
    """Load a journal file; ``JournalError`` says what is wrong with it."""
    return run_from_dict(read_data(path))
