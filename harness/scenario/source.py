"""Scenario bytes → text → plain data plus the line of every key, value and list item.

Pydantic reports errors by location (``faults.1.kill.signal``); a scenario author needs a line.
The file is read within a size limit and decoded as UTF-8, and a character YAML does not
allow (a NUL, a control character) is refused with its line and column, before YAML sees it.
It is then parsed by the bounded loader (``harness.scenario.bounded``), which also refuses
duplicate keys; ``parse`` records, for every mapping key and value and every sequence item,
the line it starts on, keyed by its path in the data. Any error location then maps back to
the nearest line that exists in the file, and an error at a position inside a multi-line
value (a stray brace in a ``|`` block) to the line of that position (``located``).
"""

from __future__ import annotations

import codecs
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from harness.errors import ScenarioError
from harness.scenario.bounded import MAX_FILE_BYTES, BoundedLoader, RefusedYAML

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
    """One thing wrong with a scenario, located by its path in the YAML data.

    ``offset``: where in the text value at ``path`` the problem is, when it is one place.
    """

    path: Path_
    message: str
    offset: int | None = None


@dataclass(frozen=True)
class Span:
    """Where a scalar value sits in the file (0-based lines) and how it is written."""

    first: int
    last: int
    style: str | None
    """``|`` or ``>`` for block scalars, a quote, or ``None`` for plain."""


@dataclass
class LineMap:
    """Path in the parsed data → 1-based line in the file."""

    values: dict[Path_, int] = field(default_factory=dict)
    keys: dict[Path_, int] = field(default_factory=dict)
    spans: dict[Path_, Span] = field(default_factory=dict)
    source: list[str] = field(default_factory=list)
    """The file's lines, to find a position inside a folded or quoted value."""
    files: dict[Path_, tuple[str, str]] = field(default_factory=dict)
    """Paths that came from an included fragment (``harness.scenario.include``) → that
    file and how it was included (``included from s.yaml:2``); their lines are its lines."""
    sources: dict[str, list[str]] = field(default_factory=dict)
    """Each included file's lines."""

    def line_of(
        self, path: Path_, offset: int | None = None, text: str | None = None
    ) -> int | None:
        """The line of ``path`` (its key's line when it has one: where the field is named),
        or of its nearest ancestor that the file contains.

        With ``offset`` into ``text`` (the value at ``path``), the line of that position
        when the value spans several lines.
        """
        if offset is not None and text is not None and path in self.spans:
            inner = self._inner_line(path, self.spans[path], offset, text)
            if inner is not None:
                return inner
        prefix = self._nearest(path)
        if prefix is None:
            return None
        return self.keys[prefix] if prefix in self.keys else self.values[prefix]

    def origin_of(self, path: Path_) -> tuple[str, str] | None:
        """``(file, how it was included)`` when the line of ``path`` is in an included
        fragment; ``None`` when it is in the scenario file itself."""
        prefix = self._nearest(path)
        return None if prefix is None else self.files.get(prefix)

    def _nearest(self, path: Path_) -> Path_ | None:
        for end in range(len(path), -1, -1):
            prefix = path[:end]
            if prefix in self.keys or prefix in self.values:
                return prefix
        return None

    def _inner_line(self, path: Path_, span: Span, offset: int, text: str) -> int | None:
        if span.first == span.last:
            return None
        origin = self.files.get(path)
        source = self.sources.get(origin[0], []) if origin else self.source
        if span.style == "|":  # literal: the text's lines are the file's lines, after the `|`
            return span.first + 2 + text.count("\n", 0, offset)
        # Folded, quoted or plain over several lines: find the piece in the file's lines.
        piece = text[offset:].split("\n", 1)[0][:20] or text[max(0, offset - 20) : offset]
        for number in range(span.first, min(span.last, len(source) - 1) + 1):
            if piece and piece in source[number]:
                return number + 1
        return None


# --------------------------------------------------------------------------- reading


class SourceError(Exception):
    """The file cannot be read as scenario text; ``line``/``column`` where, when known."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


_NOT_ALLOWED = yaml.reader.Reader.NON_PRINTABLE
"""The characters YAML refuses (control characters, surrogates, U+FFFE/U+FFFF)."""


def read_source(path: Path) -> str:
    """The file's text: at most ``MAX_FILE_BYTES``, UTF-8, only characters YAML allows.

    Raises ``SourceError`` with the line and column of the first offending byte or
    character (YAML itself would give an offset into the whole file at best).
    """
    with Path(path).open("rb") as handle:
        data = handle.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        line = data.count(b"\n", 0, MAX_FILE_BYTES) + 1
        raise SourceError(
            f"the file is larger than {MAX_FILE_BYTES // 1024} KiB, the limit for a scenario "
            f"file (reached on line {line})",
            line,
        )
    bom = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        text = data[bom:].decode("utf-8")
    except UnicodeDecodeError as exc:
        at = bom + exc.start
        start = max(bom, data.rfind(b"\n", 0, at) + 1)
        column = len(data[start:at].decode("utf-8", errors="replace")) + 1
        raise SourceError(
            f"not UTF-8 text: the byte 0x{data[at]:02x} cannot start or continue a "
            "character; save the file as UTF-8",
            data.count(b"\n", 0, at) + 1,
            column,
        ) from None
    bad = _NOT_ALLOWED.search(text)
    if bad:
        start = text.rfind("\n", 0, bad.start()) + 1
        code = ord(bad.group())
        name = "a NUL character (U+0000)" if code == 0 else f"the character U+{code:04X}"
        message = f"{name} is not allowed in a scenario file"
        if code < 0x100:
            message += f'; if it is meant, write it as "\\x{code:02x}" in a double-quoted string'
        raise SourceError(message, text.count("\n", 0, bad.start()) + 1, bad.start() - start + 1)
    return text


# --------------------------------------------------------------------------- parsing


_MERGE = "tag:yaml.org,2002:merge"


class DuplicateKeyError(yaml.MarkedYAMLError):
    """A key given twice in one mapping: YAML would silently keep only the last one."""


class LineLoader(BoundedLoader):
    """The bounded loader, refusing duplicate keys; ``parse`` records lines from its nodes."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        seen: dict[Hashable, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == _MERGE:  # ``<<: *base``: its keys may be overridden here
                continue
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
    """Parse one YAML document; raise ``yaml.YAMLError`` (with a mark) on bad syntax or a
    bound passed (``harness.scenario.bounded.RefusedYAML``)."""
    loader = LineLoader(text)
    lines = LineMap(source=text.splitlines())
    try:
        node = loader.get_single_node()
        if node is None:
            return None, lines
        data = loader.construct_document(node)
        _record(loader, node, (), lines)
    finally:
        loader.dispose()
    return data, lines


def yaml_problem(exc: yaml.YAMLError) -> tuple[str, int | None]:
    """What ``parse`` refused, in words, and its line: a bound passed says which in its own
    sentence; a syntax error is ``invalid YAML: ...``, with where its construct started
    when that is another line."""
    if isinstance(exc, RefusedYAML):
        return str(exc.problem), exc.problem_mark.line + 1 if exc.problem_mark else None
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        what = exc.problem or exc.context or "malformed YAML"
        if exc.context and exc.context_mark and exc.context_mark.line + 1 != line:
            what += f" ({exc.context} started on line {exc.context_mark.line + 1})"
        return f"invalid YAML: {what}", line
    return f"invalid YAML: {exc}", 1


def _record(loader: LineLoader, node: yaml.Node, path: Path_, lines: LineMap) -> None:
    lines.values.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.ScalarNode):
        lines.spans.setdefault(path, Span(node.start_mark.line, node.end_mark.line, node.style))
    elif isinstance(node, yaml.MappingNode):
        # Merge keys (``<<: *base``) were flattened into ``node.value`` during construction,
        # merged pairs first: read backwards, a key given here wins over a merged one.
        for key_node, value_node in reversed(node.value):
            if not isinstance(key_node, yaml.ScalarNode):
                continue
            key = loader.construct_object(key_node)
            child = (*path, key if isinstance(key, str | int) else str(key))
            lines.keys.setdefault(child, key_node.start_mark.line + 1)
            _record(loader, value_node, child, lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _record(loader, item, (*path, index), lines)


# --------------------------------------------------------------------------- errors


MAX_REPORTED = 100
"""Problems listed for one file; a file with more is better read from the top again."""


def located(
    found: list[Problem], file: str, lines: LineMap, data: Mapping[Any, Any]
) -> list[ScenarioError]:
    """Problems → errors with file, line and dotted field, in line order, deduplicated.

    A problem at a position inside a text value is placed on that position's line (a
    stray brace on the third line of a ``|`` block is on that line, not the block's first).
    """
    errors: dict[tuple[int, str, str], ScenarioError] = {}
    for problem in found:
        text = value_at(data, problem.path) if problem.offset is not None else None
        line = lines.line_of(problem.path, problem.offset, text)
        field = format_path(problem.path) or None
        origin = lines.origin_of(problem.path)
        where, message = file, problem.message
        if origin is not None:  # in an included fragment: its file and line, and from where
            where, message = origin[0], f"{problem.message} ({origin[1]})"
        key = (line or 0, field or "", message)
        errors.setdefault(key, ScenarioError(message, file=where or None, line=line, field=field))
    ordered = [errors[key] for key in sorted(errors, key=lambda k: k[0])]
    if len(ordered) <= MAX_REPORTED:
        return ordered
    rest = ordered[MAX_REPORTED]
    more = ScenarioError(
        f"{len(ordered) - MAX_REPORTED} more problems from this line on are not listed "
        f"(the first {MAX_REPORTED} are)",
        file=rest.file,
        line=rest.line,
    )
    return [*ordered[:MAX_REPORTED], more]


def value_at(data: Any, path: tuple[Any, ...]) -> str | None:
    """The raw text at ``path`` in the YAML data, if there is text there."""
    for part in path:
        in_list = isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data)
        if in_list or (isinstance(data, dict) and part in data):
            data = data[part]
        else:
            return None
    return data if isinstance(data, str) else None
