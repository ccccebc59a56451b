"""Checks across the typed scenario: names that must refer to something, and templates.

Pydantic validates each field alone; these checks need the whole scenario: a fault's
``role: backend`` must name a role the scenario defines, an invariant's ``workload`` a
workload, every ``{name}`` in a template something that will have a value. Each returns
``Problem``s located by YAML path, so the loader can give the line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit

from pydantic import BaseModel

from harness.scenario.kinds import KindLookup, Kinds
from harness.scenario.messages import suggest
from harness.scenario.model import Scenario
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
from harness.spec.loopback import is_loopback


def name_problems(scenario: Scenario) -> list[Problem]:
    """The scenario's name ends up in folder names and reports: no path separators."""
    name = scenario.name
    if not name.strip() or name != name.strip() or "/" in name or "\0" in name:
        return [Problem(("name",), f"expected a name without '/' or edge spaces, got {name!r}")]
    return []


def var_problems(scenario: Scenario) -> list[Problem]:
    """Var names must be template names and must not shadow ``{port}``, ``{python}``..."""
    problems = []
    for key in scenario.vars:
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


def duplicate_problems(scenario: Scenario) -> list[Problem]:
    """Workloads are referred to by name: two with one name would be ambiguous."""
    problems = []
    first: dict[str, int] = {}
    for index, spec in enumerate(scenario.workload):
        if spec.name in first:
            problems.append(
                Problem(
                    ("workload", index, "name"),
                    f"duplicate workload name {spec.name!r} (also workload[{first[spec.name]}])",
                )
            )
        first.setdefault(spec.name, index)
    return problems


def reference_problems(scenario: Scenario, kinds: Kinds) -> list[Problem]:
    """Every role, workload and probe a fault or invariant names must exist."""
    known = {
        "role": sorted(scenario.roles),
        "workload": [w.name for w in scenario.workload]
        + [name for f in scenario.faults if isinstance(name := getattr(f.spec, "name", None), str)],
        "probe": sorted(scenario.probes),
        "proxy": sorted(scenario.proxies),
        "disk": sorted(scenario.disks),
    }
    problems: list[Problem] = []
    for fault in scenario.faults:
        path: Path_ = ("faults", fault.index)
        if fault.on_spawn is not None:
            problems += _refer((*path, "on_spawn", "role"), "role", fault.on_spawn.role, known)
        problems += _kind_refs(kinds.faults, fault.kind, fault.spec, (*path, fault.kind), known)
    for invariant in scenario.invariants:
        path = ("invariants", invariant.index, invariant.kind)
        problems += _kind_refs(kinds.invariants, invariant.kind, invariant.spec, path, known)
    for name, probe in scenario.probes.items():
        path = ("probes", name, probe.kind)
        problems += _kind_refs(kinds.probes, probe.kind, probe.spec, path, known)
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
    return [Problem(path, f"unknown {what} {name!r}{hint}; known: {', '.join(names)}")]


# --------------------------------------------------------------------------- templates


def template_problems(scenario: Scenario) -> list[Problem]:
    """Every template string must parse and use only names that will have a value."""
    groups = ready_groups(scenario.system.ready.log)
    problems: list[Problem] = []
    for path, text, extras in template_strings(scenario):
        try:
            names = names_in(text)
        except TemplateError as exc:
            problems.append(Problem(path, str(exc)))
            continue
        for name in sorted(names):
            message = _undefined(name, path, scenario, groups, extras)
            if message:
                problems.append(Problem(path, message))
    return problems


def _undefined(
    name: str, path: Path_, scenario: Scenario, groups: set[str], extras: frozenset[str]
) -> str | None:
    head, _, rest = name.partition(".")
    if name in BUILTINS or name in extras or (head == "port" and rest):
        return None
    if name in scenario.vars or (head == "vars" and rest in scenario.vars):
        return None
    if head == "proxy" and rest in scenario.proxies:
        return _proxy_misuse(name, path)
    if head == "disk" and rest in scenario.disks:
        return None
    if head == "ready" and rest in groups:
        if path[0] == "system":
            return (
                f"{{{name}}} is only known once the system is ready, "
                "so the system's own settings cannot use it"
            )
        return None
    hint = suggest(name, sorted(_known(scenario, groups, extras)), _braced)
    if head == "ready":
        source = ", ".join(sorted(groups)) or "none"
        return (
            f"undefined template name {{{name}}}{hint}; ready.* names are the named groups "
            f"of system.ready.log (here: {source})"
        )
    known = ", ".join(sorted(_known(scenario, groups, extras)))
    return f"undefined template name {{{name}}}{hint}; declare it under vars (known: {known})"


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


def _known(scenario: Scenario, groups: set[str], extras: Iterable[str]) -> set[str]:
    names = set(BUILTINS) | {"port.NAME"} | set(extras)
    names |= set(scenario.vars) | {f"vars.{key}" for key in scenario.vars}
    names |= {f"ready.{group}" for group in groups}
    names |= {f"proxy.{name}" for name in scenario.proxies}
    names |= {f"disk.{name}" for name in scenario.disks}
    return names


# --------------------------------------------------------------------------- traffic targets


_URL_FIELDS = {"url", "lookup"}
_TEMPLATE = re.compile(r"\{[^{}]*\}")


def url_problems(scenario: Scenario) -> list[Problem]:
    """Traffic only ever goes to this machine: every URL is http:// to a loopback host.

    Refused at load time, before anything starts, rather than failing a trial later. A host
    written as a template is checked when the request is made.
    """
    problems: list[Problem] = []
    for path, text, _ in template_strings(scenario):
        if not path or path[-1] not in _URL_FIELDS:
            continue
        literal = _TEMPLATE.sub("0", text.replace("{{", "").replace("}}", ""))
        parts = urlsplit(literal)
        if parts.scheme != "http":
            problems.append(Problem(path, f"expected an http:// URL, got {text!r}"))
            continue
        host = urlsplit(_TEMPLATE.sub("", text)).hostname or ""
        if "{" not in (urlsplit(text).netloc.rsplit(":", 1)[0]) and not is_loopback(host):
            problems.append(
                Problem(
                    path,
                    f"{host!r} is not a loopback address: chaos only sends traffic to this "
                    "machine (127.0.0.0/8, ::1, localhost)",
                )
            )
    return problems
