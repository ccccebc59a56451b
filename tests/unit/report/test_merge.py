"""Merging journals: shards back into the whole run, versions refused, reruns replacing."""

from __future__ import annotations

import dataclasses
import json
from importlib.resources import files
from pathlib import Path

import jsonschema
import pytest

from harness.report.excerpt import figures, step_figures
from harness.results import journal
from harness.results.merge import MixedVersions, merge
from harness.results.model import RunResult, ScenarioResult, TrialResult
from harness.run.shards import Work, partition
from harness.spec.verdict import Verdict

from .fixtures import realistic_run

DIGEST_A = "sha256:" + "a" * 64
DIGEST_B = "sha256:" + "b" * 64


def whole_run() -> RunResult:
    """The realistic run as a run of this version writes it: digests, plan, vars."""
    run = realistic_run()
    run.scenarios = [
        dataclasses.replace(
            s,
            digest=DIGEST_A,
            trials=[dataclasses.replace(t, vars={"bugs": ""}) for t in s.trials],
        )
        for s in run.scenarios
    ]
    run.plan = {s.name: max(len(s.trials), 1) for s in run.scenarios}
    return run


def split(run: RunResult, count: int) -> list[RunResult]:
    """The journals ``count`` shards of ``run`` write (each with only its trials)."""
    work = [Work(name, trials, 1.0) for name, trials in run.plan.items()]
    parts = partition(work, count)
    by_name = {s.name: s for s in run.scenarios}
    shards = []
    for k, part in enumerate(parts, start=1):
        mine: dict[str, list[int]] = {}
        for trial in part:
            mine.setdefault(trial.scenario, []).append(trial.index)
        scenarios = [
            dataclasses.replace(
                by_name[name],
                trials=[t for t in by_name[name].trials if t.index in indices],
            )
            for name, indices in mine.items()
        ]
        shards.append(
            dataclasses.replace(
                run,
                started=f"2025-01-02T03:0{k}:00+00:00",
                scenarios=scenarios,
                shard=f"{k}/{count}",
            )
        )
    return shards


def trials_of(run: RunResult) -> list[tuple[str, str, list[tuple[int, str, int | None]]]]:
    return [
        (s.name, str(s.verdict), [(t.index, str(t.verdict), t.seed) for t in s.trials])
        for s in run.scenarios
    ]


# --------------------------------------------------------------------------- shards


@pytest.mark.parametrize("count", [1, 2, 3, 6, 9])
def test_shards_merge_back_into_the_whole_run(count: int) -> None:
    whole = whole_run()
    shards = split(whole, count)

    merged = merge([(f"shard-{i}/journal.json", s) for i, s in enumerate(shards, 1)])

    assert merged.run.summary() == whole.summary()
    assert trials_of(merged.run) == trials_of(whole)
    assert [s.skipped for s in merged.run.scenarios] == [s.skipped for s in whole.scenarios]
    assert merged.run.plan == whole.plan
    assert merged.run.seed == whole.seed
    assert merged.missing == {}
    assert merged.absent_shards == []
    assert merged.notes() == []
    assert [m.shard for m in merged.run.merged_from] == [
        f"{k}/{count}" for k in range(1, count + 1)
    ]


def test_recovery_statistics_are_pooled_over_every_shard() -> None:
    whole = whole_run()

    merged = merge([(str(i), s) for i, s in enumerate(split(whole, 3))]).run

    for ours, theirs in zip(merged.scenarios, whole.scenarios, strict=True):
        assert figures(ours) == figures(theirs)
        assert step_figures(ours.trials) == step_figures(theirs.trials)


def test_a_shard_not_given_is_named_with_the_trials_it_held() -> None:
    shards = split(whole_run(), 3)

    merged = merge([("s1", shards[0]), ("s3", shards[2])])

    assert merged.absent_shards == ["2/3"]
    held = {(s.name, t.index) for s in shards[1].scenarios for t in s.trials}
    assert {(n, i) for n, found in merged.missing.items() for i in found} == held - {
        ("needs-docker", 0)  # a skipped scenario has no trials to miss
    }
    notes = merged.notes()
    assert "no journal of shard(s) 2/3" in notes
    assert any("planned trial(s) are in no journal" in n for n in notes)


def test_a_merged_journal_round_trips_and_validates(tmp_path: Path) -> None:
    merged = merge([(str(i), s) for i, s in enumerate(split(whole_run(), 2))]).run
    path = tmp_path / "merged.json"

    journal.write(merged, path)
    again = journal.read(path)

    assert again.plan == merged.plan
    assert again.merged_from == merged.merged_from
    assert [s.digest for s in again.scenarios] == [DIGEST_A] * 3
    schema = json.loads(files("harness.results").joinpath("journal.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(json.loads(path.read_text()))


def test_a_merge_of_merges_names_the_journals_the_trials_came_from() -> None:
    s1, s2, s3 = split(whole_run(), 3)
    first = merge([("s1", s1), ("s2", s2)]).run

    again = merge([("first", first), ("s3", s3)])

    assert [m.journal for m in again.run.merged_from] == ["s1", "s2", "s3"]
    assert again.run.summary() == whole_run().summary()


# --------------------------------------------------------------------------- versions


def test_different_scenario_files_are_refused_naming_the_journals() -> None:
    one, two = split(whole_run(), 2)
    two.scenarios = [dataclasses.replace(s, digest=DIGEST_B) for s in two.scenarios]

    with pytest.raises(MixedVersions) as caught:
        merge([("ci/shard-1.json", one), ("ci/shard-2.json", two)])

    text = str(caught.value)
    assert "scenario 'backend-sigkill': file content differs" in text
    assert "sha256:aaaaaaaaaaaa… in ci/shard-1.json" in text
    assert "sha256:bbbbbbbbbbbb… in ci/shard-2.json" in text


def test_allow_mixed_merges_and_says_the_version_is_unknown() -> None:
    one, two = split(whole_run(), 2)
    two.scenarios = [dataclasses.replace(s, digest=DIGEST_B) for s in two.scenarios]

    merged = merge([("a", one), ("b", two)], allow_mixed=True)

    assert merged.run.summary() == whole_run().summary()
    in_both = {s.name for s in one.scenarios} & {s.name for s in two.scenarios}
    assert in_both == {"backend-sigkill", "port-squatted"}
    assert [s.digest for s in merged.run.scenarios if s.name in in_both] == [None, None]
    assert any(n.startswith("merged anyway (--allow-mixed)") for n in merged.notes())


def test_different_vars_are_different_versions() -> None:
    one, two = split(whole_run(), 2)
    for s in two.scenarios:
        s.trials = [dataclasses.replace(t, vars={"bugs": "no-restart"}) for t in s.trials]

    with pytest.raises(MixedVersions, match=r"'backend-sigkill': vars differs: bugs=''"):
        merge([("a", one), ("b", two)])


def test_journals_without_digests_are_not_compared() -> None:
    old = realistic_run()  # written before digests and plans
    other = dataclasses.replace(realistic_run(), started="2025-01-03T00:00:00+00:00")
    other.scenarios = [dataclasses.replace(s, digest=DIGEST_B) for s in other.scenarios]

    merged = merge([("old", old), ("new", other)])

    assert merged.run.summary() == realistic_run().summary()


# --------------------------------------------------------------------------- reruns


def _one(name: str, started: str, verdict: Verdict, *, index: int = 0) -> RunResult:
    return RunResult(
        started=started,
        plan={name: 2},
        scenarios=[
            ScenarioResult(
                name=name,
                file=f"{name}.yaml",
                trials=[TrialResult(index=index, verdict=verdict, duration_s=1.0)],
            )
        ],
    )


def test_a_rerun_replaces_the_same_trial_whatever_the_order_given() -> None:
    first = _one("s", "2025-01-01T10:00:00+00:00", Verdict.ERROR)
    rerun = _one("s", "2025-01-01T11:00:00+00:00", Verdict.PASS)

    for journals in ([("first", first), ("rerun", rerun)], [("rerun", rerun), ("first", first)]):
        merged = merge(journals)
        (scenario,) = merged.run.scenarios
        assert [(t.index, t.verdict) for t in scenario.trials] == [(0, Verdict.PASS)]
        assert [(r.kept, r.dropped, r.trials) for r in merged.replaced] == [
            ("rerun", "first", (("s", 0),))
        ]
        assert "1 trial(s) of first are also in rerun" in merged.notes()[0]


def test_on_the_same_start_the_journal_given_last_wins() -> None:
    a = _one("s", "2025-01-01T10:00:00+00:00", Verdict.FAIL)
    b = _one("s", "2025-01-01T10:00:00+00:00", Verdict.PASS)

    assert merge([("a", a), ("b", b)]).run.scenarios[0].trials[0].verdict is Verdict.PASS
    assert merge([("b", b), ("a", a)]).run.scenarios[0].trials[0].verdict is Verdict.FAIL


def test_a_skip_yields_to_trials_another_host_ran() -> None:
    here = RunResult(
        started="2025-01-01T10:00:00+00:00",
        plan={"s": 2},
        scenarios=[ScenarioResult(name="s", file="s.yaml", skipped="requires docker")],
    )
    there = _one("s", "2025-01-01T09:00:00+00:00", Verdict.PASS, index=1)

    merged = merge([("here", here), ("there", there)])

    (scenario,) = merged.run.scenarios
    assert scenario.skipped is None
    assert scenario.verdict is Verdict.PASS
    assert merged.skip_overruled == [("s", "here", "requires docker")]
    assert merged.missing == {"s": [0]}

    alone = merge([("here", here), ("again", here)]).run.scenarios[0]
    assert alone.skipped == "requires docker"
    assert alone.verdict is Verdict.SKIP
