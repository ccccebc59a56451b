"""The bug profiles: each name switches on one incident's failure and nothing else."""

from __future__ import annotations

import os
from collections.abc import Iterable

BUGS: dict[str, str] = {
    "no-restart": "the backend is not restarted after it dies (Jan #4155)",
    "client-no-retry": "the gateway fails fast with 502 while the backend is down (Jan #4155)",
    "fixed-port": "every instance's backend uses port 29291 and start-up 'cleans up' by "
    "destroying whatever backend answers there (Jan #4565)",
    "shared-data": "instances share one data folder without a lock (Jan multi-instance)",
    "crash-on-unknown-id": "the daemon exits on a request for a missing dataflow or the config "
    "of a non-dynamic node (dora #628)",
    "exit-listener-removed": "a module that dies after registering is respawned silently with "
    "the old state: it never registers and its status stays ok (Companion #3258)",
    "stale-registration": "a respawned module is sent ordinary messages before its "
    "registration is answered: 'Call timed out' and a restart loop (Companion #3258)",
    "no-prune": "jobs of a dead worker stay claimed forever (SolidQueue #277)",
    "unbounded-requeue": "a job whose worker died is re-queued without limit, so a poison job "
    "crash-loops workers (SolidQueue #591)",
    "no-graceful-shutdown": "SIGTERM drops in-flight jobs: workers die at once and their jobs "
    "stay claimed (SolidQueue #568)",
    "orphans": "children outlive a killed supervisor (no parent-death signal, parent pipe "
    "EOF ignored)",
    "no-heartbeat-check": "a frozen child (SIGSTOP) is never detected nor replaced",
    "slow-restart": "every restart waits an extra second (a performance regression)",
    "no-backend-timeout": "the gateway waits for a slow backend with no timeout: the UI hangs "
    "instead of failing fast with 503 recovering",
    "drop-on-write-error": "a worker whose write of a finished job fails (disk full) drops "
    "the job and moves on: it stays claimed forever",
    "tick-drop": "with --restart-tick, a child that died less than half a tick before the "
    "check is taken for one being stopped and never restarted",
    "oom-clean-exit": "a worker killed by SIGKILL (what the kernel's OOM killer sends) is "
    "taken for a clean exit and never restarted",
}

ENV_VAR = "TESTBED_BUGS"


class UnknownBugError(ValueError):
    """A bug name that is not a known profile: the caller's mistake (exit 2)."""


def parse_bugs(text: str | None) -> frozenset[str]:
    """Split ``a,b`` into known bug names; refuse unknown ones with the list of known ones."""
    if not text:
        return frozenset()
    names = {part.strip() for part in text.split(",") if part.strip()}
    unknown = sorted(names - BUGS.keys())
    if unknown:
        raise UnknownBugError(
            f"unknown bug profile(s): {', '.join(unknown)}; known: {', '.join(BUGS)}"
        )
    return frozenset(names)


def enabled_bugs(cli_value: str | None, environ: dict[str, str] | None = None) -> frozenset[str]:
    """Bugs from ``--bugs`` and from ``TESTBED_BUGS``, united."""
    env = os.environ if environ is None else environ
    return parse_bugs(cli_value) | parse_bugs(env.get(ENV_VAR))


def describe(names: Iterable[str] | None = None) -> list[str]:
    """One ``name  description`` line per bug, in a stable order."""
    chosen = list(BUGS) if names is None else [n for n in BUGS if n in set(names)]
    return [f"{name}  {BUGS[name]}" for name in chosen]
