"""Benchmark: recovery of the same worker under the testbed, supervisord, circus and a floor.

Run: ``python -m bench.recovery [--kills 20] [--fleet 50] [--rounds 3] [--write-readme]``
(from the repository, with ``pip install -e ".[bench]"``; about 10 minutes at the
defaults). One run measures, for every contender, with the harness (``bench.measure``):

1. one worker SIGKILLed ``--kills`` times → its replacement ready; the contenders take
   turns kill by kill (all running at once, one worker each), so a change in the machine's
   load hits them alike;
2. ``--fleet`` workers SIGKILLed at once → all ready again, ``--rounds`` times;
3. idle CPU with those ``--fleet`` children, ``--idle`` seconds;
4. orphans 2 s after the supervisor itself is SIGKILLed;
5. a crash loop: every start fails (the port is taken) for ``--crash`` seconds; then the
   port is freed and the bench waits ``--crash`` seconds more for a ready worker.

It prints the tables, writes them and the raw figures to ``--out`` (``reports/bench``), and
with ``--write-readme`` puts them into README.md and bench/README.md (between the
``<!-- bench:start -->`` / ``<!-- bench:end -->`` markers).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime
import json
import os
import random
import runpy
import socket
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path

from bench import table
from bench.contenders import CONTENDERS, REPO, Contender, Setup
from bench.measure import (
    BenchError,
    Kill,
    Live,
    Watcher,
    crash_loop,
    idle,
    judged,
    kill_all,
    kill_one,
    orphans,
    pause,
)

SINGLE = ("floor", "testbed", "supervisord", "supervisord-startsecs0", "circus", "circus-0.1")


def free_ports(count: int, taken: set[int]) -> tuple[int, ...]:
    """Ports free on 127.0.0.1 now, none handed out twice in this run."""
    found: list[int] = []
    while len(found) < count:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port not in taken:
            taken.add(port)
            found.append(port)
    return tuple(found)


LOAD_PEAK = [0.0]


def say(text: str) -> None:
    """Progress on stderr; every step also notes the machine's load (the run reports it)."""
    LOAD_PEAK[0] = max(LOAD_PEAK[0], os.getloadavg()[0])
    print(text, file=sys.stderr, flush=True)


def load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


class Bench:
    """One run: the folder, the ports, the seeded pacing, and the results as they come."""

    def __init__(self, args: argparse.Namespace, folder: Path) -> None:
        self.args = args
        self.folder = folder
        self.rng = random.Random(args.seed)
        self.ports: set[int] = set()
        chosen = [c for c in CONTENDERS if not args.only or c.key in args.only]
        self.contenders: list[Contender] = []
        self.results = table.Results(
            date=datetime.date.today().isoformat(),
            cores=os.cpu_count() or 0,
            load_before=load(),
            load_after="",
            load_peak=os.getloadavg()[0],
            minutes=0.0,
            options={
                "kills": args.kills,
                "fleet": args.fleet,
                "rounds": args.rounds,
                "idle": args.idle,
                "crash": args.crash,
                "seed": args.seed,
            },
            labels={c.key: c.label for c in chosen},
        )
        for c in chosen:
            reason = c.missing()
            if reason is None:
                self.contenders.append(c)
            else:
                self.problem(c, f"skipped: {reason}")

    def problem(self, c: Contender, text: str) -> None:
        say(f"  {c.key}: {text}")
        self.results.problems.setdefault(c.key, []).append(text)

    def place(self, c: Contender, what: str) -> Path:
        """The contender's own folder for one part of the run (configs, logs, data)."""
        return self.folder / f"{c.key}-{what.split()[0]}"

    # ------------------------------------------------------------------ 1-4. kills in turn

    def turns(
        self,
        what: str,
        setups: dict[str, Setup],
        rounds: int,
        kill: Callable[[Live, Watcher | None], Kill],
    ) -> Iterator[tuple[Contender, Live, list[Kill]]]:
        """Start every contender of ``setups`` at once; kill each in turn (a shuffled order
        every round), so a change in the machine's load hits them alike; then yield each
        live contender with its kills, judged by the harness."""
        by_key = {c.key: c for c in self.contenders}
        with contextlib.ExitStack() as stack:
            running: dict[str, tuple[Live, Watcher | None]] = {}
            for key, setup in setups.items():
                c = by_key[key]
                try:
                    live = stack.enter_context(Live(c, self.place(c, what), setup))
                except Exception as exc:
                    tail = " | ".join(getattr(exc, "output_tail", [])[-5:])
                    self.problem(c, f"{what}: did not start: {exc}" + (f" ({tail})" * bool(tail)))
                    continue
                watcher = Watcher() if setup.ports else None
                if watcher is not None:
                    stack.callback(watcher.close)
                running[key] = (live, watcher)
            kills: dict[str, list[Kill]] = {key: [] for key in running}
            up = dict.fromkeys(running, time.monotonic())
            broken: set[str] = set()
            for n in range(rounds):
                order = self.order([key for key in running if key not in broken])
                for key in order:
                    live, watcher = running[key]
                    pause(self.rng, by_key[key], up[key])
                    t_kill = time.monotonic()
                    try:
                        kills[key].append(kill(live, watcher))
                    except BenchError as exc:  # no more kills; this one is judged as it is
                        self.problem(by_key[key], f"{what} #{n + 1}: {exc}; no more kills")
                        kills[key].append(Kill(t_kill=t_kill))
                        broken.add(key)
                    up[key] = time.monotonic()
                say(f"  {what}: round {n + 1}/{rounds} done")
            for key, (live, _) in running.items():
                lost = len(live.view.lost_output)
                unseen = sum(k.unseen for k in kills[key])
                if lost or unseen:
                    self.problem(
                        by_key[key],
                        f"{what}: {unseen} replacement(s) answered but their ready line never"
                        f" came; the supervisor warned {lost} time(s) that it lost a worker's"
                        " output ('fd N added twice'); those kills are left out†",
                    )
                try:
                    yield by_key[key], live, judged(live, kills[key])
                except BenchError as exc:
                    self.problem(by_key[key], f"{what}: {exc}")

    def order(self, keys: list[str]) -> list[str]:
        """A shuffled order for one round, the testbed and its floor side by side (either
        first): the ratio the targets are about is then taken under the same load. Its
        floor is ``floor-modules`` when that runs (the 50-children rows), else ``floor``."""
        partner = "floor-modules" if "floor-modules" in keys else "floor"
        paired = {"testbed", partner}
        pair = [k for k in keys if k in paired]
        rest = [k for k in keys if k not in paired]
        self.rng.shuffle(pair)
        self.rng.shuffle(rest)
        at = self.rng.randrange(len(rest) + 1)
        return rest[:at] + pair + rest[at:]

    def one_kill(self) -> None:
        keys = [c.key for c in self.contenders if c.key in SINGLE]
        say(f"one kill → ready: {len(keys)} contenders in turn, {self.args.kills} kills each")
        setups = {key: Setup(ports=free_ports(1, self.ports)) for key in keys}
        for c, _, kills in self.turns("one kill", setups, self.args.kills, kill_one):
            self.results.single[c.key] = kills

    def fleet(self) -> None:
        """Rows 2-4: every contender with ``--fleet`` children, all alive at once (idle
        while another is measured); all killed at once in turns; then, one contender at a
        time, idle CPU and orphans."""
        n = self.args.fleet
        setups = {
            c.key: Setup(modules=n)
            if c.family == "testbed" or c.modules
            else Setup(ports=free_ports(n, self.ports))
            for c in self.contenders
        }
        say(f"{n} children each: {self.args.rounds} rounds of all killed at once, in turns")
        for c, live, kills in self.turns(f"{n} at once", setups, self.args.rounds, kill_all):
            self.results.fleet[c.key] = kills
            say(f"{c.key}: idle CPU over {self.args.idle:g} s, then orphans")
            try:
                self.results.idle[c.key] = idle(live, self.args.idle)
                self.results.orphans[c.key] = orphans(live)
            except BenchError as exc:
                self.problem(c, f"{n} children: {exc}")

    # ------------------------------------------------------------------ 5. crash loop

    def crash(self, c: Contender) -> None:
        say(f"{c.key}: crash loop, {self.args.crash:g} s")
        setup = Setup(ports=free_ports(1, self.ports), crash_loop=True)
        try:
            with Live(c, self.place(c, "crash"), setup) as live:
                self.results.crash[c.key] = crash_loop(live, self.args.crash, self.args.crash)
        except Exception as exc:
            self.problem(c, f"crash loop: {exc}")

    def run(self) -> table.Results:
        started = time.monotonic()
        self.one_kill()
        self.fleet()
        for c in self.contenders:
            if not c.modules:
                self.crash(c)
        self.results.load_after = load()
        self.results.load_peak = max(LOAD_PEAK[0], os.getloadavg()[0])
        self.results.minutes = (time.monotonic() - started) / 60
        return self.results


def raw(results: table.Results) -> str:
    """Every figure of the run, as JSON (``dataclasses.asdict``)."""
    return json.dumps(dataclasses.asdict(results), indent=1)


def write_readmes(results: table.Results) -> None:
    """The ``bench`` blocks of README.md and bench/README.md, as docs/update_readme.py does."""
    replace_block = runpy.run_path(str(REPO / "docs" / "update_readme.py"))["replace_block"]
    for path, block in (
        (REPO / "README.md", table.readme_block(results)),
        (REPO / "bench" / "README.md", table.bench_block(results)),
    ):
        path.write_text(replace_block(path.read_text(), "bench", block))
        say(f"wrote the bench block of {path.relative_to(REPO)}")


@contextlib.contextmanager
def workspace() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="chaos-bench-") as tmp:
        yield Path(tmp)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.recovery", description=__doc__)
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.add_argument("--kills", type=int, default=20, help="one-kill series length (20)")
    p.add_argument("--fleet", type=int, default=50, help="children for rows 2-4 (50)")
    p.add_argument("--rounds", type=int, default=3, help="all-at-once kills (3)")
    p.add_argument("--idle", type=float, default=10.0, help="idle CPU window, s (10)")
    p.add_argument("--crash", type=float, default=10.0, help="crash-loop window, s (10)")
    p.add_argument("--seed", type=int, default=1, help="pacing between kills (1)")
    p.add_argument("--only", type=lambda s: set(s.split(",")), default=None, help="keys")
    p.add_argument("--out", type=Path, default=REPO / "reports" / "bench")
    p.add_argument("--write-readme", action="store_true", help="update both READMEs")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    with workspace() as folder:
        try:
            results = Bench(args, folder).run()
        except KeyboardInterrupt:
            say("interrupted: every system started was torn down")
            return 130
        except Exception:
            traceback.print_exc()
            return 3
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "recovery.json").write_text(raw(results))
    (args.out / "recovery.md").write_text(table.bench_block(results))
    (args.out / "recovery-readme.md").write_text(table.readme_block(results))
    print(table.bench_block(results))
    if args.write_readme:
        write_readmes(results)
    return 1 if results.problems and not results.single else 0


if __name__ == "__main__":
    raise SystemExit(main())
