"""The ``faults``, ``invariants`` and ``probes`` sections: YAML items → typed entries.

A fault item is one trigger key plus one kind key whose value is that kind's options
(``{at: 1s, kill: {role: backend}}``); an invariant item is a one-key mapping
(``{recovers: {role: backend}}``); a probe is a name mapped to one kind key plus its
cadence (``status: {http: {url: ...}, every: 100ms}``). Kinds are looked up by name in the
registries the loader was given, so adding a kind changes nothing here; each kind's
``spec`` model validates its options.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar, cast

from pydantic import BaseModel, ValidationError

from harness.scenario.kinds import KindLookup
from harness.scenario.messages import describe, problems_from, suggest
from harness.scenario.model import FaultEntry, InvariantEntry, OnSpawn, ProbeEntry
from harness.scenario.source import LineMap, Path_, Problem
from harness.spec.kinds import FaultSpec, InvariantSpec
from harness.spec.units import TEMPLATES, parse_duration

TRIGGERS = ("at", "before", "on_spawn")


Entry = TypeVar("Entry", FaultEntry, InvariantEntry)


Context = Mapping[str, Any]
"""The validation context (``harness.spec.units.TEMPLATES``: the resolver of vars)."""
_NO_CONTEXT: Context = {}


def fault_entries(
    raw: Any, registry: KindLookup, lines: LineMap, context: Context = _NO_CONTEXT
) -> tuple[list[FaultEntry], list[Problem]]:
    """Every valid fault entry, and a problem for every invalid one."""
    return _entries(raw, "faults", registry, lines, _fault, context)


def invariant_entries(
    raw: Any, registry: KindLookup, lines: LineMap, context: Context = _NO_CONTEXT
) -> tuple[list[InvariantEntry], list[Problem]]:
    """Every valid invariant entry, and a problem for every invalid one."""
    return _entries(raw, "invariants", registry, lines, _invariant, context)


def _entries(
    raw: Any,
    section: str,
    registry: KindLookup,
    lines: LineMap,
    build: Callable[
        [dict[Any, Any], Path_, KindLookup, LineMap, list[Problem], Context], Entry | None
    ],
    context: Context,
) -> tuple[list[Entry], list[Problem]]:
    problems: list[Problem] = []
    if raw is None:
        return [], problems
    if not isinstance(raw, list):
        problems.append(Problem((section,), f"expected a list of {section}, got {describe(raw)}"))
        return [], problems
    entries: list[Entry] = []
    for index, item in enumerate(raw):
        path: Path_ = (section, index)
        if not isinstance(item, dict):
            example = (
                "{at: 1s, kill: {role: backend}}"
                if section == "faults"
                else "{recovers: {role: backend, within: 2s}}"
            )
            problems.append(
                Problem(path, f"expected a mapping such as {example}, got {describe(item)}")
            )
            continue
        entry = build(item, path, registry, lines, problems, context)
        if entry is not None:
            entries.append(entry)
    return entries, problems


def _fault(
    item: dict[Any, Any],
    path: Path_,
    registry: KindLookup,
    lines: LineMap,
    problems: list[Problem],
    context: Context,
) -> FaultEntry | None:
    triggers = [key for key in item if key in TRIGGERS]
    kinds = [key for key in item if key not in TRIGGERS]
    before = len(problems)
    known = ", ".join(registry.names())
    for kind in kinds:
        if kind not in registry:
            hint = suggest(str(kind), [*registry.names(), *TRIGGERS])
            problems.append(
                Problem((*path, kind), f"unknown fault kind {kind!r}{hint}; known kinds: {known}")
            )
    if len(problems) > before:
        return None
    if len(triggers) != 1:
        found = "none" if not triggers else "both " + " and ".join(triggers)
        problems.append(
            Problem(path, f"expected exactly one trigger (at, before or on_spawn), found {found}")
        )
    if len(kinds) != 1:
        found = "none" if not kinds else "several: " + ", ".join(map(str, kinds))
        problems.append(Problem(path, f"expected exactly one fault kind ({known}), found {found}"))
    if len(problems) > before:
        return None
    trigger, kind = triggers[0], kinds[0]
    spec = _spec(registry.get(kind).spec, item[kind], (*path, kind), problems, context)
    fields: dict[str, Any] = {}
    value = item[trigger]
    if trigger == "at":
        try:
            fields["at"] = parse_duration(_resolved(value, context))
        except ValueError as exc:
            problems.append(Problem((*path, "at"), str(exc)))
    elif trigger == "before":
        if value == "start":
            fields["before"] = "start"
        else:
            problems.append(Problem((*path, "before"), f"expected 'start', got {describe(value)}"))
    else:
        on_spawn = _spec(OnSpawn, value, (*path, "on_spawn"), problems, context)
        fields["on_spawn"] = on_spawn
    if len(problems) > before or spec is None:
        return None
    index = path[1]
    assert isinstance(index, int)
    return FaultEntry(
        index=index, kind=kind, spec=cast(FaultSpec, spec), line=lines.line_of(path), **fields
    )


def _invariant(
    item: dict[Any, Any],
    path: Path_,
    registry: KindLookup,
    lines: LineMap,
    problems: list[Problem],
    context: Context,
) -> InvariantEntry | None:
    known = ", ".join(registry.names())
    if len(item) != 1:
        keys = ", ".join(map(str, item)) or "none"
        problems.append(
            Problem(path, f"expected one invariant kind per item ({known}), found {keys}")
        )
        return None
    (kind,) = item
    if kind not in registry:
        hint = suggest(str(kind), registry.names())
        problems.append(
            Problem((*path, kind), f"unknown invariant kind {kind!r}{hint}; known kinds: {known}")
        )
        return None
    spec = _spec(registry.get(kind).spec, item[kind], (*path, kind), problems, context)
    if spec is None:
        return None
    index = path[1]
    assert isinstance(index, int)
    return InvariantEntry(
        index=index, kind=kind, spec=cast(InvariantSpec, spec), line=lines.line_of(path)
    )


PROBE_FIELDS = ("every", "instance")
"""Keys of a probe entry that are not its kind."""


def probe_entries(
    raw: Any, registry: KindLookup, lines: LineMap, context: Context = _NO_CONTEXT
) -> tuple[dict[Any, ProbeEntry], list[Problem]]:
    """Every valid probe by name, and a problem for every invalid one."""
    problems: list[Problem] = []
    if raw is None:
        return {}, problems
    if not isinstance(raw, dict):
        problems.append(
            Problem(("probes",), f"expected a mapping of probe names, got {describe(raw)}")
        )
        return {}, problems
    entries: dict[Any, ProbeEntry] = {}
    for name, item in raw.items():
        path: Path_ = ("probes", name)
        entry = _probe(item, path, registry, problems, context)
        if entry is not None:
            entries[name] = entry
    return entries, problems


def _probe(
    item: Any, path: Path_, registry: KindLookup, problems: list[Problem], context: Context
) -> ProbeEntry | None:
    known = ", ".join(registry.names())
    if not isinstance(item, dict):
        example = "{http: {url: 'http://127.0.0.1:{port}/status'}, every: 100ms}"
        problems.append(
            Problem(path, f"expected a mapping such as {example}, got {describe(item)}")
        )
        return None
    kinds = [key for key in item if key not in PROBE_FIELDS]
    before = len(problems)
    for kind in kinds:
        if kind not in registry:
            hint = suggest(str(kind), [*registry.names(), *PROBE_FIELDS])
            problems.append(
                Problem((*path, kind), f"unknown probe kind {kind!r}{hint}; known kinds: {known}")
            )
    if len(problems) > before:
        return None
    if len(kinds) != 1:
        found = "none" if not kinds else "several: " + ", ".join(map(str, kinds))
        problems.append(Problem(path, f"expected exactly one probe kind ({known}), found {found}"))
        return None
    (kind,) = kinds
    spec = _spec(registry.get(kind).spec, item[kind], (*path, kind), problems, context)
    if spec is None:
        return None
    rest = {key: value for key, value in item.items() if key in PROBE_FIELDS}
    try:
        return ProbeEntry.model_validate({"kind": kind, "spec": spec, **rest}, context=context)
    except ValidationError as exc:
        problems.extend(problems_from(exc, ProbeEntry, rest, path))
        return None


M = TypeVar("M", bound=BaseModel)


def _resolved(value: Any, context: Context) -> Any:
    """A templated ``at: "{delay}"`` resolved as a duration field would be."""
    resolve = context.get(TEMPLATES)
    if resolve is not None and isinstance(value, str) and ("{" in value or "}" in value):
        return resolve(value)
    return value


def _spec(
    model: type[M], options: Any, path: Path_, problems: list[Problem], context: Context
) -> M | None:
    """Validate a kind's options; ``{}`` or nothing means every default."""
    if options is None:
        options = {}
    if not isinstance(options, dict):
        fields = ", ".join(info.alias or name for name, info in model.model_fields.items())
        what = f"its options ({fields})" if fields else "its options ({})"
        problems.append(Problem(path, f"expected a mapping of {what}, got {describe(options)}"))
        return None
    try:
        return model.model_validate(options, context=context)
    except ValidationError as exc:
        problems.extend(problems_from(exc, model, options, path))
        return None
