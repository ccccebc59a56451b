"""Benchmark: what sharding costs, beside one run of the same suite, on this machine.

Run: ``.venv/bin/python bench/sharding.py [PATHS...] [--seed 1] [--repeat N]`` (about
five times the suite's ``--jobs 1`` time: 2.5 min for ``scenarios/`` on 2 cores).

Every configuration runs the whole suite, one command after another, with the same seed:

1. ``chaos run PATHS --jobs 1`` and ``--jobs 2``: the references;
2. ``--shard 1/1``; ``--shard 1/2``, ``2/2``; ``--shard 1/4`` ... ``4/4``: each shard a
   separate ``chaos`` process, run in turn, as N machines would run them at once.

For each it prints the wall time of every command, their sum (the machine-time a sharded
suite costs) and the sum's difference from one ``--jobs 1`` run; beside it, the trials' own
time (from the journals) and the rest, "outside" the trials: what each process pays
(interpreter start, imports, loading the scenarios, the reap of what a killed run left,
the journal and reports). On a busy machine the trials' time moves from run to run; the
outside time is the overhead proper. (``--jobs 2`` runs trials side by side, so its
outside time is not shown.) The longest shard is what N machines would wait for, beside
the ideal ``jobs-1 time / N``. Each shard set is merged with ``chaos report`` (timed; its
counts checked against the ``--jobs 1`` run's). Last, a shard that owns no trial (K = N >
the trials), three times: the cost of one more shard process by itself.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
CHAOS = str(Path(sys.executable).with_name("chaos"))


def chaos(*args: str) -> tuple[float, int]:
    """Run one ``chaos`` command; its wall time and exit code."""
    start = time.monotonic()
    done = subprocess.run([CHAOS, *args], capture_output=True, text=True, check=False)
    took = time.monotonic() - start
    if done.returncode not in (0, 1):  # 1: an invariant failed (a verdict, not a problem)
        raise SystemExit(f"chaos {' '.join(args)} -> {done.returncode}\n{done.stderr}")
    return took, done.returncode


def counts(journal: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(journal.read_text(encoding="utf-8"))
    summary: dict[str, Any] = data["summary"]
    return summary


def trial_seconds(journal: Path) -> float:
    """The time the journal's trials took, each from its start to its end."""
    data = json.loads(journal.read_text(encoding="utf-8"))
    return float(sum(t["duration_s"] for s in data["scenarios"] for t in s["trials"]))


@dataclass
class Row:
    label: str
    times: list[float]
    """Wall time of each command."""
    trials: float
    """The trials' own time, summed over the commands' journals."""
    merge: float | None = None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", default=[str(REPO / "scenarios")])
    parser.add_argument("--seed", default="1")
    parser.add_argument("--repeat", default=None, help="trials per scenario (default: each's)")
    args = parser.parse_args()
    common = [*args.paths, "--seed", args.seed, "--quiet"]
    if args.repeat:
        common += ["--repeat", args.repeat]

    with tempfile.TemporaryDirectory(prefix="bench-sharding-") as folder:
        out = Path(folder)
        rows: list[Row] = []
        for jobs in ("1", "2"):
            where = out / f"jobs{jobs}"
            took, _ = chaos("run", *common, "--jobs", jobs, "--out", str(where))
            rows.append(Row(f"--jobs {jobs}", [took], trial_seconds(where / "journal.json")))
        reference = counts(out / "jobs1" / "journal.json")
        for count in (1, 2, 4):
            times = []
            journals = []
            for k in range(1, count + 1):
                where = out / f"shards{count}" / f"{k}"
                took, _ = chaos("run", *common, "--shard", f"{k}/{count}", "--out", str(where))
                times.append(took)
                journals.append(where / "journal.json")
            merged = out / f"shards{count}" / "merged.json"
            merge_took, _ = chaos("report", *map(str, journals), "--json", str(merged))
            got = counts(merged)
            if got != reference:
                raise SystemExit(f"{count} shards merged to {got}, one run gave {reference}")
            spent = sum(trial_seconds(j) for j in journals)
            rows.append(Row(f"--shard K/{count}", times, spent, merge_took))
        # A shard that owns no trial: what one more shard process costs by itself.
        empty = []
        beyond = str(reference["trials"] + reference["skipped"] + 1)
        for round_ in range(3):
            where = out / f"empty{round_}"
            took, _ = chaos("run", *common, "--shard", f"{beyond}/{beyond}", "--out", str(where))
            empty.append(took)

    one = rows[0].times[0]
    print(
        f"suite: {' '.join(args.paths)}  (seed {args.seed}; {reference['trials']} trials, "
        f"{reference['skipped']} scenario(s) skipped)"
    )
    print(
        f"{'configuration':<15} {'commands (s)':<28} {'sum':>6} {'vs jobs 1':>9} "
        f"{'trials':>7} {'outside':>8} {'longest':>8} {'ideal':>6} {'merge':>6}"
    )
    for row in rows:
        total = sum(row.times)
        sharded = row.label.startswith("--shard")
        each = " + ".join(f"{t:.1f}" for t in row.times)
        ideal = f"{one / len(row.times):6.1f}" if sharded else " " * 6
        merge = f"{row.merge:6.2f}" if row.merge is not None else ""
        outside = None if row.label == "--jobs 2" else total - row.trials
        shown = f"{outside:8.1f}" if outside is not None else "       -"
        print(
            f"{row.label:<15} {each:<28} {total:6.1f} {total - one:+8.1f}s {row.trials:7.1f} "
            f"{shown} {max(row.times):8.1f} {ideal} {merge}"
        )
    print(
        f"an empty shard (start, load, plan, journal and reports; no trial): "
        f"{statistics.median(empty):.2f} s (median of {', '.join(f'{t:.2f}' for t in empty)})"
    )


if __name__ == "__main__":
    main()
