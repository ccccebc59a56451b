"""The supervisors measured side by side, each running the same worker, as a scenario.

The worker is the testbed's backend (``harness/testbed/backend.py``): ``python -S -m
harness.testbed.backend --port PORT``, an HTTP server answering ``GET /health`` with its
pid. supervisord, circus and the floor run it standalone (the same command line, the same
interpreter, ``PYTHONPATH`` the repository), and it prints ``pid N ready on
127.0.0.1:PORT`` on stderr once it listens; the testbed supervisor runs it natively, over
its channel, and prints ``backend pid N ready (t=...)`` when the backend's ready message
arrives (right after its ``listen``). Ready, for the harness, is that line (``READY``),
naming the new pid.

One exception: the testbed supervises a single backend, so its 50-children rows run 50
testbed modules (``--modules 50``; ready: registered over IPC), beside a floor of the same
50 modules (``floor-modules``). Every ratio is against a floor running the same worker.

Each contender writes its own configuration into the bench's temporary folder; nothing is
installed or left anywhere else.
"""

from __future__ import annotations

import shutil
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
PYTHON = sys.executable

READY = r"pid (?P<pid>\d+) ready\b"
"""The ready line of every worker, attributed to its pid (the harness's ``roles.R.ready``)."""

BACKEND = r"harness\.testbed\.backend"
MODULE = r"harness\.testbed\.module"

RAISED_RESTARTS = "100000"
"""The testbed gives up after 5 deaths in 30 s (its crash-loop rule); the kill series kill
it 20 times in a minute from outside, so those runs raise the limit. The crash-loop row runs
its defaults."""


def worker_argv(port: int, name: str) -> list[str]:
    """The one worker command line every contender is given."""
    return [PYTHON, "-S", "-m", "harness.testbed.backend", "--port", str(port), "--name", name]


def names(ports: list[int]) -> list[str]:
    return [f"w{i:02d}" for i in range(len(ports))]


@dataclass(frozen=True)
class Setup:
    """What one session runs: backends on these ports, or (``modules``) testbed modules."""

    ports: tuple[int, ...] = ()
    modules: int = 0
    crash_loop: bool = False
    """Run with the contender's defaults for giving up (the testbed's restart limit)."""

    @property
    def count(self) -> int:
        return self.modules or len(self.ports)


@dataclass(frozen=True)
class Contender:
    """One supervisor and configuration."""

    key: str
    label: str
    family: str
    """``floor``, ``testbed``, ``supervisord`` or ``circus``."""
    tuning: str = ""
    """What differs from the supervisor's defaults (besides output and file locations)."""
    period_s: float = 0.0
    """Its own check loop (0: event-driven): kills are paced at a random phase of it."""
    modules: bool = False
    """Runs testbed modules (fleet rows only): the floor for the testbed's 50 children."""

    def missing(self) -> str | None:
        """Why this contender cannot run here (its program not installed), or None."""
        program = {"supervisord": "supervisord", "circus": "circusd"}.get(self.family)
        if program is None or executable(program) is not None:
            return None
        return f"{program} not found (pip install -e '.[bench]')"

    def scenario(self, folder: Path, setup: Setup) -> dict[str, Any]:
        """The scenario mapping of this contender running ``setup``, configs in ``folder``."""
        folder.mkdir(parents=True, exist_ok=True)
        worker = MODULE if setup.modules else BACKEND
        roles: dict[str, Any] = {"supervisor": {"root": True}}
        ready_line = READY
        if self.family == "testbed":
            command = testbed(folder, setup)
            ready_line = r"listening on http://127\.0\.0\.1:(?P<port>\d+)"
            if setup.modules:
                roles["backend"] = {"cmdline": BACKEND, "count": 1}
        elif self.family == "floor":
            what = ["module", str(setup.modules)] if setup.modules else ["backend"]
            command = [PYTHON, "-S", "-m", "bench.floor", *what, *map(str, setup.ports)]
        elif self.family == "supervisord":
            command = supervisord(folder, setup, startsecs0="startsecs" in self.tuning)
        else:
            command = circus(folder, setup, check_delay=self.period_s)
        roles["worker"] = {"cmdline": worker, "count": setup.count, "ready": {"log": READY}}
        return {
            "name": f"bench-{self.key}",
            "timeout": "2h",
            "system": {
                "command": command,
                "cwd": str(REPO),
                "env": {"PYTHONPATH": str(REPO)},
                "ready": {"log": ready_line, "timeout": "60s"},
                "stop": {"signal": "SIGTERM", "grace": "10s"},
            },
            "roles": roles,
        }


def executable(program: str) -> str | None:
    """``program`` beside the running interpreter (the venv's bin), else on PATH."""
    return shutil.which(program, path=str(Path(PYTHON).parent)) or shutil.which(program)


# --------------------------------------------------------------------------- configurations


def testbed(folder: Path, setup: Setup) -> list[str]:
    args = [PYTHON, "-m", "harness.testbed", "--port", "0", "--data-dir", str(folder / "data")]
    args += ["--workers", "0", "--modules", str(setup.modules)]
    if setup.ports:
        (port,) = setup.ports
        args += ["--backend-port", str(port)]
    if not setup.crash_loop:
        args += ["--max-restarts", RAISED_RESTARTS]
    return args


def supervisord(folder: Path, setup: Setup, *, startsecs0: bool) -> list[str]:
    """supervisord in the foreground; each worker a program whose output goes to
    supervisord's stdout (read by the harness), everything else supervisord's default."""
    lines = [
        "[supervisord]",
        "nodaemon=true",
        f"logfile={folder / 'supervisord.log'}",
        f"pidfile={folder / 'supervisord.pid'}",
        f"childlogdir={folder}",
    ]
    for name, port in zip(names(list(setup.ports)), setup.ports, strict=True):
        lines += [
            "",
            f"[program:{name}]",
            "command=" + " ".join(worker_argv(port, name)),
            f"directory={REPO}",
            f'environment=PYTHONPATH="{REPO}"',
            "redirect_stderr=true",
            "stdout_logfile=/dev/stdout",
            "stdout_logfile_maxbytes=0",
        ]
        if startsecs0:
            lines.append("startsecs=0")
    conf = folder / "supervisord.conf"
    conf.write_text("\n".join(lines) + "\n")
    program = executable("supervisord") or "supervisord"
    return [program, "-n", "-c", str(conf)]


def circus(folder: Path, setup: Setup, *, check_delay: float) -> list[str]:
    """circusd; one watcher per worker, output streamed to circusd's stdout, statsd off (its
    default). ``check_delay`` 5 is circus's own default. Its control sockets are abstract
    unix sockets with a name of their own (``ipc://@...``): no TCP port shared with anything
    (its default is 127.0.0.1:5555), no path-length limit, nothing left when it ends."""
    tag = f"chaos-bench-{uuid.uuid4().hex[:12]}"
    lines = [
        "[circus]",
        f"check_delay = {check_delay:g}",
        f"endpoint = ipc://@{tag}-control",
        f"pubsub_endpoint = ipc://@{tag}-pubsub",
    ]
    for name, port in zip(names(list(setup.ports)), setup.ports, strict=True):
        argv = worker_argv(port, name)
        lines += [
            "",
            f"[watcher:{name}]",
            f"cmd = {argv[0]}",
            "args = " + " ".join(argv[1:]),
            f"working_dir = {REPO}",
            "copy_env = true",
            "stdout_stream.class = StdoutStream",
            "stderr_stream.class = StdoutStream",
            "",
            f"[env:{name}]",
            f"PYTHONPATH = {REPO}",
        ]
    ini = folder / "circus.ini"
    ini.write_text("\n".join(lines) + "\n")
    return [executable("circusd") or "circusd", str(ini)]


CONTENDERS: tuple[Contender, ...] = (
    Contender("floor", "floor: bare respawn", "floor", "pidfd wake-up, respawn at once"),
    Contender("testbed", "testbed", "testbed"),
    Contender("supervisord", "supervisord", "supervisord", period_s=1.0),
    Contender(
        "supervisord-startsecs0", "supervisord, startsecs=0", "supervisord", "startsecs=0", 1.0
    ),
    Contender("circus", "circus", "circus", period_s=5.0),
    Contender("circus-0.1", "circus, check_delay 0.1", "circus", "check_delay = 0.1", 0.1),
    Contender(
        "floor-modules",
        "floor: bare respawn, modules",
        "floor",
        "50 testbed modules with their handshake",
        modules=True,
    ),
)
