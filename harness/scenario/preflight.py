"""What ``run`` would refuse once a trial starts, refused at load instead: validate equals run.

A trial resolves its templates with real values (ports, folders, vars) and only then finds
a URL to another machine, a port of 99999, an empty program name, an instance that does
not exist, or a timeout too short for its own duration. Each is a mistake of the scenario
author, so it is found here, with the file's line, by resolving every template with the
vars and a placeholder for what only a trial knows (``{port}`` is a port, ``{run_dir}`` a
folder). A string that uses ``{ready.X}`` is left to the trial: its value comes from the
system.

Which fields are what follows the names the scenario format uses everywhere: ``url`` and
``lookup`` are URLs the harness sends to, ``port`` a TCP port, ``host`` an address to
connect to or bind, ``instance`` a copy of the system, ``settle`` time an invariant takes
after the observation.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from urllib.parse import urlsplit

from pydantic import BaseModel

from harness.scenario.checks import strings_of
from harness.scenario.parts import Parts
from harness.scenario.source import Path_, Problem
from harness.scenario.templates import TemplateError, names_in, resolve
from harness.spec.loopback import WILDCARDS, is_loopback

PLACEHOLDER_PORT = "50000"
"""What ``{port}`` stands for at load: a port as the system will get (from the ephemeral
range), so ``http://127.0.0.1:{port}`` checks like the real URL will."""
URL_FIELDS = frozenset({"url", "lookup"})
_LOCAL = "chaos only sends traffic to this machine (127.0.0.0/8, ::1, localhost)"


def preflight_problems(parts: Parts) -> list[Problem]:
    """Every problem a trial would meet before its first fault, found without running."""
    return [
        *_resolved_problems(parts),
        *_instance_problems(parts),
        *_timing_problems(parts),
    ]


# --------------------------------------------------------------------------- resolution


def _placeholders(parts: Parts) -> dict[str, str]:
    """The values a trial would have, with stand-ins for what only a trial knows."""
    values = {
        "run_dir": "/tmp/chaos-validate/i0",
        "instance": "0",
        "python": sys.executable,
        "scenario_dir": "/tmp/chaos-validate/scenario",
    }
    for key, value in parts.variables.items():
        values[key] = values[f"vars.{key}"] = value
    return values


def resolved(parts: Parts) -> Iterator[tuple[Path_, str, str]]:
    """``(path, text, resolved text)`` of every template string a load can resolve.

    Strings with a malformed template or an undefined name are left out (those are
    reported by the template check), and so are those that use ``{ready.X}``.
    """
    base = _placeholders(parts)
    for path, text, extras in strings_of(parts):
        try:
            names = names_in(text)
        except TemplateError:
            continue
        if any(name.split(".")[0] == "ready" for name in names):
            continue
        values = base
        own = {n: PLACEHOLDER_PORT for n in names if n.split(".")[0] == "port" and n not in base}
        if own or extras:
            values = {**base, **own, **dict.fromkeys(extras, "0")}
        if all(name in values for name in names):  # else undefined: the template check says
            yield path, text, resolve(text, values)


def _resolved_problems(parts: Parts) -> Iterator[Problem]:
    for path, text, value in resolved(parts):
        key = path[-1] if path else None
        if "\0" in value:
            yield Problem(path, "a NUL character cannot be passed on" + _as(text, value))
        elif key in URL_FIELDS:
            yield from _url(path, text, value)
        elif key == "port":
            if not _is_port(value.strip()):
                yield Problem(path, f"expected a port from 1 to 65535, got {value!r}{_as(text)}")
        elif key == "host" and not (is_loopback(value) or value in WILDCARDS):
            yield Problem(
                path, f"{value!r} is not a loopback or wildcard address: {_LOCAL}{_as(text)}"
            )
        elif path[:3] == ("system", "command", 0) and not value.strip():
            yield Problem(path, "the program to run (command[0]) is empty" + _as(text, value))


def _as(text: str, value: str | None = None) -> str:
    """``" ('{x}' resolves to 'y')"`` when the text is a template, else nothing."""
    if "{" not in text:
        return ""
    if value is None:
        return f" (from {text!r})"
    return f" ({text!r} resolves to {value!r})"


def _is_port(text: str) -> bool:
    return text.isdigit() and len(text) <= 5 and 0 < int(text) < 65536


def _url(path: Path_, text: str, value: str) -> Iterator[Problem]:
    try:
        split = urlsplit(value)
        host = split.hostname or ""
    except ValueError:
        yield Problem(path, f"expected an http:// URL, got {value!r}{_as(text)}")
        return
    if split.scheme != "http" or not host:
        yield Problem(path, f"expected an http:// URL to this machine, got {value!r}{_as(text)}")
        return
    if not is_loopback(host):
        yield Problem(path, f"{host!r} is not a loopback address: {_LOCAL}{_as(text, value)}")
        return
    try:
        port = split.port
    except ValueError:  # not a number, or out of range
        port = -1
    if port is not None and not 0 < port < 65536:
        yield Problem(path, f"the port of {value!r} must be a number from 1 to 65535{_as(text)}")


# --------------------------------------------------------------------------- instances


def _fields(model: BaseModel, path: Path_) -> Iterator[tuple[Path_, str, object]]:
    """``(path, field name, value)`` of every field of ``model``, nested models included;
    an entry's ``spec`` sits under its kind's name, as in the YAML."""
    for name, info in type(model).model_fields.items():
        value = getattr(model, name)
        key = info.alias or name
        if name == "spec" and isinstance(kind := getattr(model, "kind", None), str):
            key = kind
        yield (*path, key), name, value
        if isinstance(value, BaseModel):
            yield from _fields(value, (*path, key))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, BaseModel):
                    yield from _fields(item, (*path, key, index))


def _instance_problems(parts: Parts) -> Iterator[Problem]:
    """An ``instance`` must be a copy the system runs: 0 .. instances - 1."""
    if parts.system is None:
        return
    count = parts.system.instances
    for root, model in parts.roots():
        if root == ("system",):
            continue
        for path, name, value in _fields(model, root):
            if name == "instance" and isinstance(value, int) and value >= count:
                copies = "only instance 0" if count == 1 else f"instances 0 to {count - 1}"
                yield Problem(
                    path,
                    f"instance {value} does not exist: system.instances is {count} ({copies})",
                )


# --------------------------------------------------------------------------- timing


def _seconds(value: float) -> str:
    return f"{value:g}s"


def _timing_problems(parts: Parts) -> Iterator[Problem]:
    """A trial must fit in its timeout: observation, the slowest settle, the stop grace."""
    if parts.timeout is None or parts.duration is None:
        return
    settles: Mapping[int, float] = {
        inv.index: value
        for inv in parts.invariants
        if isinstance(value := getattr(inv.spec, "settle", None), float)
    }
    slowest = max(settles.items(), key=lambda item: item[1], default=None)
    grace = parts.system.stop.grace if parts.system is not None else 0.0
    needed = parts.duration + (slowest[1] if slowest else 0.0) + grace
    if needed < parts.timeout:
        return
    pieces = [f"duration {_seconds(parts.duration)}"]
    if slowest:
        pieces.append(f"invariants[{slowest[0]}]'s settle {_seconds(slowest[1])}")
    if grace:
        pieces.append(f"the stop grace {_seconds(grace)}")
    where: Path_ = ("duration",)
    if "duration" not in parts.written and "timeout" in parts.written:
        where = ("timeout",)
    yield Problem(
        where,
        f"a trial needs at least {_seconds(needed)} ({' + '.join(pieces)}), but timeout is "
        f"{_seconds(parts.timeout)}, which also covers start-up and teardown: raise timeout "
        f"above {_seconds(needed)} or shorten the others",
    )
