"""``include:``: YAML fragments shared between scenarios, merged under the including file.

``include: common.fragment.yaml`` (or a list) names files relative to the including file.
Each is read and parsed with the same bounds as a scenario file, may include others in
turn (at most ``MAX_DEPTH`` deep, ``MAX_FILES`` files in all, never itself through any
chain), and is merged in order: mappings merge key by key, anything else (a list, a
scalar) is replaced whole by what comes later; the including file comes last, so it wins.

Every key, value and item keeps the line of the file it came from: ``located`` then
names the fragment, its line and the field, and the ``include`` line that brought it in
(``common.fragment.yaml:4: system.command[0]: ... (included from nginx.yaml:2)``).
Discovery skips files named ``*.fragment.yaml``/``*.fragment.yml``, so fragments can sit
next to the scenarios that include them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from harness.scenario.messages import describe
from harness.scenario.source import (
    LineMap,
    Path_,
    SourceError,
    parse,
    read_source,
    yaml_problem,
)

MAX_DEPTH = 4
"""Includes inside includes: a fragment of a fragment of a fragment is already a lot."""
MAX_FILES = 16
"""Files one scenario may bring in, all levels together."""
FRAGMENT_SUFFIXES = (".fragment.yaml", ".fragment.yml")
"""Files discovery skips: fragments are included, never run on their own."""
NOT_IN_FRAGMENTS = ("name", "file")
"""Fields only the scenario file itself may write."""


class IncludeError(Exception):
    """An include that cannot be followed, or a fragment that cannot be read: ``file`` and
    ``line`` say where (the fragment's own, or the ``include`` line); the message ends with
    how the fragment was included."""

    def __init__(self, message: str, file: str, line: int | None, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        self.field = field


@dataclass
class _Walk:
    read: Callable[[Path], str]
    files: int = 0
    origins: dict[str, str] = field(default_factory=dict)
    """An included file → ``(included from A:3, included from B:2)`` for its messages."""


def is_fragment(path: Path) -> bool:
    """A file named ``*.fragment.yaml`` (discovery skips it)."""
    return path.name.endswith(FRAGMENT_SUFFIXES)


def expand(
    data: dict[Any, Any], lines: LineMap, file: str, read: Callable[[Path], str] = read_source
) -> tuple[dict[Any, Any], LineMap]:
    """``data`` with its ``include``s merged in (``include`` itself removed) and the line
    map of the result. Raises ``IncludeError`` for an include that cannot be followed."""
    if "include" not in data:
        return data, lines
    walk = _Walk(read)
    return _expand(data, lines, Path(file), (Path(file).resolve(),), walk)


def _expand(
    data: dict[Any, Any],
    lines: LineMap,
    file: Path,
    chain: tuple[Path, ...],
    walk: _Walk,
) -> tuple[dict[Any, Any], LineMap]:
    if "include" not in data:
        return data, lines
    raw = data["include"]
    layers: list[tuple[dict[Any, Any], LineMap]] = []
    for index, name in enumerate(_names(raw, lines, file)):
        where = lines.line_of(("include", index) if isinstance(raw, list) else ("include",))
        target = (file.parent / name).resolve()
        if target in chain:
            cycle = " -> ".join(p.name for p in (*chain[chain.index(target) :], target))
            raise IncludeError(f"include: a cycle: {cycle}", str(file), where, "include")
        if len(chain) > MAX_DEPTH:
            message = f"include: more than {MAX_DEPTH} levels of includes inside includes"
            raise IncludeError(message, str(file), where, "include")
        walk.files += 1
        if walk.files > MAX_FILES:
            message = f"include: more than {MAX_FILES} included files for one scenario"
            raise IncludeError(message, str(file), where, "include")
        via = f"included from {file}:{where}"
        if str(file) in walk.origins:
            via += ", " + walk.origins[str(file)]
        shown = str(file.parent / name)
        walk.origins[shown] = via
        part, part_lines = _read(file.parent / name, shown, where, file, walk)
        for key in NOT_IN_FRAGMENTS:
            if key in part:
                raise IncludeError(
                    f"{key!r} is the including scenario's own field; a fragment cannot set "
                    f"it ({via})",
                    shown,
                    part_lines.line_of((key,)),
                    key,
                )
        part, part_lines = _expand(part, part_lines, Path(shown), (*chain, target), walk)
        for table in (part_lines.keys, part_lines.values):
            for path in table:
                part_lines.files.setdefault(path, (shown, via))
        part_lines.sources.setdefault(shown, part_lines.source)
        layers.append((part, part_lines))
    layers.append(({k: v for k, v in data.items() if k != "include"}, lines))
    merged: dict[Any, Any] = {}
    for part, _ in layers:
        merged = _merge(merged, part)
    return merged, _lines_of(merged, layers, lines)


def _merge(base: Any, over: Any) -> Any:
    """Mappings merge key by key; anything else is replaced by ``over``."""
    if isinstance(base, dict) and isinstance(over, dict):
        result = dict(base)
        for key, value in over.items():
            result[key] = _merge(base.get(key), value)
        return result
    return over


def _lines_of(merged: Any, layers: list[tuple[dict[Any, Any], LineMap]], own: LineMap) -> LineMap:
    """The line map of ``merged``: each path's lines from the last layer that holds it
    (the one whose value is there), with the file it names."""
    result = LineMap(source=own.source)
    for _, layer in layers:
        for name, source in layer.sources.items():
            result.sources.setdefault(name, source)
    for path in _paths(merged, ()):
        owner = next((ls for d, ls in reversed(layers) if _holds(d, path)), own)
        for table in ("keys", "values", "spans"):
            found = getattr(owner, table)
            if path in found:
                getattr(result, table)[path] = found[path]
        if path in owner.files:
            result.files[path] = owner.files[path]
    return result


def _paths(value: Any, path: Path_) -> list[Path_]:
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*path, key if isinstance(key, str | int) else str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*path, index))
    return found


def _holds(data: Any, path: Path_) -> bool:
    for part in path:
        in_list = isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data)
        if not (in_list or (isinstance(data, dict) and part in data)):
            return False
        data = data[part]
    return True


def _names(raw: Any, lines: LineMap, file: Path) -> list[str]:
    items = raw if isinstance(raw, list) else [raw]
    for index, item in enumerate(items):
        if not isinstance(item, str) or not item.strip():
            path: Path_ = ("include", index) if isinstance(raw, list) else ("include",)
            raise IncludeError(
                "include: expected a file name or a list of them (relative to this file), "
                f"got {describe(item)}",
                str(file),
                lines.line_of(path),
                "include",
            )
    return [str(item) for item in items]


def _read(
    path: Path, shown: str, where: int | None, includer: Path, walk: _Walk
) -> tuple[dict[Any, Any], LineMap]:
    via = walk.origins[shown]
    try:
        text = walk.read(path)
    except SourceError as exc:
        raise IncludeError(f"{exc.message} ({via})", shown, exc.line) from None
    except OSError as exc:
        raise IncludeError(
            f"include: cannot read {shown} ({exc.strerror or exc})",
            str(includer),
            where,
            "include",
        ) from None
    try:
        data, lines = parse(text)
    except yaml.YAMLError as exc:
        message, line = yaml_problem(exc)
        raise IncludeError(f"{message} ({via})", shown, line) from None
    if not isinstance(data, dict):
        message = f"a fragment is a mapping of scenario fields, got {describe(data)} ({via})"
        raise IncludeError(message, shown, 1)
    return data, lines
