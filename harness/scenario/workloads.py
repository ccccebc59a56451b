"""The ``workload`` section: YAML items → typed ``WorkloadSpec`` entries.

A workload item is a list entry with its own fields (``name``, ``rate``, ``record``...) and
exactly one kind key whose value is that kind's options (``{name: ui, rate: 20/s, http:
{url: ...}}``), looked up in the workload registry the loader was given: adding a kind
changes nothing here. Errors are located at the kind's own field (``workload[0].tcp.port``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from harness.scenario.kinds import KindLookup
from harness.scenario.messages import describe, problems_from, suggest
from harness.scenario.model import WorkloadSpec
from harness.scenario.source import Path_, Problem

WORKLOAD_FIELDS = ("name", "rate", "record", "ok_status", "concurrency", "instance")
"""Keys of a workload item that are not its kind."""

_EXAMPLE = "{name: ui, rate: 20/s, http: {url: 'http://127.0.0.1:{port}/'}}"


def workload_entries(
    raw: Any, registry: KindLookup, context: Mapping[str, Any]
) -> tuple[list[tuple[int, WorkloadSpec]] | None, list[Problem]]:
    """Every valid workload with its index in the list (``None`` when ``raw`` is not a
    list: the model then says what it expected), and a problem for every invalid one."""
    problems: list[Problem] = []
    if not isinstance(raw, list):
        return None, problems
    entries: list[tuple[int, WorkloadSpec]] = []
    for index, item in enumerate(raw):
        entry = workload_entry(item, ("workload", index), registry, problems, context)
        if entry is not None:
            entries.append((index, entry))
    return entries, problems


def workload_entry(
    item: Any,
    path: Path_,
    registry: KindLookup,
    problems: list[Problem],
    context: Mapping[str, Any],
) -> WorkloadSpec | None:
    """One item as a ``WorkloadSpec``, or ``None`` with its problems appended."""
    known = ", ".join(registry.names())
    if not isinstance(item, dict):
        problems.append(
            Problem(path, f"expected a mapping such as {_EXAMPLE}, got {describe(item)}")
        )
        return None
    kinds = [key for key in item if key not in WORKLOAD_FIELDS]
    before = len(problems)
    for kind in kinds:
        if kind not in registry:
            hint = suggest(str(kind), [*registry.names(), *WORKLOAD_FIELDS])
            problems.append(
                Problem(
                    (*path, kind), f"unknown workload kind {kind!r}{hint}; known kinds: {known}"
                )
            )
    if len(problems) > before:
        return None
    if len(kinds) != 1:
        found = "none" if not kinds else "several: " + ", ".join(map(str, kinds))
        problems.append(
            Problem(path, f"expected exactly one workload kind ({known}), found {found}")
        )
        return None
    (kind,) = kinds
    options = item[kind]
    model = registry.get(kind).spec
    if not isinstance(options, dict):
        fields = ", ".join(info.alias or name for name, info in model.model_fields.items())
        problems.append(
            Problem(
                (*path, kind),
                f"expected a mapping of its options ({fields}), got {describe(options)}",
            )
        )
        return None
    try:
        spec = model.model_validate(options, context=context)
    except ValidationError as exc:
        problems.extend(problems_from(exc, model, options, (*path, kind)))
        return None
    rest = {key: value for key, value in item.items() if key in WORKLOAD_FIELDS}
    if "ok_status" in rest and not getattr(registry.get(kind), "statuses", True):
        problems.append(
            Problem(
                (*path, "ok_status"),
                f"a {kind} workload has no statuses: its own rule decides what is ok; "
                "remove ok_status",
            )
        )
        return None
    try:
        return WorkloadSpec.model_validate({"kind": kind, "spec": spec, **rest}, context=context)
    except ValidationError as exc:
        problems.extend(problems_from(exc, WorkloadSpec, rest, path))
        return None
