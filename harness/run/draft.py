"""``chaos init``'s scenario: a commented starting point written from a ``Survey``, pure.

Roles: the root, then one per distinct kind of child (the program it runs: a Python
module or script, else its executable; a child forked without exec is named by
``forked_from`` its parent's role), each with the count seen alive; every role regex is
escaped and checked to match only its own kind among what was seen. Readiness: the port
the system listened on (made ``{port}`` when the command names it), else its last output
line, and the role counts; an HTTP workload when that port answers HTTP; a SIGKILL per
child role, one after the other; ``alive`` for the root and ``recovers``/``restarts`` per
child role, ``no_orphans``, with bounds several times what was seen. Every string is
written as a JSON string (a YAML double-quoted scalar): nothing a system prints or runs
can break the file or be read as a template.
"""

from __future__ import annotations

import json
import math
import os
import re
import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from harness.run.survey import Seen, Survey
from harness.scenario.templates import escape

__all__ = ["Kind", "draft", "kinds_of", "program_of"]

_INTERPRETERS = re.compile(r"^(python[\d.]*|pypy[\d.]*|node|ruby|perl|php|bash|sh|dash)$")
_PYTHONS = re.compile(r"^python3?$")
_IMPORTED = re.compile(r"(?:^|[;\s])(?:from|import)\s+([A-Za-z_][\w.]*)")
_ROLE_NAME = re.compile(r"[^a-z0-9_]+")
_Add = Callable[[str], None]


@dataclass(frozen=True)
class Kind:
    """One role to write: its name, how it is matched, the processes seen of it."""

    name: str
    processes: tuple[Seen, ...]
    regex: str | None = None
    forked_from: str | None = None
    ambiguous: bool = False

    @property
    def alive(self) -> int:
        """How many were running when the watch ended (not gone on their own)."""
        return sum(1 for p in self.processes if not p.ended_alone)

    @property
    def first_t(self) -> float:
        return min(p.started for p in self.processes)


def program_of(argv: Sequence[str]) -> tuple[str, str]:
    """(role name, regex text) for a command line: ``python -m a.b.worker`` → ``worker``,
    ``a\\.b\\.worker``; ``python x/serve.py`` → ``serve``, ``serve\\.py``; ``python -c
    "from a.spawn import main"`` → ``spawn``, ``a\\.spawn``; else its exe."""
    if not argv:
        return "process", ""
    exe = os.path.basename(argv[0])
    if _INTERPRETERS.match(exe):
        args = list(argv[1:])
        while args:
            arg = args.pop(0)
            if arg == "-m" and args:
                module = args[0]
                return _name(module.rsplit(".", 1)[-1]), re.escape(module)
            if arg == "-c":
                # ``python -c "from multiprocessing.spawn import spawn_main; ..."``: named by
                # the first module its code imports (a spawn worker, a resource tracker)
                found = _IMPORTED.search(args[0]) if args else None
                if found:
                    module = found.group(1)
                    return _name(module.rsplit(".", 1)[-1]), re.escape(module)
                break
            if not arg.startswith("-"):
                script = os.path.basename(arg)
                return _name(os.path.splitext(script)[0]), re.escape(script)
    return _name(exe), re.escape(exe)


def _name(text: str) -> str:
    return _ROLE_NAME.sub("_", text.lower()).strip("_") or "process"


def kinds_of(survey: Survey) -> tuple[Kind | None, list[Kind]]:
    """The root's kind and the children's, in the order first seen."""
    root = next((p for p in survey.processes if p.root), None)
    if root is None:
        return None, []
    root_name, _ = program_of(root.cmdline)
    role_of: dict[int, str] = {root.pid: root_name}
    groups: dict[tuple[str, str], list[Seen]] = {}
    labels: dict[tuple[str, str], tuple[str, str | None, str | None]] = {}
    taken = {root_name}
    for proc in sorted(survey.processes, key=lambda p: p.started):
        if proc.root:
            continue
        parent_role = role_of.get(proc.ppid, "")
        if proc.forked and parent_role:
            key = ("forked", parent_role)
            base = "worker" if proc.ppid == root.pid else f"{parent_role}_worker"
            label: tuple[str, str | None, str | None] = (base, None, parent_role)
        else:
            base, program = program_of(proc.cmdline)
            key = ("exec", program)
            label = (base, program, None)
        if key not in labels:
            name = _unique(label[0], taken)
            taken.add(name)
            labels[key] = (name, label[1], label[2])
        groups.setdefault(key, []).append(proc)
        role_of[proc.pid] = labels[key][0]
    kinds = []
    for key, procs in groups.items():
        name, regex, forked_from = labels[key]
        others = [p.cmdline for k, ps in groups.items() if k != key for p in ps]
        kinds.append(
            Kind(
                name=name,
                processes=tuple(procs),
                regex=regex,
                forked_from=forked_from,
                ambiguous=regex is not None and _matches_any(regex, others),
            )
        )
    return Kind(name=root_name, processes=(root,)), kinds


def _unique(name: str, taken: set[str]) -> str:
    if name not in taken:
        return name
    number = 2
    while f"{name}_{number}" in taken:
        number += 1
    return f"{name}_{number}"


def _matches_any(regex: str, cmdlines: Sequence[Sequence[str]]) -> bool:
    pattern = re.compile(regex)
    return any(pattern.search(" ".join(argv)) for argv in cmdlines)


# --------------------------------------------------------------------------- writing


def _q(text: str) -> str:
    """A YAML double-quoted scalar (JSON's escapes are YAML's)."""
    return json.dumps(text)


def _secs(seconds: float) -> str:
    """Rounded up to a readable bound: ``2s``, ``1.5s``."""
    if seconds >= 10:
        return f"{math.ceil(seconds)}s"
    return f"{math.ceil(seconds * 2) / 2:g}s"


@dataclass(frozen=True)
class _Port:
    number: int
    ref: str  # "{port}" when the command names it, else the number
    in_command: bool


def _main_port(survey: Survey, root_pid: int) -> _Port | None:
    ports = sorted(survey.ports, key=lambda e: (e.pid != root_pid, e.t))
    if not ports:
        return None
    number = ports[0].port
    word = re.compile(rf"(?<!\d){number}(?!\d)")
    in_command = any(word.search(arg) for arg in survey.command[1:])
    return _Port(number, "{port}" if in_command else str(number), in_command)


def _command(survey: Survey, port: _Port | None) -> list[str]:
    out = []
    for index, arg in enumerate(survey.command):
        text = escape(arg)
        if index == 0 and _PYTHONS.match(arg):
            text = "{python}"
        elif index > 0 and port is not None and port.in_command:
            text = re.sub(rf"(?<!\d){port.number}(?!\d)", "{port}", text)
        out.append(text)
    return out


def _log_regex(line: str) -> str:
    """The line, escaped, with its numbers (pids, ports, times) as ``\\d+``."""
    cut = line.strip()[:80]
    parts = re.split(r"\d+", cut)
    return r"\d+".join(re.escape(part) for part in parts)


def draft(survey: Survey, *, name: str) -> str:
    """The scenario text (YAML with comments) for what ``survey`` saw."""
    root, kinds = kinds_of(survey)
    lines: list[str] = []
    add = lines.append
    command_text = shlex.join(survey.command)
    add(f"# Written by `chaos init` from: {_comment(command_text)}")
    add(f"# after watching it for {survey.watched_s:.1f}s. A starting point: read every line,")
    add("# then `chaos validate` this file and `chaos run` it. Ports and paths in the command")
    add("# are as given: use {port} and {run_dir} so that trials never share them.")
    if root is None:
        add("# No process was seen: the command did not start.")
    # Forked kinds first: their processes show a parent's command line, which an exec'd
    # kind's regex may match too (first match wins).
    live = sorted((k for k in kinds if k.alive > 0), key=lambda k: k.forked_from is None)
    gone = [k for k in kinds if k.alive == 0]
    port = _main_port(survey, root.processes[0].pid if root else -1)
    spawn_s = max((k.first_t - (root.first_t if root else 0.0) for k in live), default=0.0)
    listen_s = min((e.t for e in survey.ports), default=0.0)
    within = max(3.0, 5 * spawn_s)
    ready_timeout = max(10.0, 5 * max(spawn_s, listen_s))
    add(f"name: {_q(name)}")
    add("")
    add("system:")
    add(f"  command: [{', '.join(_q(a) for a in _command(survey, port))}]")
    if survey.root_exited:
        add(f"  # It exited on its own (code {survey.root_code}) within the watch: judged as such.")
        add(f"  expect_exit: {{within: {_secs(max(5.0, 3 * survey.watched_s))}}}")
    else:
        _ready(add, survey, port, live, ready_timeout)
    add("")
    add("roles:")
    if root is not None:
        add(f"  {_q(root.name)}: {{root: true}}")
    for kind in live:
        _role(add, kind)
    for kind in gone:
        shown = _comment(" ".join(kind.processes[0].cmdline))[:100]
        add(f"  # short-lived, not a role: {len(kind.processes)} x {shown}")
    if survey.root_exited:
        _exit_invariants(add, survey)
        return "\n".join(lines) + "\n"
    http = survey.http.get(port.number) if port is not None else None
    if port is not None and http is not None and 200 <= http[1] < 300:
        add("")
        add(
            f"# {port.number} answered GET {_comment(http[0])} with {http[1]}:"
            " traffic during the trial"
        )
        add("workload:")
        url = f"http://127.0.0.1:{port.ref}{escape(http[0])}"
        add(f"  - {{name: http, http: {{url: {_q(url)}}}, rate: 20/s}}")
    gap = within + 1.0
    at = [1.0 + i * gap for i in range(len(live))]
    if live:
        add("")
        add("# One SIGKILL per child role, each given time to recover before the next.")
        add("faults:")
        for kind, t in zip(live, at, strict=True):
            add(f"  - {{at: {_secs(t)}, kill: {{role: {_q(kind.name)}, signal: SIGKILL}}}}")
    duration = (at[-1] if at else 1.0) + within + 1.0
    add("")
    add(f"duration: {_secs(duration)}")
    add(f"timeout: {_secs(ready_timeout + duration + 2 * within + 15)}")
    add("")
    add("invariants:")
    if root is not None:
        add(f"  - alive: {{role: {_q(root.name)}}}   # the root outlives every child's death")
    for kind in live:
        add(
            f"  - recovers: {{role: {_q(kind.name)}, within: {_secs(within)}}}"
            f"   # assumes a killed {kind.name} is started again"
        )
        add(f"  - restarts: {{role: {_q(kind.name)}, per_fault: true}}   # once per kill")
    _no_orphans(add, survey)
    return "\n".join(lines) + "\n"


def _ready(
    add: _Add, survey: Survey, port: _Port | None, live: Sequence[Kind], timeout: float
) -> None:
    counts = ", ".join(f"{_q(k.name)}: {k.alive}" for k in live)
    add("  ready:")
    if port is not None:
        where = "" if port.in_command else " (a fixed port: trials cannot run in parallel)"
        add(f"    tcp: {{port: {_q(port.ref)}}}   # it listened on {port.number}{where}")
    elif survey.lines:
        add(f"    log: {_q(_log_regex(survey.lines[-1]))}   # its last line at start-up")
    if counts:
        add(f"    roles: {{{counts}}}   # every child up, as seen")
    add(f"    timeout: {_secs(timeout)}")


def _role(add: _Add, kind: Kind) -> None:
    count = f", count: {kind.alive}"
    if kind.forked_from is not None:
        add(
            f"  {_q(kind.name)}: {{forked_from: {_q(kind.forked_from)}{count}}}"
            "   # forked, never exec'd"
        )
        return
    add(f"  {_q(kind.name)}: {{cmdline: {_q(kind.regex or '')}{count}}}")
    if kind.ambiguous:
        add("    # this regex also matches another kind seen: make it more specific")


def _exit_invariants(add: _Add, survey: Survey) -> None:
    add("")
    add("invariants:")
    code = survey.root_code
    if code is None:
        add("  - exit: {code: nonzero}   # it was ended by a signal: say what it should do")
    else:
        add(f"  - exit: {{code: {code}}}   # as seen")
    _no_orphans(add, survey)


def _no_orphans(add: _Add, survey: Survey) -> None:
    root = next((p for p in survey.processes if p.root), None)
    if root is None or root.exit_t is None:
        return
    children = [p for p in survey.processes if not p.root]
    if any(p.killed_by_teardown for p in children):
        add("  # - no_orphans: {within: 2s}   # teardown had to SIGKILL children it left")
        return
    late = max((p.exit_t - root.exit_t for p in children if p.exit_t is not None), default=0)
    add(f"  - no_orphans: {{within: {_secs(max(1.0, 3 * late))}}}   # its children end with it")


def _comment(text: str) -> str:
    """Text made safe in a YAML comment: one line, no control characters."""
    return "".join(ch if ch.isprintable() else "?" for ch in text)
