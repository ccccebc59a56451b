"""Templates in scenario strings: ``{port}``, ``{port.NAME}``, ``{run_dir}``, ``{vars.X}``...

The grammar is deliberately tiny and strict: ``{name}`` inserts a value, ``{{`` and ``}}`` are
literal braces, and any other brace is an error. Strictness is what lets the loader refuse a
typo (``{prot}``) at load time, with its line, instead of a trial failing half-way.

Which strings are templates: every ``str`` field of the scenario's system, probes, workload,
faults and invariants, except regular expressions (``Regex`` fields: ``\\d{3}`` is not a
template) and fields a model lists in its ``not_templates`` class variable (names, paths).
JSON bodies (fields typed ``Any``) are sent as written.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Annotated, Any, get_args, get_origin

from pydantic import AfterValidator, BaseModel

from harness.scenario.messages import suggest
from harness.scenario.source import Path_
from harness.spec.regex import Regex

NAME = re.compile(r"[A-Za-z_][\w-]*(?:\.[\w-]+)*")
"""A template name: ``port``, ``port.admin``, ``vars.bugs``, ``ready.port``."""

BUILTINS = frozenset({"port", "run_dir", "instance", "python", "scenario_dir"})
"""Names every scenario may use, whatever it declares."""
NAMESPACES = frozenset({"port", "vars", "ready", "proxy", "disk"})
"""Prefixes of dotted names (``port.NAME``, ``vars.X``, ``ready.GROUP``, ``proxy.NAME``,
``disk.NAME``)."""
_REGEX_CHECK = get_args(Regex)[1].func


class TemplateError(ValueError):
    """A malformed template (a stray brace) or, at run time, a name with no value.

    ``offset``: where in the text the stray brace is (the loader turns it into a line).
    """

    def __init__(self, message: str, offset: int | None = None) -> None:
        super().__init__(message)
        self.offset = offset


def _around(text: str, i: int) -> str:
    """The text around position ``i``, short enough for one message."""
    start, end = max(0, i - 20), min(len(text), i + 20)
    return ("..." if start else "") + text[start:end] + ("..." if end < len(text) else "")


# --------------------------------------------------------------------------- the grammar


def _scan(text: str) -> Iterator[tuple[bool, str]]:
    """Split ``text`` into ``(is_name, piece)``: literal text, or a template name."""
    i = 0
    literal: list[str] = []
    while i < len(text):
        if text.startswith("{{", i) or text.startswith("}}", i):
            literal.append(text[i])
            i += 2
        elif text[i] == "{":
            end = text.find("}", i + 1)
            name = text[i + 1 : end] if end >= 0 else ""
            if end < 0 or not NAME.fullmatch(name):
                shown = text[i : end + 1] if 0 <= end < i + 40 else text[i : i + 20]
                raise TemplateError(
                    f"{shown!r} is not a template such as {{port}} or {{vars.name}}; "
                    "write {{ and }} for literal braces",
                    i,
                )
            if literal:
                yield False, "".join(literal)
                literal = []
            yield True, name
            i = end + 1
        elif text[i] == "}":
            raise TemplateError(
                f"a single '}}' at position {i} of {_around(text, i)!r}; write }}}} for a "
                "literal brace",
                i,
            )
        else:
            literal.append(text[i])
            i += 1
    if literal:
        yield False, "".join(literal)


def names_in(text: str) -> set[str]:
    """The template names ``text`` uses. Raises ``TemplateError`` on a stray brace."""
    return {piece for is_name, piece in _scan(text) if is_name}


def resolve(text: str, values: Mapping[str, str]) -> str:
    """Substitute every ``{name}``; ``{{``/``}}`` become single braces."""
    out: list[str] = []
    for is_name, piece in _scan(text):
        if not is_name:
            out.append(piece)
        elif piece in values:
            out.append(values[piece])
        else:
            known = ", ".join(sorted(values))
            raise TemplateError(f"no value for {{{piece}}} in {text!r}; known: {known}")
    return "".join(out)


def vars_resolver(variables: Mapping[str, str]) -> Callable[[str], str]:
    """Resolves a templated duration, rate, fraction or signal: these are read at load,
    when only vars have a value."""
    values = {**variables, **{f"vars.{k}": v for k, v in variables.items()}}
    known = sorted(values)

    def resolve_vars(text: str) -> str:
        try:
            names = names_in(text)
        except TemplateError as exc:
            raise ValueError(str(exc)) from None
        for name in sorted(names):
            if name not in values:
                hint = suggest(name, known, lambda n: "{" + n + "}")
                raise ValueError(
                    f"undefined template name {{{name}}}{hint} in {text!r}; a duration, "
                    "rate, fraction or signal is read at load, so it can use only vars "
                    "(declare it under vars)"
                )
        return resolve(text, values)

    return resolve_vars


def escape(text: str) -> str:
    """The template whose resolution is ``text`` itself."""
    return text.replace("{", "{{").replace("}", "}}")


# --------------------------------------------------------------------------- values


def scenario_dir(file: str) -> str:
    """``{scenario_dir}``: the folder of the scenario file, absolute (helper files next to
    the YAML need no absolute path); the current folder for a scenario written in code."""
    return str(Path(file).resolve().parent) if file else str(Path.cwd())


def values_for(
    *,
    run_dir: str | Path,
    scenario_file: str = "",
    instance: int,
    ports: Mapping[str, int],
    variables: Mapping[str, str],
    ready: Mapping[str, str] | None = None,
    proxies: Mapping[str, int] | None = None,
    disks: Mapping[str, str | Path] | None = None,
) -> dict[str, str]:
    """The values of one trial's instance (``scenario_file``: the file's path, for
    ``{scenario_dir}``). ``ports`` maps a port name to its number, the
    empty name being plain ``{port}`` (see ``port_names``); ``ready`` holds the named groups
    the readiness log pattern matched, once the system is ready; ``proxies`` the port each
    proxy listens on (``{proxy.NAME}``), ``disks`` where each disk is mounted
    (``{disk.NAME}``).

    Resolution order in a trial: ports, proxy ports and disk folders are all chosen before
    anything starts, so the system's own settings may use any of them; ``{ready.X}`` is
    added once the system is ready; a proxy's ``upstream`` is resolved afresh at every new
    connection, so it may use ``{ready.X}`` too (and never ``{proxy.X}``: no chains)."""
    values = {
        "run_dir": str(run_dir),
        "instance": str(instance),
        "python": sys.executable,
        "scenario_dir": scenario_dir(scenario_file),
    }
    for name, port in ports.items():
        values["port" if name == "" else f"port.{name}"] = str(port)
    for name, port in (proxies or {}).items():
        values[f"proxy.{name}"] = str(port)
    for name, folder in (disks or {}).items():
        values[f"disk.{name}"] = str(folder)
    for key, value in variables.items():
        values[key] = value
        values[f"vars.{key}"] = value
    for group, value in (ready or {}).items():
        values[f"ready.{group}"] = value
    return values


def ready_groups(pattern: str | None) -> set[str]:
    """The named groups of the readiness log pattern: the only valid ``{ready.X}``."""
    return set(re.compile(pattern).groupindex) if pattern else set()


# --------------------------------------------------------------------------- the walk


def template_strings(
    scenario: BaseModel, path: Path_ = ()
) -> Iterator[tuple[Path_, str, frozenset[str]]]:
    """Every template string of a scenario (or of one of its parts, found at ``path`` in
    the YAML): ``(path in the YAML, text, extra names)``.

    Extra names come from a spec's ``template_extras`` class variable (field name → names
    the code that resolves that field supplies, such as the ledger lookup's ``{id}``).
    """
    yield from _walk_model(scenario, path)


def port_names(scenario: BaseModel) -> set[str]:
    """The ports a trial must allocate: ``""`` for ``{port}``, ``"admin"`` for
    ``{port.admin}``. Malformed templates are skipped (the loader refuses them)."""
    found: set[str] = set()
    for _, text, _ in template_strings(scenario):
        try:
            names = names_in(text)
        except TemplateError:
            continue
        found |= {"" if n == "port" else n[5:] for n in names if n.split(".")[0] == "port"}
    return found


def _walk_model(model: BaseModel, path: Path_) -> Iterator[tuple[Path_, str, frozenset[str]]]:
    cls = type(model)
    skip: frozenset[str] = getattr(cls, "not_templates", frozenset())
    extras: Mapping[str, frozenset[str]] = getattr(cls, "template_extras", {})
    for name, info in cls.model_fields.items():
        if name in skip or _is_regex(info.annotation, info.metadata):
            continue
        if not _mentions(info.annotation, (str, BaseModel)):
            continue
        key = info.alias or name
        if name == "spec" and isinstance(kind := getattr(model, "kind", None), str):
            key = kind  # an entry's options sit under its kind's name in the YAML
        yield from _walk_value(
            getattr(model, name), (*path, key), frozenset(extras.get(name, frozenset()))
        )


def _walk_value(
    value: Any, path: Path_, extras: frozenset[str]
) -> Iterator[tuple[Path_, str, frozenset[str]]]:
    if isinstance(value, str):
        yield path, value, extras
    elif isinstance(value, BaseModel):
        yield from _walk_model(value, path)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _walk_value(item, (*path, index), extras)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _walk_value(item, (*path, key), extras)


def _is_regex(annotation: Any, metadata: list[Any]) -> bool:
    """A ``Regex`` field (anywhere in its type): a pattern, never a template."""
    if any(isinstance(m, AfterValidator) and m.func is _REGEX_CHECK for m in metadata):
        return True
    if get_origin(annotation) is Annotated:
        return _is_regex(get_args(annotation)[0], list(annotation.__metadata__))
    return any(_is_regex(arg, []) for arg in get_args(annotation))


def _mentions(annotation: Any, kinds: tuple[type, ...]) -> bool:
    """Whether a field's type can hold a string or a model (anywhere inside it)."""
    if isinstance(annotation, type) and issubclass(annotation, kinds):
        return True
    if get_origin(annotation) is None:
        return False
    return any(_mentions(arg, kinds) for arg in get_args(annotation))
