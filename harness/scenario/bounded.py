"""YAML with bounds: a ``SafeLoader`` that refuses, with a line, what would exhaust the harness.

``yaml.safe_load`` constructs no objects, but it still follows a file wherever it leads: an
alias bomb (nine aliases of nine aliases of ...) expands to billions of values once
anything walks the data, a recursive alias (``a: &a [*a]``) never ends, 500 nested lists
exhaust Python's stack, and an integer of 5000 digits is a ``ValueError``. Each bound here
is checked while the file is composed, before the data exists, so nothing downstream
(construction, validation, the line map) ever sees a structure it cannot afford:

- the expanded size: every value counts once per place it appears, aliases included;
- no alias may refer to the node that contains it;
- nesting depth, scalar length, integer size;
- only the plain YAML types (text, numbers, booleans, null, lists, mappings): no
  ``!!binary``, ``!!set``, ``!!timestamp``..., and dates stay text.

The file size limit is the loader's (``harness.scenario.source``), before YAML reads it.
"""

from __future__ import annotations

from typing import Any

import yaml

MAX_FILE_BYTES = 256 * 1024
"""A scenario is a few kilobytes; this leaves a hundred times that."""
MAX_DEPTH = 50
"""Lists and mappings inside each other; a scenario needs fewer than ten."""
MAX_VALUES = 10_000
"""Values once every alias is expanded (each list, mapping, key and scalar counts one)."""
MAX_TEXT = 1_000_000
"""Characters of all scalars once every alias is expanded."""
MAX_SCALAR = 64 * 1024
"""Characters in one scalar (a key or a value)."""
MAX_INT_DIGITS = 20
"""Digits of an integer (a 64-bit number has at most 20)."""

_TAG = "tag:yaml.org,2002:"
TAGS = frozenset(
    _TAG + name for name in ("str", "int", "float", "bool", "null", "seq", "map", "merge")
)
"""The tags a scenario may use: YAML's plain types. Anything else is refused by name."""


class RefusedYAML(yaml.MarkedYAMLError):
    """Well-formed YAML the loader will not read; ``problem`` is the whole sentence."""


class LimitError(RefusedYAML):
    """The file passes one of the bounds above."""


def _refuse(message: str, node_or_event: Any) -> LimitError:
    return LimitError(None, None, message, node_or_event.start_mark)


try:  # libyaml's event parser: a 10,000-value file is composed in about a quarter of the time
    from yaml._yaml import CParser as _Parser
except ImportError:  # PyYAML built without libyaml: its pure-Python reader and parser
    from yaml.parser import Parser as _PyParser
    from yaml.reader import Reader as _Reader
    from yaml.scanner import Scanner as _Scanner

    class _Parser(_Reader, _Scanner, _PyParser):  # type: ignore[no-redef]
        def __init__(self, stream: str) -> None:
            _Reader.__init__(self, stream)
            _Scanner.__init__(self)
            _PyParser.__init__(self)


class BoundedLoader(
    yaml.composer.Composer, _Parser, yaml.constructor.SafeConstructor, yaml.resolver.Resolver
):
    """``SafeLoader``'s parts plus the bounds above, counted while composing. Events come
    from libyaml when PyYAML has it; composition (where the bounds are counted) is always
    PyYAML's Python composer, placed before the C parser's own."""

    yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag != _TAG + "timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    """SafeLoader's, without timestamps: ``description: 2024-01-01`` is text, and a plain
    scalar such as ``2024-13-45`` can never fail as a date."""

    def __init__(self, stream: str) -> None:
        _Parser.__init__(self, stream)
        yaml.composer.Composer.__init__(self)
        yaml.constructor.SafeConstructor.__init__(self)
        yaml.resolver.Resolver.__init__(self)
        self._depth = 0
        self._values = 0
        self._text = 0
        self._open: set[str] = set()
        """Anchors whose node is still being composed: an alias to one is a cycle."""
        self._anchored: dict[str, tuple[int, int]] = {}
        """Anchor → expanded (values, characters) of its node."""
        self._sums: list[list[int]] = []
        """Expanded (values, characters) of the children of each node being composed."""

    # ------------------------------------------------------------------- composition

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            event: Any = self.peek_event()
            if event.anchor in self._open:
                raise _refuse(
                    f"the alias *{event.anchor} refers to the node that contains it: "
                    "a structure without end",
                    event,
                )
            node = super().compose_node(parent, index)
            self._add(*self._anchored.get(event.anchor, (1, 0)), where=event)
            return node
        event = self.peek_event()
        if self._depth >= MAX_DEPTH:
            raise _refuse(
                f"lists and mappings nested more than {MAX_DEPTH} deep; the limit is "
                f"{MAX_DEPTH} (a scenario needs fewer than ten)",
                event,
            )
        anchor = event.anchor
        if anchor is not None:
            self._open.add(anchor)
        self._depth += 1
        self._sums.append([0, 0])
        node = super().compose_node(parent, index)
        assert node is not None  # a scalar, sequence or mapping event was peeked
        self._depth -= 1
        values, text = self._sums.pop()
        own = len(node.value) if isinstance(node, yaml.ScalarNode) else 0
        if own > MAX_SCALAR:
            raise _refuse(
                f"a value of {own} characters; the limit is {MAX_SCALAR} characters per value",
                node,
            )
        if node.tag not in TAGS:
            raise RefusedYAML(
                None,
                None,
                f"the tag {node.tag!r} is not supported: a scenario holds text, numbers, "
                "booleans, null, lists and mappings",
                node.start_mark,
            )
        size = (values + 1, text + own)
        if anchor is not None:
            self._open.discard(anchor)
            self._anchored[anchor] = size
        self._add(*size, where=node, spent=(1, own))
        return node

    def _add(
        self, values: int, text: int, *, where: Any, spent: tuple[int, int] | None = None
    ) -> None:
        """Add a finished node's expanded size to its parent's; count what is new.

        A node composed here is new only by itself (``spent``: its children were counted
        as they finished); an alias is new by the whole expansion of its anchor.
        """
        if self._sums:
            self._sums[-1][0] += values
            self._sums[-1][1] += text
        new_values, new_text = spent or (values, text)
        self._values += new_values
        self._text += new_text
        if self._values > MAX_VALUES:
            raise _refuse(
                f"the file expands to more than {MAX_VALUES} values (an alias counts as "
                f"many as it stands for); the limit is {MAX_VALUES}",
                where,
            )
        if self._text > MAX_TEXT:
            raise _refuse(
                f"the file expands to more than {MAX_TEXT} characters of text (an alias "
                f"counts as many as it stands for); the limit is {MAX_TEXT}",
                where,
            )

    # ------------------------------------------------------------------- construction

    def construct_bounded_int(self, node: yaml.ScalarNode) -> int:
        """An integer of at most ``MAX_INT_DIGITS`` digits, refused before ``int()`` runs."""
        text = str(self.construct_scalar(node)).replace("_", "").lstrip("+-")
        digits = text[2:] if text[:2] in ("0x", "0o", "0b") else text
        if len(digits) > MAX_INT_DIGITS:
            raise _refuse(
                f"an integer of {len(digits)} digits; the limit is {MAX_INT_DIGITS} digits",
                node,
            )
        try:
            value = int(super().construct_yaml_int(node))
        except ValueError:
            raise RefusedYAML(
                None, None, f"{text!r} is not a whole number", node.start_mark
            ) from None
        if abs(value) >= 10**MAX_INT_DIGITS:
            raise _refuse(f"an integer above the limit of {MAX_INT_DIGITS} digits", node)
        return value

    def construct_bounded_float(self, node: yaml.ScalarNode) -> float:
        """A float; ``!!float abc`` is refused with its line rather than a ``ValueError``."""
        try:
            return float(super().construct_yaml_float(node))
        except ValueError:
            raise RefusedYAML(
                None, None, f"{node.value!r} is not a number", node.start_mark
            ) from None


BoundedLoader.yaml_constructors = {
    **yaml.constructor.SafeConstructor.yaml_constructors,
    _TAG + "int": BoundedLoader.construct_bounded_int,
    _TAG + "float": BoundedLoader.construct_bounded_float,
}  # add_constructor's own copy-then-set, typed for PyYAML's own loader classes only
