"""``-k EXPR``: choose scenarios by name or tag, the way ``pytest -k`` chooses tests.

``EXPR`` is words combined with ``and``, ``or``, ``not`` and parentheses; a word matches a
scenario when it is a case-insensitive substring of its name or of one of its tags. Parsed
by a small recursive-descent parser into a predicate: no ``eval``.

    expr    := and_expr ("or" and_expr)*
    and_expr:= not_expr ("and" not_expr)*
    not_expr:= "not" not_expr | "(" expr ")" | WORD
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NoReturn, Protocol, TypeVar

from harness.errors import UsageError

_TOKEN = re.compile(r"\s*(?:(\()|(\))|([\w:+\-.\[\]\\/]+)|(\S))")
_KEYWORDS = frozenset({"and", "or", "not"})

Match = Callable[[str, Sequence[str]], bool]
"""``match(name, tags)``."""


class Named(Protocol):
    """Anything with a name and tags: a ``Scenario``, or a journal's scenario record."""

    @property
    def name(self) -> str: ...

    @property
    def tags(self) -> Sequence[str]: ...


N = TypeVar("N", bound=Named)


def select(items: Sequence[N], expr: str | None) -> list[N]:
    """The items ``expr`` selects, in their order; an empty ``expr`` selects all."""
    if not expr or not expr.strip():
        return list(items)
    match = compile_expression(expr)
    return [item for item in items if match(item.name, item.tags)]


def compile_expression(expr: str) -> Match:
    """Parse once, match many. Raises ``UsageError`` saying where the syntax broke."""
    parser = _Parser(expr)
    match = parser.expr()
    if parser.peek() is not None:
        parser.fail("expected 'and', 'or' or the end")
    return match


@dataclass(frozen=True)
class _Token:
    kind: str
    """``(``, ``)``, ``word``, ``and``, ``or``, ``not``."""
    text: str
    column: int


def _tokens(expr: str) -> list[_Token]:
    tokens = []
    for found in _TOKEN.finditer(expr):
        opening, closing, word, other = found.groups()
        column = found.start(found.lastindex or 0) + 1
        if other is not None:
            raise UsageError(f"-k {expr!r}: unexpected {other!r} at column {column}")
        text = opening or closing or word or ""
        kind = text if text in ("(", ")") or text in _KEYWORDS else "word"
        tokens.append(_Token(kind, text, column))
    return tokens


class _Parser:
    def __init__(self, expr: str) -> None:
        self.expr_text = expr
        self.tokens = _tokens(expr)
        self.position = 0

    def peek(self) -> _Token | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def accept(self, kind: str) -> bool:
        token = self.peek()
        if token is not None and token.kind == kind:
            self.position += 1
            return True
        return False

    def fail(self, what: str) -> NoReturn:
        token = self.peek()
        where = f"at column {token.column}" if token else "at the end"
        raise UsageError(f"-k {self.expr_text!r}: {what} {where}")

    def expr(self) -> Match:
        left = self.and_expr()
        while self.accept("or"):
            right = self.and_expr()
            left = _either(left, right)
        return left

    def and_expr(self) -> Match:
        left = self.not_expr()
        while self.accept("and"):
            right = self.not_expr()
            left = _both(left, right)
        return left

    def not_expr(self) -> Match:
        if self.accept("not"):
            return _negate(self.not_expr())
        if self.accept("("):
            inner = self.expr()
            if not self.accept(")"):
                self.fail("expected ')'")
            return inner
        token = self.peek()
        if token is None or token.kind != "word":
            self.fail("expected a name, 'not' or '('")
        self.position += 1
        return _word(token.text)


def _word(word: str) -> Match:
    needle = word.lower()

    def match(name: str, tags: Sequence[str]) -> bool:
        return needle in name.lower() or any(needle in tag.lower() for tag in tags)

    return match


def _either(left: Match, right: Match) -> Match:
    return lambda name, tags: left(name, tags) or right(name, tags)


def _both(left: Match, right: Match) -> Match:
    return lambda name, tags: left(name, tags) and right(name, tags)


def _negate(inner: Match) -> Match:
    return lambda name, tags: not inner(name, tags)
