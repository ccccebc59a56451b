"""The run's figures as Markdown: the README's table, and bench/README.md's with the checks.

Pure: a function of ``Results``. Ratios are medians over the floor's medians in the same
run; "times the floor" for the testbed's 50 children is over the floor of the same 50 modules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bench.measure import CrashLoop, Idle, Kill, Orphans, median, p95

FLOOR, FLOOR_MODULES, TESTBED = "floor", "floor-modules", "testbed"

X = "\N{MULTIPLICATION SIGN}"
MINUS = "\N{MINUS SIGN}"

TARGETS = {"ratio": 1.3, "p95_s": 0.050, "faster": 30.0, "idle_pct": 1.0}


@dataclass
class Results:
    """Everything one run measured, by contender key."""

    date: str
    cores: int
    load_before: str
    load_after: str
    load_peak: float
    """The highest 1-minute load average seen at any step of the run."""
    minutes: float
    options: dict[str, Any]
    labels: dict[str, str]
    single: dict[str, list[Kill]] = field(default_factory=dict)
    fleet: dict[str, list[Kill]] = field(default_factory=dict)
    idle: dict[str, Idle] = field(default_factory=dict)
    orphans: dict[str, Orphans] = field(default_factory=dict)
    crash: dict[str, CrashLoop] = field(default_factory=dict)
    problems: dict[str, list[str]] = field(default_factory=dict)


def ready(kills: list[Kill]) -> list[float]:
    """The harness's kill → ready, for the kills it attributed to the replacement's own
    line (see ``Kill.attributed``)."""
    return [k.ready_s for k in kills if k.ready_s is not None and k.attributed]


def ms(seconds: float) -> str:
    if seconds >= 1.0:
        return f"{seconds:.2f} s"
    return f"{seconds * 1000:.1f} ms" if seconds < 0.1 else f"{seconds * 1000:.0f} ms"


def ratio(value: float, base: float) -> str:
    return f"{value / base:.2f}{X}" if value / base < 10 else f"{value / base:.0f}{X}"


def _missed(kills: list[Kill]) -> str:
    missed = len(kills) - len(ready(kills))
    return f"; {missed} of {len(kills)} left out†" if missed else ""


def watcher_only(kills: list[Kill]) -> str:
    """A series the harness could not judge at all: what the watcher saw instead."""
    answered = [k.answered_s for k in kills if k.answered_s is not None]
    if not answered:
        return "—"
    return f"— (all left out†; watcher: {ms(median(answered))})"


def one_kill_cell(r: Results, key: str) -> tuple[str, str]:
    values = ready(r.single.get(key, []))
    if not values:
        return watcher_only(r.single.get(key, [])), "—"
    text = f"{ms(median(values))} ({ms(p95(values))}){_missed(r.single[key])}"
    base = ready(r.single.get(FLOOR, []))
    return text, ratio(median(values), median(base)) if base else "—"


def fleet_cell(r: Results, key: str) -> tuple[str, str]:
    values = ready(r.fleet.get(key, []))
    if not values:
        return watcher_only(r.fleet.get(key, [])), "—"
    floor = FLOOR_MODULES if key in (TESTBED, FLOOR_MODULES) else FLOOR
    base = ready(r.fleet.get(floor, []))
    text = f"{ms(median(values))}{_missed(r.fleet[key])}"
    return text, ratio(median(values), median(base)) if base else "—"


def idle_cell(r: Results, key: str) -> str:
    idle = r.idle.get(key)
    if idle is None:
        return "—"
    return (
        f"{idle.total_pct:.2f} % ({idle.supervisor_pct:.2f} + {idle.children_pct:.2f}"
        f" for {idle.children})"
    )


def orphans_cell(r: Results, key: str) -> str:
    o = r.orphans.get(key)
    if o is None:
        return "—"
    text = f"{o.left} of {o.of}"
    if o.harness_count is not None and o.harness_count != o.left:
        text += f" (no_orphans counts {o.harness_count})"
    if o.after_teardown:
        text += f" ({o.after_teardown} outlived the teardown)"
    return text


def crash_cell(r: Results, key: str) -> str:
    c = r.crash.get(key)
    if c is None:
        return "—"
    last = f", last at {c.last_start_s:.1f} s" if c.last_start_s is not None else ""
    back = f"back in {ms(c.back_s)}" if c.back_s is not None else f"not back in {c.back_wait_s:g} s"
    gave_up = f"; gave up at {c.gave_up_s:.1f} s" if c.gave_up_s is not None else ""
    starts = f"{c.starts} start{'s' * (c.starts != 1)}"
    return f"{starts}{last}{gave_up}; {c.cpu_pct:.0f} % CPU; {back}"


def keys(r: Results) -> list[str]:
    return [k for k in r.labels if k in r.single or k in r.fleet or k in r.crash]


def main_table(r: Results) -> list[str]:
    fleet_n = r.options.get("fleet", 50)
    lines = [
        f"| supervisor (same worker) | one kill → ready, median (p95) | {X} floor |"
        f" {fleet_n} killed at once → all ready | {X} floor |"
        f" idle CPU, {fleet_n} children (supervisor + children) |"
        f" orphans 2 s after it is SIGKILLed |"
        f" crash loop: port taken {r.options.get('crash', 10):g} s, then freed |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for key in keys(r):
        one, one_x = one_kill_cell(r, key)
        fleet, fleet_x = fleet_cell(r, key)
        cells = [r.labels[key], one, one_x, fleet, fleet_x]
        cells += [idle_cell(r, key), orphans_cell(r, key), crash_cell(r, key)]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def targets(r: Results) -> str:
    """The issue's targets for the testbed, met or not, in this run."""
    parts = []
    tb, base = ready(r.single.get(TESTBED, [])), ready(r.single.get(FLOOR, []))
    sd = ready(r.single.get("supervisord", []))
    if tb and base:
        x = median(tb) / median(base)
        parts.append(f"median {x:.2f}{X} the floor (≤ {TARGETS['ratio']:g}: {mark(x <= 1.3)})")
        q = p95(tb)
        parts.append(f"p95 {ms(q)} (≤ 50 ms: {mark(q <= TARGETS['p95_s'])})")
    if tb and sd:
        f = median(sd) / median(tb)
        parts.append(f"{f:.0f}{X} faster than default supervisord (≥ 30{X}: {mark(f >= 30)})")
    idle = r.idle.get(TESTBED)
    if idle is not None:
        ok = idle.total_pct <= TARGETS["idle_pct"]
        parts.append(f"idle {idle.total_pct:.2f} % of a core (≤ 1 %: {mark(ok)})")
    return "Targets for the testbed, this run: " + "; ".join(parts) + "."


def mark(ok: bool) -> str:
    return "met" if ok else "**missed**"


def provenance(r: Results) -> str:
    return (
        f"Run {r.date} on {r.cores} cores, {r.minutes:.0f} min; load average"
        f" {r.load_before} before, {r.load_after} after, 1-minute average up to"
        f" {r.load_peak:.0f} during the run"
        f" (`python -m bench.recovery {options_text(r.options)}`)."
    )


def options_text(options: dict[str, Any]) -> str:
    return " ".join(f"--{k} {v}" for k, v in options.items() if v is not None)


LEFT_OUT = (
    "† Left out of the figures: kills where the harness's ready was not the replacement's own"
    " ready line. Either the tracker first saw the new process only after it had said ready"
    " (many processes starting at once on 2 cores), so the harness ignored the line, which"
    " named no live process of the role yet, and the fault never reached ready; or the"
    " supervisor lost the worker's output, so the line never came (the watcher still saw the"
    " new process answer)."
)


def left_out(r: Results) -> list[str]:
    series = [*r.single.values(), *r.fleet.values()]
    return ["", LEFT_OUT] if any(not k.attributed for ks in series for k in ks) else []


def readme_block(r: Results) -> str:
    """The README's table: kill → ready times (never fork times), with ratios."""
    lines = main_table(r)
    lines += ["", targets(r), provenance(r), *problem_lines(r), *left_out(r)]
    return "\n".join(lines) + "\n"


def problem_lines(r: Results) -> list[str]:
    return [f"- {r.labels.get(k, k)}: {p}" for k, ps in r.problems.items() for p in ps]


# --------------------------------------------------------------------------- the checks


def spread(values: list[float]) -> str:
    if not values:
        return "—"
    return f"{ms(median(values))} [{ms(min(values))}, {ms(max(values))}]"


def signed(seconds: float) -> str:
    return f"{'+' if seconds >= 0 else MINUS}{abs(seconds) * 1000:.1f} ms"


def signed_spread(values: list[float | None]) -> str:
    found = [v for v in values if v is not None]
    if not found:
        return "—"
    return f"{signed(median(found))} [{signed(min(found))}, {signed(max(found))}]"


def phases(kills: list[Kill]) -> str:
    if not kills:
        return "— (all left out†)"

    def med(values: list[float | None]) -> str:
        found = [v for v in values if v is not None]
        return ms(median(found)) if found else "never"

    return (
        f"{med([k.died_s for k in kills])} · {med([k.spawned_s for k in kills])}"
        f" · {med([k.ready_s for k in kills])}"
    )


def same(kills: list[Kill]) -> str:
    checked = [k.same_pid for k in kills if k.same_pid is not None]
    return f"{sum(checked)} of {len(checked)}" if checked else "—"


def checks_table(r: Results) -> list[str]:
    lines = [
        "| supervisor | kills | harness: died · spawned · ready (medians) |"
        " watcher: kill → answered by the new pid |"
        f" watcher {MINUS} harness ready, per kill (median [min, max]) | same pid |"
        f" own clock (t=) {MINUS} harness ready |",
        "|---|---|---|---|---|---|---|",
    ]
    for series, rows in (("one kill", r.single), ("all at once", r.fleet)):
        for key in keys(r):
            kills = rows.get(key)
            if not kills:
                continue
            answered = [k.answered_s for k in kills if k.answered_s is not None]
            mine = [k for k in kills if k.attributed]
            cells = [
                f"{r.labels[key]}, {series}",
                f"{len(kills)}"
                + (f" ({len(kills) - len(mine)} left out†)" if mine != kills else ""),
                phases(mine),
                spread(answered),
                signed_spread([k.gap_s for k in mine]),
                same(kills),
                signed_spread([k.own_gap_s for k in mine]),
            ]
            lines.append("| " + " | ".join(cells) + " |")
    return lines


def bench_block(r: Results) -> str:
    """bench/README.md's block: the same table, then every clock beside the harness's."""
    lines = main_table(r)
    lines += ["", targets(r), provenance(r), *problem_lines(r), ""]
    lines += ["Each figure beside the clocks outside the harness, in the same run:", ""]
    lines += checks_table(r)
    lines += left_out(r)
    return "\n".join(lines) + "\n"
