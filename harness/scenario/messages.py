"""Pydantic validation errors → one readable sentence per problem, located in the YAML.

A raw pydantic dump (``Input should be a valid integer [type=int_parsing, ...]``) tells a
scenario author neither where nor what to write. Each error here becomes a ``Problem``: the
path of the offending value in the YAML data and a sentence saying what was expected, with
the closest known name for a misspelt field.
"""

from __future__ import annotations

import difflib
import types
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from harness.scenario.source import Path_, Problem

_EXPECTED = {
    "string_type": "a string",
    "string_sub_type": "a string",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "list_type": "a list",
    "tuple_type": "a list",
    "set_type": "a list",
    "dict_type": "a mapping",
    "mapping_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "none_required": "nothing (null)",
}
_BOUNDS = {
    "greater_than_equal": ("ge", "at least"),
    "greater_than": ("gt", "above"),
    "less_than_equal": ("le", "at most"),
    "less_than": ("lt", "below"),
}


def describe(value: Any) -> str:
    """A short YAML-flavoured description of a value the author wrote."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


SUGGEST_FROM = 200
"""Known names beyond which no "did you mean" is tried: comparing every unknown name with
thousands of known ones (a generated file) would cost seconds, for no reader."""
LISTED = 20
"""Known names a message lists before saying how many more there are."""


def suggest(name: str, known: Iterable[str], show: Callable[[str], str] = repr) -> str:
    """``" (did you mean 'kill'?)"`` when a known name is close, else the empty string."""
    names = list(known)
    if len(names) > SUGGEST_FROM or len(name) > 200:
        return ""
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    return f" (did you mean {show(close[0])}?)" if close else ""


def listing(names: Iterable[str]) -> str:
    """``a, b, c`` (the first ``LISTED`` of many, then how many more)."""
    shown = list(names)
    if len(shown) <= LISTED:
        return ", ".join(shown)
    return ", ".join(shown[:LISTED]) + f" and {len(shown) - LISTED} more"


def problems_from(
    error: ValidationError, model: type[BaseModel], data: Any, prefix: Path_ = ()
) -> list[Problem]:
    """One problem per offending value; union alternatives at one place are merged."""
    groups: dict[Path_, list[tuple[ErrorDetails, Path_]]] = {}
    for detail in error.errors(include_url=False):
        path = data_path(detail["loc"], data, last_is_field=detail["type"] == "missing")
        groups.setdefault(path, []).append((detail, path))
    hinted = len(groups) <= SUGGEST_FROM  # thousands of errors: no "did you mean" each
    misspelt = _misspelt(groups, model) if hinted else set()
    problems = []
    for path, details in groups.items():
        if details[0][0]["type"] == "missing" and path in misspelt:
            continue  # the unknown field's "did you mean" says it better
        expected = [_expected(d) for d, _ in details]
        if len(details) > 1 and all(expected):
            alternatives = " or ".join(dict.fromkeys(e for e in expected if e))
            got = describe(details[0][0]["input"])
            message = f"expected {alternatives}, got {got}"
        else:
            message = _message(details[0][0], model, path, hinted=hinted)
        cause = details[0][0].get("ctx", {}).get("error")
        offset = getattr(cause, "offset", None)  # a regex error knows where in the pattern
        problems.append(
            Problem((*prefix, *path), message, offset if isinstance(offset, int) else None)
        )
    return problems


def _misspelt(
    groups: Mapping[Path_, list[tuple[ErrorDetails, Path_]]], model: type[BaseModel]
) -> set[Path_]:
    """Missing fields that an unknown sibling field is a misspelling of (``sytem``)."""
    found = set()
    for path, details in groups.items():
        if details[0][0]["type"] != "extra_forbidden" or not path:
            continue
        known = fields_of(model_at(model, path[:-1]))
        close = difflib.get_close_matches(str(path[-1]), known, n=1, cutoff=0.6)
        if close:
            found.add((*path[:-1], close[0]))
    return found


def data_path(loc: Sequence[str | int], data: Any, *, last_is_field: bool = False) -> Path_:
    """The error location as a path in the data, without pydantic's union tags.

    A union reports ``count.int`` and ``count.literal['all']``; neither tag is in the file,
    so a part that the data at that point does not contain is dropped. A missing field is
    the exception: it is absent from the data by definition.
    """
    path: list[str | int] = []
    node = data
    for index, part in enumerate(loc):
        in_dict = isinstance(node, dict) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_dict or in_list:
            node = node[part]
            path.append(part)
        elif last_is_field and index == len(loc) - 1:
            path.append(part)
    return tuple(path)


def _expected(detail: ErrorDetails) -> str | None:
    kind = detail["type"]
    if kind in _EXPECTED:
        return _EXPECTED[kind]
    if kind in ("literal_error", "enum"):
        return str(detail.get("ctx", {}).get("expected", "")) or None
    return None


def _message(
    detail: ErrorDetails, model: type[BaseModel], path: Path_, *, hinted: bool = True
) -> str:
    kind = detail["type"]
    ctx = detail.get("ctx", {})
    given = detail["input"]
    name = str(path[-1]) if path else ""
    if kind == "missing":
        return f"the required field {name!r} is missing"
    if kind == "extra_forbidden":
        known = fields_of(model_at(model, path[:-1]))
        hint = suggest(name, known) if hinted else ""
        if not hint and known:
            hint = "; known fields: " + ", ".join(known)
        return f"unknown field {name!r}{hint}"
    if kind in ("value_error", "assertion_error") and "error" in ctx:
        return str(ctx["error"])
    if kind in _BOUNDS:
        key, words = _BOUNDS[kind]
        return f"must be {words} {ctx.get(key)}, got {describe(given)}"
    expected = _expected(detail)
    if expected:
        return f"expected {expected}, got {describe(given)}"
    message = str(detail["msg"])
    if message.startswith("Input should be "):
        message = "expected " + message.removeprefix("Input should be ")
    return f"{message}, got {describe(given)}"


# --------------------------------------------------------------------------- known names


def fields_of(model: type[BaseModel] | None) -> list[str]:
    """The names a model accepts in YAML (aliases where it has them), in declared order."""
    if model is None:
        return []
    return [info.alias or name for name, info in model.model_fields.items()]


def model_at(root: type[BaseModel], path: Path_) -> type[BaseModel] | None:
    """The model class that validates the mapping found at ``path`` under ``root``."""
    current: Any = root
    for part in path:
        current = _container_or_model(current)
        if _is_model(current):
            current = _field_annotation(current, part)
        elif get_origin(current) in (list, tuple, set, frozenset):
            args = get_args(current)
            current = args[0] if args else None
        elif get_origin(current) is dict:
            args = get_args(current)
            current = args[1] if len(args) == 2 else None
        else:
            return None
        if current is None:
            return None
    current = _container_or_model(current)
    return current if _is_model(current) else None


def _is_model(value: Any) -> bool:
    return isinstance(value, type) and issubclass(value, BaseModel)


def _field_annotation(model: type[BaseModel], key: str | int) -> Any:
    for name, info in model.model_fields.items():
        if key in (name, info.alias):
            return info.annotation
    return None


def _container_or_model(annotation: Any) -> Any:
    """Strip ``Annotated`` and ``X | None`` down to the model or container inside."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            members = [a for a in get_args(annotation) if a is not type(None)]
            structured = [
                m for m in members if _is_model(m) or get_origin(m) in (list, dict, Annotated)
            ]
            annotation = (structured or members or [None])[0]
        else:
            return annotation
