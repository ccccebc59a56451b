"""The scenario as a typed, frozen model. Unknown fields are refused everywhere.

String fields may hold templates (``{port}``, ``{run_dir}``...); they stay strings here and
are resolved per trial and instance by ``harness.scenario.templates``. Fault and invariant
entries are validated against their registries, so adding a kind needs no change here.
"""

from __future__ import annotations

import re
import signal as _signal
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    SerializeAsAny,
    field_validator,
    model_validator,
)

from harness.scenario.source import LineMap
from harness.spec.base import Frozen
from harness.spec.kinds import FaultSpec, InvariantSpec, ProbeSpec, WorkloadKindSpec
from harness.spec.loopback import is_loopback
from harness.spec.regex import Regex, names_pid
from harness.spec.signals import Signal
from harness.spec.sizes import Size
from harness.spec.units import Duration, Rate


def var_text(value: Any) -> Any:
    """``retries: 3`` is a var too: scalars become the text a template will insert."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if value is None:
        return ""
    return value


VarText = Annotated[str, BeforeValidator(var_text)]


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
    roles: dict[str, Annotated[int, Field(ge=1)]] = Field(default_factory=dict)
    """Role name → how many live processes of it the instance must have (pre-fork workers)."""
    timeout: Duration = 10.0


class StopSpec(Frozen):
    """Graceful stop: ``signal`` to the root, wait ``grace``, then SIGKILL the whole tree."""

    signal: Signal = int(_signal.SIGTERM)
    grace: Duration = 5.0


class ExpectExitSpec(Frozen):
    """The system must end on its own (refuse to start): its roots exit within ``within``."""

    within: Duration = 10.0


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
    expect_exit: ExpectExitSpec | None = None
    """The system is expected to exit (its port is taken, its config is bad): no readiness,
    the trial ends when every root has exited; the ``exit`` invariant judges how."""

    @field_validator("command")
    @classmethod
    def _a_program(cls, command: list[str]) -> list[str]:
        if not command:
            raise ValueError(
                "the command is empty; write the program and its arguments, such as [sleep, '10']"
            )
        return command

    @field_validator("env")
    @classmethod
    def _variable_names(cls, env: dict[str, str]) -> dict[str, str]:
        for name in env:
            if not name or "=" in name:
                raise ValueError(
                    f"{name!r} cannot be an environment variable name (empty, or with '=')"
                )
        return env


class RoleReadySpec(Frozen):
    """How one process of a role shows it is ready: a log line or a probe reading.

    The harness reads only the root's stdout/stderr, which children usually share, so a
    line cannot be told apart by who wrote it: a named group ``pid`` in ``log`` names the
    process a line is about. A probe reading names it with ``pid``, the dotted path of a
    pid in the reading (``*`` matches any key or index); ``path`` and ``equals``/``in`` are
    then read from the object that holds that pid (``modules.*.pid`` with ``path: state``
    reads ``modules.m0.state`` beside ``modules.m0.pid``). Without a pid, a line or reading
    counts for the oldest live process of the role not yet ready.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    log: Regex | None = None
    probe: str | None = None
    pid: str | None = None
    path: str = ""
    equals: Any = None
    in_: list[Any] | None = Field(default=None, alias="in")

    @model_validator(mode="after")
    def _one_source(self) -> RoleReadySpec:
        if (self.log is None) == (self.probe is None):
            raise ValueError("expected exactly one of log (a regex) or probe (a probe name)")
        reading = self.model_fields_set & {"pid", "path", "equals", "in_"}
        if self.log is not None and reading:
            names = ", ".join(sorted("in" if n == "in_" else n for n in reading))
            raise ValueError(
                f"{names}: for probe readings only; a log line names its process with a "
                "named group (?P<pid>...)"
            )
        return self

    @property
    def conditions(self) -> bool:
        """Whether ``equals`` or ``in`` was given (with a probe)."""
        return bool(self.model_fields_set & {"equals", "in_"})


class RoleSpec(Frozen):
    """Names processes of the system's tree: the root, a command-line regex, an exe name."""

    root: bool = False
    cmdline: Regex | None = None
    exe: str | None = None
    count: Annotated[int, Field(ge=0)] | None = None
    ready: RoleReadySpec | None = None
    """When one process of the role is ready (``recovers``' ``ready`` phase)."""
    forked_from: str | None = None
    """A child of a process of this role that has not exec'd: named the moment it is seen
    (a pre-fork worker keeps its master's command line for good)."""

    @model_validator(mode="after")
    def _forked_not_root(self) -> RoleSpec:
        if self.forked_from is not None and self.root:
            raise ValueError("a root is launched, never forked: give root or forked_from")
        return self


# --------------------------------------------------------------------------- proxies and disks

_RESOURCE_NAME = re.compile(r"[A-Za-z_][\w-]*")
_HOST_PORT = re.compile(r"^(?P<host>\[[^\]]*\]|[^:]*):(?P<port>[^:]+)$")


def _resource_name(value: str) -> str:
    if not _RESOURCE_NAME.fullmatch(value):
        raise ValueError(
            f"{value!r} cannot be used in a template such as {{proxy.NAME}}; "
            "use letters, digits, '_' and '-'"
        )
    return value


ResourceName = Annotated[str, AfterValidator(_resource_name)]


def _upstream(value: str) -> str:
    match = _HOST_PORT.match(value)
    if not match:
        raise ValueError(f"expected HOST:PORT such as '127.0.0.1:{{port.api}}', got {value!r}")
    host, port = match.group("host"), match.group("port")
    if "{" not in host and not is_loopback(host):
        raise ValueError(
            f"{host!r} is not a loopback address: a proxy only forwards to this machine"
        )
    if not (port.isdigit() or ("{" in port and "}" in port)):
        raise ValueError(f"expected a port number or a template after ':', got {port!r}")
    return value


def _listen_host(value: str) -> str:
    if not is_loopback(value):
        raise ValueError(f"a proxy listens on a loopback address only, got {value!r}")
    return value


class ProxySpec(Frozen):
    """``NAME: {upstream: "127.0.0.1:{port.api}"}``: a TCP proxy in the harness, listening
    on a free port ``{proxy.NAME}`` from before launch until teardown, forwarding every
    connection to ``upstream`` (a template resolved at each new connection)."""

    not_templates: ClassVar[frozenset[str]] = frozenset({"listen"})

    upstream: Annotated[str, AfterValidator(_upstream)]
    listen: Annotated[str, AfterValidator(_listen_host)] = "127.0.0.1"


class DiskSpec(Frozen):
    """``NAME: {size: 16MiB}``: a tmpfs of that size mounted on ``{disk.NAME}`` before the
    system starts, for the disk faults (``disk_full``, ``read_only``)."""

    size: Annotated[Size, Field(ge=1 << 16, le=4 << 30)]


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
    """One named workload: a kind with its options (``http: {url...}``, ``tcp``,
    ``command``), sent open loop at ``rate``; the kinds are a registry
    (``harness.workload.registry``), validated by the loader like probes."""

    not_templates: ClassVar[frozenset[str]] = frozenset({"name", "record", "kind"})

    name: str
    kind: str = "http"
    spec: SerializeAsAny[WorkloadKindSpec]
    rate: Rate
    record: str | None = None
    """Dotted path of a field of every acknowledged answer to remember (ledger ids)."""
    ok_status: list[int] | None = None
    """Statuses (HTTP statuses, exit codes) that count as success; default: the kind's."""
    concurrency: Annotated[int, Field(ge=1, le=512)] = 64
    instance: int | None = None
    """Which instance to send to; ``None`` spreads requests round-robin over all."""


# --------------------------------------------------------------------------- faults


class OnSpawn(Frozen):
    """``on_spawn: {role, nth: 1, instance?}``: when the nth process of ``role`` appears."""

    not_templates: ClassVar[frozenset[str]] = frozenset({"role"})

    role: str
    nth: Annotated[int, Field(ge=1)] = 1
    instance: int | None = None


class OnLog(Frozen):
    """``on_log: {pattern, nth: 1, instance?, role?}``: the nth line of the system's output
    that ``pattern`` matches (``re.search``).

    The harness reads the root's stdout/stderr, which children share, so a line cannot be
    told apart by who wrote it: a named group ``pid`` names the process a line is about.
    That process is then the fault's target (as the spawned one is for ``on_spawn``), and
    ``role`` counts only lines that name a live process of that role.
    """

    not_templates: ClassVar[frozenset[str]] = frozenset({"role"})

    pattern: Regex
    nth: Annotated[int, Field(ge=1)] = 1
    instance: int | None = None
    role: str | None = None

    @model_validator(mode="after")
    def _role_needs_a_pid(self) -> OnLog:
        if self.role is not None and not names_pid(self.pattern):
            raise ValueError(
                "role: a log line cannot be told apart by who wrote it; name its process "
                "with a named group (?P<pid>...) in pattern"
            )
        return self


class OnRequest(Frozen):
    """``on_request: {workload, nth: 1, acknowledged: false, instance?}``: when the nth ok
    answer of a workload is recorded; with ``acknowledged``, the nth answer that recorded
    an id (the workload's ``record``): the moment that id is acknowledged to the client."""

    not_templates: ClassVar[frozenset[str]] = frozenset({"workload"})

    workload: str
    nth: Annotated[int, Field(ge=1)] = 1
    acknowledged: bool = False
    instance: int | None = None


class OnProbe(Frozen):
    """``on_probe: {probe, path?, equals | in | matches | above | below, nth: 1, instance?}``:
    the nth ok reading of a probe whose value at ``path`` meets every condition given."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, populate_by_name=True)
    not_templates: ClassVar[frozenset[str]] = frozenset({"probe", "path", "equals", "in_"})

    probe: str
    path: str = ""
    equals: Any = None
    in_: list[Any] | None = Field(default=None, alias="in")
    matches: Regex | None = None
    above: float | None = None
    below: float | None = None
    nth: Annotated[int, Field(ge=1)] = 1
    instance: int | None = None

    @model_validator(mode="after")
    def _a_condition(self) -> OnProbe:
        if not self.model_fields_set & set(PROBE_CONDITIONS):
            raise ValueError(
                "expected at least one of equals, in, matches, above, below: "
                "the reading that fires the fault"
            )
        return self


PROBE_CONDITIONS = ("equals", "in_", "matches", "above", "below")
"""The fields of ``OnProbe`` that say which reading fires (``in_`` is written ``in``)."""


class PhasesSpec(Frozen):
    """``phases: {warmup, heal}``: the observation (``duration``) as a fault-free warm-up,
    a chaos phase (what is left), and a fault-free healing phase. Timed faults fire and
    event triggers count in the chaos phase only."""

    warmup: Duration = 0.0
    heal: Duration = 0.0


class FaultChoice(Frozen):
    """One fault of a ``mix``: a kind and its options."""

    not_templates: ClassVar[frozenset[str]] = frozenset({"kind"})

    kind: str
    spec: SerializeAsAny[FaultSpec]


EVENT_TRIGGERS = ("on_spawn", "on_log", "on_request", "on_probe")
"""Triggers that fire on a recorded event rather than at a time."""
MIX = "mix"
"""The kind of an entry that picks one of several faults per firing (``mix:``)."""


class FaultEntry(Frozen):
    """One line of the schedule: a trigger and one fault kind (or a ``mix``) with options.

    Triggers: ``at`` (after ready), ``every`` (a generator: from ``at``, ``count`` times or
    to the end of the chaos phase), ``before: start``, or an event (``on_spawn``,
    ``on_log``, ``on_request``, ``on_probe``). ``jitter`` moves each timed firing later by
    a uniform draw in ``[0, jitter)`` from the trial's seed.
    """

    not_templates: ClassVar[frozenset[str]] = frozenset({"kind"})

    index: int
    kind: str
    spec: SerializeAsAny[FaultSpec]
    at: float | None = None
    every: float | None = None
    count: Annotated[int, Field(ge=1, le=10_000)] | None = None
    jitter: float = 0.0
    before: Literal["start"] | None = None
    on_spawn: OnSpawn | None = None
    on_log: OnLog | None = None
    on_request: OnRequest | None = None
    on_probe: OnProbe | None = None
    mix: list[FaultChoice] | None = None
    line: int | None = None

    @model_validator(mode="after")
    def _one_trigger(self) -> FaultEntry:
        events = [getattr(self, name) is not None for name in EVENT_TRIGGERS]
        timed = self.at is not None or self.every is not None
        if sum([timed, self.before is not None, *events]) != 1:
            raise ValueError(
                "a fault needs exactly one trigger: at (and/or every), before, on_spawn, "
                "on_log, on_request or on_probe"
            )
        if self.jitter and not timed:
            raise ValueError("jitter applies to at and every only")
        if self.count is not None and self.every is None:
            raise ValueError("count applies to every only")
        if (self.kind == MIX) != (self.mix is not None):
            raise ValueError("a mix entry has kind 'mix' and a list of choices")
        return self

    @property
    def choices(self) -> list[FaultChoice]:
        """The faults this entry may fire: its own kind, or each one of its ``mix``."""
        if self.mix is not None:
            return list(self.mix)
        return [FaultChoice(kind=self.kind, spec=self.spec)]

    @property
    def trigger(self) -> str:
        """The name of its trigger as written: ``at``, ``every``, ``before``, ``on_log``..."""
        if self.every is not None:
            return "every"
        if self.at is not None:
            return "at"
        if self.before is not None:
            return "before"
        return next(name for name in EVENT_TRIGGERS if getattr(self, name) is not None)


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
        {"name", "file", "description", "tags", "requires", "vars", "roles", "expect", "reason"}
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
    proxies: dict[ResourceName, ProxySpec] = Field(default_factory=dict)
    disks: dict[ResourceName, DiskSpec] = Field(default_factory=dict)
    probes: dict[str, ProbeEntry] = Field(default_factory=dict)
    workload: list[WorkloadSpec] = Field(default_factory=list)
    faults: list[FaultEntry] = Field(default_factory=list)
    duration: Duration = 5.0
    phases: PhasesSpec | None = None
    """A fault-free warm-up and healing phase around the chaos phase (``harness.schedule``)."""
    invariants: list[InvariantEntry] = Field(default_factory=list)
    expect: Literal["pass", "fail"] = "pass"
    """``fail``: a known weakness; its failed trials are ``xfail``, a pass is ``xpass``."""
    reason: str = ""
    """Why the scenario is expected to fail (required with ``expect: fail``)."""

    _lines: LineMap | None = PrivateAttr(default=None)
    """Where each field is in the file (set by the loader)."""
    _source: Any = PrivateAttr(default=None)
    """What the loader needs to validate the file again with other vars (``--var``,
    ``chaos matrix``): templated durations and targets depend on them."""

    @model_validator(mode="after")
    def _a_failure_says_why(self) -> Scenario:
        if self.expect == "fail" and not self.reason.strip():
            raise ValueError(
                "expect: fail needs a reason: say what is known to break, e.g. reason: "
                "'workers are orphaned when the master is killed'"
            )
        if self.expect == "pass" and self.reason:
            raise ValueError("reason: only says why a scenario has expect: fail; remove it")
        return self

    @property
    def expected_failure(self) -> str | None:
        """The reason of ``expect: fail``; ``None`` when the scenario is expected to pass."""
        return self.reason.strip() if self.expect == "fail" else None

    def line_of(self, *path: str | int) -> int | None:
        """The 1-based line of a field in the scenario's file (``line_of("requires")``);
        the top of the file for a field it does not write; ``None`` without a file."""
        if self._lines is None:
            return None
        return self._lines.line_of(tuple(path))


__all__ = [
    "DiskSpec",
    "ExpectExitSpec",
    "FaultChoice",
    "FaultEntry",
    "InvariantEntry",
    "OnLog",
    "OnProbe",
    "OnRequest",
    "OnSpawn",
    "PhasesSpec",
    "ProbeEntry",
    "ProxySpec",
    "ReadySpec",
    "RoleReadySpec",
    "RoleSpec",
    "Scenario",
    "StopSpec",
    "SystemSpec",
    "WorkloadSpec",
]
