"""The supervisor's options: one frozen record built by the CLI."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

FIXED_BACKEND_PORT = 29291
"""The fixed-port bug's one backend port (Jan's was 39291). Below the kernel's ephemeral
range (32768-60999), so no free port handed out to another system can ever be it."""


@dataclass(frozen=True)
class Options:
    """Everything a supervisor run is configured with."""

    port: int
    data_dir: Path
    bugs: frozenset[str] = frozenset()
    modules: int = 2
    workers: int = 2
    instance_id: str = "testbed"
    beat_s: float = 1.0
    threshold_s: float = 3.0
    register_timeout_s: float = 2.0
    grace_s: float = 5.0
    job_mib: int = 0
    """MiB every job allocates (and writes) while it runs: work whose memory a limit meets."""
    retry_window_s: float = 5.0
    max_restarts: int = 5
    restart_window_s: float = 30.0
    backoff_base_s: float = 0.1
    backoff_cap_s: float = 5.0
    vars_interval_s: float = 2.0
    canary_ms: float = 50.0
    backend_port: int = FIXED_BACKEND_PORT
    reap_poll_s: float = 0.0
    """0: a child's exit wakes the supervisor at once; else exits are noticed on a poll loop
    of this period (uvicorn's is 0.5 s)."""
    restart_tick_s: float = 0.0
    """0: a dead child is restarted as the policy says (at once); else only at ticks of
    this period counted from the moment the supervisor announced ready (circus's checks)."""
    backend_bind: int = 0
    """The port the (fixed) backend listens on (0: any free one, reported to the
    supervisor). The fixed-port bug uses ``backend_port`` instead."""
    backend_address: str = ""
    """``HOST:PORT`` the gateway calls the backend at instead of the port it reported:
    a proxy in front of it. Empty: the backend's own port on 127.0.0.1."""

    def bug(self, name: str) -> bool:
        """Is this bug profile on?"""
        return name in self.bugs
