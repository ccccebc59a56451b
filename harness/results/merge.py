"""Merge journals (shards, machines, reruns) into one, as one run of every trial would write.

The unit is the trial, named by its scenario and index: ``--shard`` gives every trial to
exactly one shard, and ``trial_seed`` gives it the same seed in any of them, so the merged
journal of N shards holds what one run would have, in the same order (the plans'), with
the same counts and verdicts; its recovery statistics are pooled over every trial, because
every report computes them from the trials it is given.

Rules, in order:

1. **One version per scenario.** Each journal records the digest of every scenario file
   (``harness.run.fingerprint``) and each trial its vars. Two journals that disagree on
   either for one scenario are two experiments: ``MixedVersions`` names the scenario, what
   differs and which journal holds which, unless ``allow_mixed`` (then the merged scenario
   has no digest: its version is unknown). A journal without digests (older) is not
   compared.
2. **One trial per (scenario, index): a rerun replaces.** The same trial in two journals
   (a shard run again, a journal given twice) is kept from the journal that started last;
   on the same start, from the one given last. Every replacement is reported. To pool more
   trials, run more (``--repeat``) rather than the same indices again: equal indices with
   equal seeds replay the same fault schedule, they are not new samples.
3. **Skips yield to trials.** A scenario skipped by one journal (a host without its tool)
   and run by another is merged as run; it is skipped only if no journal ran it.
4. **Nothing missing goes unsaid.** Trials that the plans name but no journal holds (a
   shard's journal not given, a shard cut short) are listed, as are absent shards.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from harness.errors import JournalError
from harness.results.model import RunResult, ScenarioResult, Source, TrialResult

_UNKNOWN_TIME = _dt.datetime.min.replace(tzinfo=_dt.UTC)


@dataclass(frozen=True)
class Conflict:
    """One scenario whose journals disagree on ``what``: each value, with its journals."""

    scenario: str
    what: str
    """``file content`` (the digests differ) or ``vars``."""
    seen: tuple[tuple[str, tuple[str, ...]], ...]

    def __str__(self) -> str:
        parts = [f"{_short(value)} in {', '.join(journals)}" for value, journals in self.seen]
        return f"scenario {self.scenario!r}: {self.what} differs: " + "; ".join(parts)


def _short(value: str) -> str:
    """A digest cut to 12 hex digits (enough to tell versions apart in a message)."""
    return value[:19] + "…" if value.startswith("sha256:") and len(value) > 19 else value


class MixedVersions(JournalError):
    """The journals hold different versions of a scenario (``--allow-mixed`` merges them)."""

    def __init__(self, conflicts: Sequence[Conflict]) -> None:
        self.conflicts = list(conflicts)
        super().__init__(
            "different versions of a scenario: " + " | ".join(str(c) for c in self.conflicts)
        )


@dataclass(frozen=True)
class Replaced:
    """Trials of ``dropped`` that ``kept`` holds too, and for which ``kept`` wins."""

    kept: str
    dropped: str
    trials: tuple[tuple[str, int], ...]


@dataclass
class Merged:
    """The merged run, and what a user must hear about how it was made."""

    run: RunResult
    replaced: list[Replaced] = field(default_factory=list)
    missing: dict[str, list[int]] = field(default_factory=dict)
    """Scenario → planned trial indices that no journal holds."""
    absent_shards: list[str] = field(default_factory=list)
    """``K/N`` of shards no journal was given for (when some of N were)."""
    skip_overruled: list[tuple[str, str, str]] = field(default_factory=list)
    """(scenario, journal, reason): skipped there, run by another journal."""
    plan_differs: list[str] = field(default_factory=list)
    """Scenarios whose planned trials differ between journals (the largest is kept)."""
    conflicts: list[Conflict] = field(default_factory=list)
    """Version conflicts merged anyway (``allow_mixed``)."""

    def notes(self) -> list[str]:
        """One sentence per thing worth a warning, for the CLI to print."""
        found: list[str] = []
        for conflict in self.conflicts:
            found.append(f"merged anyway (--allow-mixed): {conflict}")
        for item in self.replaced:
            shown = ", ".join(f"{name} #{index + 1}" for name, index in item.trials[:5])
            more = f" and {len(item.trials) - 5} more" if len(item.trials) > 5 else ""
            found.append(
                f"{len(item.trials)} trial(s) of {item.dropped} are also in {item.kept}, which"
                f" replaces them (it started, or came, later): {shown}{more}"
            )
        for name, journal, reason in self.skip_overruled:
            found.append(f"{name}: skipped in {journal} ({reason}); its trials come from others")
        for name in self.plan_differs:
            found.append(f"{name}: the journals plan different numbers of trials")
        if self.absent_shards:
            found.append("no journal of shard(s) " + ", ".join(self.absent_shards))
        if self.missing:
            total = sum(len(v) for v in self.missing.values())
            planned = sum(self.run.plan.values())
            shown = "; ".join(
                f"{name} #{', #'.join(str(i + 1) for i in indices[:8])}"
                + (" ..." if len(indices) > 8 else "")
                for name, indices in self.missing.items()
            )
            found.append(
                f"{total} of {planned} planned trial(s) are in no journal (a shard not given,"
                f" or cut short): {shown}"
            )
        return found


# --------------------------------------------------------------------------- versions


def _vars_text(trial: TrialResult) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in sorted(trial.vars.items())) or "(none)"


def conflicts(journals: Sequence[tuple[str, RunResult]]) -> list[Conflict]:
    """Every scenario that two journals hold in different versions (digest or vars)."""
    digests: dict[str, dict[str, list[str]]] = {}
    variables: dict[str, dict[str, list[str]]] = {}
    for label, run in journals:
        for s in run.scenarios:
            if s.digest is not None:
                digests.setdefault(s.name, {}).setdefault(s.digest, []).append(label)
            for value in dict.fromkeys(_vars_text(t) for t in s.trials):
                variables.setdefault(s.name, {}).setdefault(value, []).append(label)
    found: list[Conflict] = []
    for what, table in (("file content", digests), ("vars", variables)):
        for name, seen in table.items():
            if len(seen) > 1:
                pairs = tuple((value, tuple(dict.fromkeys(j))) for value, j in seen.items())
                found.append(Conflict(name, what, pairs))
    return found


# --------------------------------------------------------------------------- the merge


def _started(run: RunResult) -> _dt.datetime:
    try:
        moment = _dt.datetime.fromisoformat(run.started)
    except ValueError:
        return _UNKNOWN_TIME
    return moment if moment.tzinfo else moment.replace(tzinfo=_dt.UTC)


def _common(values: Sequence[str]) -> str:
    distinct = list(dict.fromkeys(v for v in values if v))
    return ", ".join(distinct)


def _sources(label: str, run: RunResult) -> list[Source]:
    if run.merged_from:  # a merge of merges names the journals the trials came from
        return list(run.merged_from)
    trials = sum(len(s.trials) for s in run.scenarios)
    return [Source(label, run.started, run.shard, run.seed, trials)]


def merge(journals: Sequence[tuple[str, RunResult]], *, allow_mixed: bool = False) -> Merged:
    """Merge ``(label, run)`` pairs (label: the journal's path, for messages and the
    provenance); raises ``MixedVersions`` (see the module's rules)."""
    if not journals:
        raise ValueError("nothing to merge")
    found = conflicts(journals)
    if found and not allow_mixed:
        raise MixedVersions(found)
    order = sorted(range(len(journals)), key=lambda i: (_started(journals[i][1]), i))
    rank = {position: r for r, position in enumerate(order)}

    kept: dict[str, dict[int, tuple[int, TrialResult]]] = {}
    replaced: dict[tuple[int, int], list[tuple[str, int]]] = {}
    meta: dict[str, tuple[int, ScenarioResult]] = {}
    skips: dict[str, list[tuple[int, str]]] = {}
    plan: dict[str, int] = {}
    plan_differs: list[str] = []
    for i, (_, run) in enumerate(journals):
        for name, planned in run.plan.items():
            if name in plan and plan[name] != planned and name not in plan_differs:
                plan_differs.append(name)
            plan[name] = max(plan.get(name, 0), planned)
        for s in run.scenarios:
            if s.name not in meta or rank[i] > meta[s.name][0]:
                meta[s.name] = (rank[i], s)
            if s.skipped is not None:
                skips.setdefault(s.name, []).append((i, s.skipped))
            mine = kept.setdefault(s.name, {})
            for trial in s.trials:
                if trial.index in mine:
                    other = mine[trial.index][0]
                    winner, loser = (i, other) if rank[i] >= rank[other] else (other, i)
                    replaced.setdefault((winner, loser), []).append((s.name, trial.index))
                    if winner != i:
                        continue
                mine[trial.index] = (i, trial)

    names = list(plan) + [n for n in meta if n not in plan]
    scenarios: list[ScenarioResult] = []
    skip_overruled: list[tuple[str, str, str]] = []
    for name in names:
        if name not in meta:
            continue  # planned, but in no journal: reported as missing below
        template = meta[name][1]
        trials = [t for _, (_, t) in sorted(kept.get(name, {}).items())]
        skipped: str | None = None
        if trials:
            skip_overruled += [(name, journals[i][0], why) for i, why in skips.get(name, [])]
        elif name in skips:
            skipped = max(skips[name], key=lambda item: rank[item[0]])[1]
        mixed = any(c.scenario == name and c.what == "file content" for c in found)
        scenarios.append(
            replace(
                template,
                trials=trials,
                skipped=skipped,
                digest=None if mixed else template.digest,
            )
        )

    by_name = {s.name: s for s in scenarios}
    missing: dict[str, list[int]] = {}
    for name, count in plan.items():
        have = by_name.get(name)
        if have is not None and have.skipped is not None:
            continue
        present = {t.index for t in have.trials} if have else set()
        absent = [i for i in range(count) if i not in present]
        if absent:
            missing[name] = absent

    runs = [run for _, run in journals]
    sources = [src for label, run in journals for src in _sources(label, run)]
    finished = [r.finished for r in runs]
    seeds = {r.seed for r in runs}
    merged = RunResult(
        started=min(runs, key=_started).started,
        finished=max(f for f in finished if f) if all(finished) else None,
        harness_version=_common([r.harness_version for r in runs]),
        argv=[],
        seed=seeds.pop() if len(seeds) == 1 else None,
        scenarios=scenarios,
        plan=plan,
        merged_from=sources,
    )
    return Merged(
        run=merged,
        replaced=[
            Replaced(journals[w][0], journals[d][0], tuple(keys))
            for (w, d), keys in replaced.items()
        ],
        missing=missing,
        absent_shards=_absent_shards(sources),
        skip_overruled=skip_overruled,
        plan_differs=plan_differs,
        conflicts=found,
    )


def _absent_shards(sources: Sequence[Source]) -> list[str]:
    """``K/N`` for each shard of an N that some journal is a shard of, but none is K."""
    given: dict[int, set[int]] = {}
    for source in sources:
        if source.shard:
            index, _, count = source.shard.partition("/")
            if index.isdigit() and count.isdigit():
                given.setdefault(int(count), set()).add(int(index))
    return [
        f"{k}/{n}"
        for n, present in sorted(given.items())
        for k in range(1, n + 1)
        if k not in present
    ]
