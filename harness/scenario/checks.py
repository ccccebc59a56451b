"""Checks across the scenario: names that must refer to something, and templates.

Pydantic validates each field alone; these checks need the whole scenario: a fault's
``role: backend`` must name a role the scenario defines, an invariant's ``workload`` a
workload, every ``{name}`` in a template something that will have a value. They read the
scenario's ``Parts`` (``harness.scenario.parts``), so they run, on whatever validated, also
when another section did not: every problem of a file is found in one round. Each returns
``Problem``s located by YAML path, so the loader can give the line.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from pydantic import BaseModel

from harness.scenario.kinds import KindLookup, Kinds
from harness.scenario.messages import listing, suggest
from harness.scenario.model import FaultEntry
from harness.scenario.parts import Parts
from harness.scenario.source import Path_, Problem
from harness.scenario.templates import (
    BUILTINS,
    NAME,
    NAMESPACES,
    TemplateError,
    names_in,
    ready_groups,
    template_strings,
)


def strings_of(parts: Parts) -> Iterator[tuple[Path_, str, frozenset[str]]]:
    """Every template string of the parts that validated, with its path in the YAML."""
    for path, model in parts.roots():
        yield from template_strings(model, path)


def name_problems(parts: Parts) -> list[Problem]:
    """The scenario's name ends up in folder names and reports: no path separators."""
    name = parts.name
    if name is None:
        return []
    if not name.strip() or name != name.strip() or "/" in name or "\0" in name:
        return [Problem(("name",), f"expected a name without '/' or edge spaces, got {name!r}")]
    return []


def var_problems(parts: Parts) -> list[Problem]:
    """Var names must be template names and must not shadow ``{port}``, ``{python}``..."""
    problems = []
    for key in parts.variables:
        if not NAME.fullmatch(key) or "." in key:
            problems.append(
                Problem(
                    ("vars", key),
                    f"{key!r} cannot be used as {{{key}}}; use letters, digits, '_' and '-'",
                )
            )
        elif key in BUILTINS | NAMESPACES:
            problems.append(
                Problem(("vars", key), f"{key!r} is a built-in template name; choose another")
            )
    return problems


def duplicate_problems(parts: Parts) -> list[Problem]:
    """Workloads are referred to by name: two with one name would be ambiguous."""
    problems = []
    first: dict[str, int] = {}
    for index, name in parts.workload_names:
        if name in first:
            problems.append(
                Problem(
                    ("workload", index, "name"),
                    f"duplicate workload name {name!r} (also workload[{first[name]}])",
                )
            )
        first.setdefault(name, index)
    return problems


def expect_exit_problems(parts: Parts) -> list[Problem]:
    """A system expected to exit is never ready: nothing can be timed from its ``Ready``,
    and there is nothing to send traffic to."""
    system = parts.system
    if system is None or system.expect_exit is None:
        return []
    where = ("system", "expect_exit")
    problems: list[Problem] = []
    ready = {"http", "tcp", "log", "file", "roles"} & system.ready.model_fields_set
    if ready:
        problems.append(
            Problem(
                where,
                "a system expected to exit is never waited for: remove ready's"
                f" {', '.join(sorted(ready))} (judge its output with the exit invariant)",
            )
        )
    if system.daemonizes:
        problems.append(Problem(where, "not with daemonizes (its launcher exits anyway)"))
    why = "the system is expected to exit (system.expect_exit), so it is never ready"
    problems += [
        Problem(("faults", fault.index), f"{why}: only `before: start` faults can fire")
        for fault in parts.faults
        if fault.before is None
    ]
    problems += [
        Problem(("workload", index), f"{why}: there is nothing to send traffic to")
        for index, _ in parts.workloads
    ]
    return problems


def reference_problems(parts: Parts, kinds: Kinds) -> list[Problem]:
    """Every role, workload and probe a fault or invariant names must exist."""
    known = {
        "role": sorted(parts.roles),
        "workload": [name for _, name in parts.workload_names]
        + [
            name
            for f in parts.faults
            for c in f.choices
            if isinstance(name := getattr(c.spec, "name", None), str)
        ],
        "probe": sorted(parts.probe_names),
        "proxy": sorted(parts.proxy_names),
        "disk": sorted(parts.disk_names),
    }
    problems: list[Problem] = []
    for fault in parts.faults:
        path: Path_ = ("faults", fault.index)
        problems += _trigger_refs(fault, path, known)
        if fault.mix is None:
            problems += _kind_refs(kinds.faults, fault.kind, fault.spec, (*path, fault.kind), known)
        for number, choice in enumerate(fault.mix or []):
            where = (*path, "mix", number, choice.kind)
            problems += _kind_refs(kinds.faults, choice.kind, choice.spec, where, known)
    for invariant in parts.invariants:
        path = ("invariants", invariant.index, invariant.kind)
        problems += _kind_refs(kinds.invariants, invariant.kind, invariant.spec, path, known)
    for name, probe in parts.probes.items():
        path = ("probes", name, probe.kind)
        problems += _kind_refs(kinds.probes, probe.kind, probe.spec, path, known)
    for role, probe_name in parts.role_ready_probes:
        problems += _refer(("roles", role, "ready", "probe"), "probe", probe_name, known)
    for where, role in parts.role_refs:
        problems += _refer(where, "role", role, known)
    return problems


def _trigger_refs(fault: FaultEntry, path: Path_, known: dict[str, list[str]]) -> list[Problem]:
    """The role, workload or probe an event trigger waits on must exist."""
    problems: list[Problem] = []
    if fault.on_spawn is not None:
        problems += _refer((*path, "on_spawn", "role"), "role", fault.on_spawn.role, known)
    if fault.on_log is not None and fault.on_log.role is not None:
        problems += _refer((*path, "on_log", "role"), "role", fault.on_log.role, known)
    if fault.on_request is not None:
        name = fault.on_request.workload
        problems += _refer((*path, "on_request", "workload"), "workload", name, known)
    if fault.on_probe is not None:
        problems += _refer((*path, "on_probe", "probe"), "probe", fault.on_probe.probe, known)
    return problems


def _kind_refs(
    lookup: KindLookup, kind: str, spec: BaseModel, path: Path_, known: dict[str, list[str]]
) -> list[Problem]:
    if kind not in lookup:
        return []
    return _spec_refs(spec, lookup.get(kind).refs, path, known)


def _spec_refs(
    spec: BaseModel, refs: Mapping[str, str], path: Path_, known: dict[str, list[str]]
) -> list[Problem]:
    problems: list[Problem] = []
    fields = type(spec).model_fields
    for name, what in refs.items():
        if name not in fields:
            continue
        key = fields[name].alias or name
        value = getattr(spec, name)
        values = value if isinstance(value, list | tuple) else [value]
        for index, item in enumerate(values):
            if not isinstance(item, str):
                continue
            where = (*path, key, index) if values is value else (*path, key)
            problems += _refer(where, what, item, known)
    return problems


def _refer(path: Path_, what: str, name: str, known: dict[str, list[str]]) -> list[Problem]:
    names = known.get(what, [])
    if name in names:
        return []
    if not names:
        section = {
            "role": "roles",
            "workload": "workload",
            "probe": "probes",
            "proxy": "proxies",
            "disk": "disks",
        }.get(what, what)
        return [Problem(path, f"unknown {what} {name!r}: the scenario defines no {section}")]
    hint = suggest(name, names)
    return [Problem(path, f"unknown {what} {name!r}{hint}; known: {listing(names)}")]


# --------------------------------------------------------------------------- templates


def template_problems(parts: Parts) -> list[Problem]:
    """Every template string must parse and use only names that will have a value."""
    system = parts.system
    groups = ready_groups(system.ready.log) if system is not None else None
    problems: list[Problem] = []
    defined = _defined(parts)
    known = sorted(_known(defined, groups or set(), ()))
    for path, text, extras in strings_of(parts):
        try:
            names = names_in(text)
        except TemplateError as exc:
            problems.append(Problem(path, str(exc), exc.offset))
            continue
        if not parts.vars_known:
            continue  # ``vars`` itself is malformed: its error says so
        for name in sorted(names):
            message = _undefined(name, path, defined, groups, extras, known)
            if message:
                problems.append(Problem(path, message, text.find("{" + name)))
    return problems


def _defined(parts: Parts) -> frozenset[str]:
    """Every name the scenario gives a value: its vars (``X`` and ``vars.X``), its proxies'
    ports (``proxy.NAME``) and its disks' folders (``disk.NAME``)."""
    return (
        frozenset(parts.variables)
        | {f"vars.{key}" for key in parts.variables}
        | {f"proxy.{name}" for name in parts.proxy_names}
        | {f"disk.{name}" for name in parts.disk_names}
    )


def _undefined(
    name: str,
    path: Path_,
    defined: frozenset[str],
    groups: set[str] | None,
    extras: frozenset[str],
    known: list[str],
) -> str | None:
    """The message for ``{name}`` if it will have no value (``known``: every name that
    will, but a field's own extras, sorted)."""
    head, _, rest = name.partition(".")
    if head == "proxy" and name in defined:
        return _proxy_misuse(name, path)
    if name in BUILTINS or name in extras or (head == "port" and rest) or name in defined:
        return None
    if head == "ready" and groups is None:
        return None  # the readiness pattern did not validate: its own error says so
    groups = groups or set()
    if head == "ready" and rest in groups:
        if path[0] == "system":
            return (
                f"{{{name}}} is only known once the system is ready, "
                "so the system's own settings cannot use it"
            )
        return None
    if extras:
        known = sorted({*known, *extras})
    hint = suggest(name, known, _braced)
    if head == "ready":
        source = ", ".join(sorted(groups)) or "none"
        return (
            f"undefined template name {{{name}}}{hint}; ready.* names are the named groups "
            f"of system.ready.log (here: {source})"
        )
    return (
        f"undefined template name {{{name}}}{hint}; declare it under vars (known: {listing(known)})"
    )


def _proxy_misuse(name: str, path: Path_) -> str | None:
    """Readiness must reach the system itself, and a proxy cannot forward to a proxy."""
    if path[:2] == ("system", "ready"):
        return (
            f"{{{name}}} in system.ready would check the proxy, which always accepts; "
            "check the system's own port (the proxy's upstream) instead"
        )
    if path[:1] == ("proxies",):
        return f"a proxy cannot forward to another proxy ({{{name}}}): name the real port"
    return None


def _braced(name: str) -> str:
    return "{" + name + "}"


def _known(defined: frozenset[str], groups: set[str], extras: Iterable[str]) -> set[str]:
    names = set(BUILTINS) | {"port.NAME"} | set(extras) | defined
    names |= {f"ready.{group}" for group in groups}
    return names
