"""The scenario as a typed, frozen model. Unknown fields are refused everywhere.

String fields may hold templates (``{port}``, ``{run_dir}``...); they stay strings here and
are resolved per trial and instance by ``harness.scenario.templates``. Fault and invariant
entries are validated against their registries, so adding a kind needs no change here.
"""

from __future__ import annotations

import signal as _signal
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BeforeValidator, Field, SerializeAsAny, model_validator

from harness.spec.base import Frozen
from harness.spec.http import HttpCall
from harness.spec.kinds import FaultSpec, InvariantSpec, ProbeSpec
from harness.spec.regex import Regex
from harness.spec.signals import Signal
from harness.spec.units import Duration, Rate


def _var_text(value: Any) -> Any:
    """``retries: 3`` is a var too: scalars become the text a template will insert."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if value is None:
        return ""
    return value


VarText = Annotated[str, BeforeValidator(_var_text)]


# --------------------------------------------------------------------------- system


class HttpReady(Frozen):
    url: str
    status: int = 200


def _port_or_template(value: Any) -> Any:
    text = str(value).strip() if isinstance(value, int | str) else value
    if isinstance(text, str) and (text.isdigit() or ("{" in text and "}" in text)):
        return text
    raise ValueError(f"expected a port number or a template such as '{{port}}', got {value!r}")


class TcpReady(Frozen):
    port: Annotated[str, BeforeValidator(_port_or_template)]
    host: str = "127.0.0.1"


class ReadySpec(Frozen):
    """The system is ready when every given check passes, before ``timeout``."""

    http: HttpReady | None = None
    tcp: TcpReady | None = None
    log: Regex | None = None
    file: str | None = None
    timeout: Duration = 10.0


class StopSpec(Frozen):
    """Graceful stop: ``signal`` to the root, wait ``grace``, then SIGKILL the whole tree."""

    signal: Signal = int(_signal.SIGTERM)
    grace: Duration = 5.0


class SystemSpec(Frozen):
    command: list[str]
    env: dict[str, str] = Field(default_factory=dict)
    cwd: str | None = None
    instances: Annotated[int, Field(ge=1, le=64)] = 1
    share: list[Literal["port", "run_dir"]] = Field(default_factory=list)
    start: Literal["together", "sequential"] = "together"
    """With instances > 1: launch all at once, or each after the previous one is ready (a
    user opening a second copy of an app that is already running)."""
    ready: ReadySpec = Field(default_factory=ReadySpec)
    stop: StopSpec = Field(default_factory=StopSpec)
    daemonizes: bool = False
    """The command starts the system and exits (nginx without ``daemon off``): the system is
    what it leaves running, the processes at its top are the roots; by default a root that
    exits before ready fails the trial at once."""


class RoleSpec(Frozen):
    """Names processes of the system's tree: the root, a command-line regex, an exe name."""

    root: bool = False
    cmdline: Regex | None = None
    exe: str | None = None
    count: Annotated[int, Field(ge=0)] | None = None


# --------------------------------------------------------------------------- traffic


class ProbeEntry(Frozen):
    """One named probe: a kind with its options (``http: {url...}``) and a cadence."""

    not_templates: ClassVar[frozenset[str]] = frozenset({"kind"})

    kind: str
    spec: SerializeAsAny[ProbeSpec]
    every: Duration = 0.1
    instance: int | None = None
    """Which instance to probe; ``None`` probes every instance."""


class WorkloadSpec(Frozen):
    not_templates: ClassVar[frozenset[str]] = frozenset({"name", "record"})

    name: str
    http: HttpCall
    rate: Rate
    record: str | None = None
    """Dotted path of a field of every acknowledged answer to remember (ledger ids)."""
    ok_status: list[int] | None = None
    """Statuses that count as success; default: any 2xx."""
    concurrency: Annotated[int, Field(ge=1, le=512)] = 64
    instance: int | None = None
    """Which instance to send to; ``None`` spreads requests round-robin over all."""


# --------------------------------------------------------------------------- faults


class OnSpawn(Frozen):
    not_templates: ClassVar[frozenset[str]] = frozenset({"role"})

    role: str
    nth: Annotated[int, Field(ge=1)] = 1
    instance: int | None = None


class FaultEntry(Frozen):
    """One line of the schedule: a trigger (exactly one of ``at``/``before``/``on_spawn``)
    and one fault kind with its options."""

    not_templates: ClassVar[frozenset[str]] = frozenset({"kind"})

    index: int
    kind: str
    spec: SerializeAsAny[FaultSpec]
    at: float | None = None
    before: Literal["start"] | None = None
    on_spawn: OnSpawn | None = None
    line: int | None = None

    @model_validator(mode="after")
    def _one_trigger(self) -> FaultEntry:
        given = [self.at is not None, self.before is not None, self.on_spawn is not None]
        if sum(given) != 1:
            raise ValueError("a fault needs exactly one trigger: at, before or on_spawn")
        return self


class InvariantEntry(Frozen):
    """One invariant: its kind and validated options."""

    not_templates: ClassVar[frozenset[str]] = frozenset({"kind"})

    index: int
    kind: str
    spec: SerializeAsAny[InvariantSpec]
    line: int | None = None


# --------------------------------------------------------------------------- the scenario


class Scenario(Frozen):
    """One scenario file, validated. Built by ``harness.scenario.loader.load_scenario``."""

    not_templates: ClassVar[frozenset[str]] = frozenset(
        {"name", "file", "description", "tags", "requires", "vars", "roles"}
    )
    """Fields that are never templates (see ``harness.scenario.templates``)."""

    name: str
    file: str = ""
    description: str = ""
    tags: list[str] = Field(default_factory=list)
    requires: list[str] = Field(default_factory=list)
    repeat: Annotated[int, Field(ge=1, le=10_000)] = 1
    timeout: Duration = 60.0
    vars: dict[str, VarText] = Field(default_factory=dict)
    system: SystemSpec
    roles: dict[str, RoleSpec] = Field(default_factory=dict)
    probes: dict[str, ProbeEntry] = Field(default_factory=dict)
    workload: list[WorkloadSpec] = Field(default_factory=list)
    faults: list[FaultEntry] = Field(default_factory=list)
    duration: Duration = 5.0
    invariants: list[InvariantEntry] = Field(default_factory=list)


__all__ = [
    "FaultEntry",
    "InvariantEntry",
    "OnSpawn",
    "ProbeEntry",
    "ReadySpec",
    "RoleSpec",
    "Scenario",
    "StopSpec",
    "SystemSpec",
    "WorkloadSpec",
]
