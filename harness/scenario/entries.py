"""The ``faults``, ``invariants`` and ``probes`` sections: YAML items → typed entries.

A fault item is one trigger key plus one kind key whose value is that kind's options
(``{at: 1s, kill: {role: backend}}``), or ``mix:`` a list of such kinds to pick from; ``at``
may go with ``every`` (a generator), ``jitter`` with either, ``count`` with ``every`` (see
``harness.schedule``); an invariant item is a one-key mapping
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
from harness.scenario.model import (
    MIX,
    FaultChoice,
    FaultEntry,
    InvariantEntry,
    OnLog,
    OnProbe,
    OnRequest,
    OnSpawn,
    ProbeEntry,
)
from harness.scenario.source import LineMap, Path_, Problem
from harness.spec.kinds import FaultSpec, InvariantSpec
from harness.spec.units import TEMPLATES, parse_duration

TRIGGERS = ("at", "every", "before", "on_spawn", "on_log", "on_request", "on_probe")
"""Keys of a fault item that say when it fires (``at`` and ``every`` may go together)."""
MODIFIERS = ("jitter", "count")
"""Keys of a fault item that shape its timed firings."""


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
    kinds = [key for key in item if key not in (*TRIGGERS, *MODIFIERS)]
    before = len(problems)
    known = ", ".join(registry.names())
    for kind in kinds:
        if kind != MIX and kind not in registry:
            hint = suggest(str(kind), [*registry.names(), *TRIGGERS, *MODIFIERS, MIX])
            problems.append(
                Problem((*path, kind), f"unknown fault kind {kind!r}{hint}; known kinds: {known}")
            )
    if len(problems) > before:
        return None
    if len(triggers) != 1 and set(triggers) != {"at", "every"}:
        found = "none" if not triggers else "both " + " and ".join(triggers)
        if len(triggers) > 2:
            found = "several: " + ", ".join(triggers)
        problems.append(
            Problem(path, f"expected exactly one trigger ({_TRIGGER_LIST}), found {found}")
        )
    if len(kinds) != 1:
        found = "none" if not kinds else "several: " + ", ".join(map(str, kinds))
        problems.append(
            Problem(path, f"expected exactly one fault kind ({known}) or a mix, found {found}")
        )
    if len(problems) > before:
        return None
    kind = kinds[0]
    fields: dict[str, Any] = {}
    if kind == MIX:
        fields["mix"] = _mix(item[MIX], (*path, MIX), registry, problems, context)
        spec: BaseModel | None = FaultSpec()
    else:
        spec = _spec(registry.get(kind).spec, item[kind], (*path, kind), problems, context)
    for trigger in triggers:
        _trigger(trigger, item[trigger], (*path, trigger), fields, problems, context)
    _modifiers(item, triggers, path, fields, problems, context)
    if len(problems) > before or spec is None:
        return None
    index = path[1]
    assert isinstance(index, int)
    return FaultEntry(
        index=index, kind=kind, spec=cast(FaultSpec, spec), line=lines.line_of(path), **fields
    )


_TRIGGER_LIST = "at, every, before, on_spawn, on_log, on_request or on_probe"
_EVENT_MODELS: dict[str, type[BaseModel]] = {
    "on_spawn": OnSpawn,
    "on_log": OnLog,
    "on_request": OnRequest,
    "on_probe": OnProbe,
}


def _trigger(
    trigger: str,
    value: Any,
    path: Path_,
    fields: dict[str, Any],
    problems: list[Problem],
    context: Context,
) -> None:
    """One trigger key of a fault item into the entry's ``fields`` (or a problem)."""
    if trigger in ("at", "every"):
        seconds = _duration(value, path, problems, context)
        if seconds is not None and trigger == "every" and seconds <= 0:
            problems.append(Problem(path, f"every must be longer than 0s, got {describe(value)}"))
        elif seconds is not None:
            fields[trigger] = seconds
    elif trigger == "before":
        if value == "start":
            fields["before"] = "start"
        else:
            problems.append(Problem(path, f"expected 'start', got {describe(value)}"))
    else:
        if trigger == "on_log" and isinstance(value, str):
            value = {"pattern": value}  # on_log: 'REGEX' is the short form
        fields[trigger] = _spec(_EVENT_MODELS[trigger], value, path, problems, context)


def _modifiers(
    item: dict[Any, Any],
    triggers: list[str],
    path: Path_,
    fields: dict[str, Any],
    problems: list[Problem],
    context: Context,
) -> None:
    """``jitter`` (with ``at`` or ``every``) and ``count`` (with ``every``)."""
    timed = bool({"at", "every"} & set(triggers))
    if "jitter" in item:
        where: Path_ = (*path, "jitter")
        if not timed:
            problems.append(Problem(where, "jitter applies to at and every only"))
        elif (seconds := _duration(item["jitter"], where, problems, context)) is not None:
            fields["jitter"] = seconds
    if "count" in item:
        where = (*path, "count")
        value = item["count"]
        if "every" not in triggers:
            problems.append(Problem(where, "count applies to every only (how many firings)"))
        elif isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10_000:
            problems.append(
                Problem(
                    where, f"expected a number of firings from 1 to 10000, got {describe(value)}"
                )
            )
        else:
            fields["count"] = value


def _duration(value: Any, path: Path_, problems: list[Problem], context: Context) -> float | None:
    try:
        return parse_duration(_resolved(value, context))
    except ValueError as exc:
        problems.append(Problem(path, str(exc)))
        return None


def _mix(
    raw: Any, path: Path_, registry: KindLookup, problems: list[Problem], context: Context
) -> list[FaultChoice]:
    """``mix: [{kill: {...}}, {freeze: {...}}]``: one fault picked per firing."""
    known = ", ".join(registry.names())
    if not isinstance(raw, list) or not raw:
        problems.append(
            Problem(
                path,
                "expected a list of faults to pick from, such as [{kill: {role: a}}, "
                "{freeze: {role: b, for: 1s}}], got "
                + ("an empty list" if raw == [] else describe(raw)),
            )
        )
        return []
    choices: list[FaultChoice] = []
    for number, choice in enumerate(raw):
        where: Path_ = (*path, number)
        if not isinstance(choice, dict) or len(choice) != 1:
            got = ", ".join(map(str, choice)) if isinstance(choice, dict) else describe(choice)
            problems.append(
                Problem(
                    where,
                    f"expected one fault kind ({known}) with its options, got {got or 'none'}",
                )
            )
            continue
        (kind,) = choice
        if kind not in registry:
            hint = suggest(str(kind), registry.names())
            problems.append(
                Problem((*where, kind), f"unknown fault kind {kind!r}{hint}; known kinds: {known}")
            )
            continue
        spec = _spec(registry.get(kind).spec, choice[kind], (*where, kind), problems, context)
        if spec is not None:
            choices.append(FaultChoice(kind=kind, spec=cast(FaultSpec, spec)))
    return choices


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
