"""YAML text → plain data plus the line of every key, value and list item.

Pydantic reports errors by location (``faults.1.kill.signal``); a scenario author needs a line.
The loader parses with a ``SafeLoader`` subclass that records, for every mapping key and
value and every sequence item, the line it starts on, keyed by its path in the data. Any
error location then maps back to the nearest line that exists in the file.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

import yaml

PathPart = str | int
Path_ = tuple[PathPart, ...]


def format_path(path: Path_) -> str:
    """``("faults", 1, "kill", "signal")`` → ``faults[1].kill.signal``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scenario, located by its path in the YAML data."""

    path: Path_
    message: str


@dataclass
class LineMap:
    """Path in the parsed data → 1-based line in the file."""

    values: dict[Path_, int] = field(default_factory=dict)
    keys: dict[Path_, int] = field(default_factory=dict)

    def line_of(self, path: Path_) -> int | None:
        """The line of ``path`` (its key's line when it has one: where the field is named),
        or of its nearest ancestor that the file contains."""
        for end in range(len(path), -1, -1):
            prefix = path[:end]
            if prefix in self.keys:
                return self.keys[prefix]
            if prefix in self.values:
                return self.values[prefix]
        return None


class DuplicateKeyError(yaml.MarkedYAMLError):
    """A key given twice in one mapping: YAML would silently keep only the last one."""


class LineLoader(yaml.SafeLoader):
    """A ``SafeLoader`` that refuses duplicate keys; ``parse`` records lines from its nodes."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        seen: dict[Hashable, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, Hashable) and key in seen:
                raise DuplicateKeyError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"found the key {key!r} twice (first on line {seen[key]}); "
                    "YAML keeps only the last one",
                    key_node.start_mark,
                )
            if isinstance(key, Hashable):
                seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


def parse(text: str) -> tuple[Any, LineMap]:
    """Parse one YAML document; raise ``yaml.YAMLError`` (with a mark) on bad syntax."""
    loader = LineLoader(text)
    lines = LineMap()
    try:
        node = loader.get_single_node()
        if node is None:
            return None, lines
        data = loader.construct_document(node)
        _record(loader, node, (), lines)
    finally:
        loader.dispose()
    return data, lines


def _record(loader: LineLoader, node: yaml.Node, path: Path_, lines: LineMap) -> None:
    lines.values.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        # Merge keys (``<<: *base``) were flattened into ``node.value`` during construction.
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                continue
            key = loader.construct_object(key_node)
            child = (*path, key if isinstance(key, str | int) else str(key))
            lines.keys.setdefault(child, key_node.start_mark.line + 1)
            _record(loader, value_node, child, lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _record(loader, item, (*path, index), lines)
