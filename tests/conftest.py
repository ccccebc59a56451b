"""Suite-wide guards: nothing a test starts may outlive it.

After every test: no child process of this pytest process is left (alive or zombie), no
``chaos-`` temp folder it created remains, no disk it mounted (a ``chaos-disk-`` tmpfs of
this process) is still mounted, and no proxy loop thread (``chaos-proxy``) it started is
still running. A leak fails the test that caused it.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from hypothesis import HealthCheck, settings
from support import WaitTimeout, wait_until

from harness.disks.mounts import mount_table, source_name, unmount_owned_by

TMP_PREFIX = "chaos-"

# Property tests judge correctness, not speed: on 2 shared, noisy cores one example can
# take longer than hypothesis's 200 ms deadline for reasons that are not the code's.
# Speed is measured in bench/. The example count stays hypothesis's default.
settings.register_profile(
    "chaos", deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=False
)
settings.load_profile("chaos")
_PRIVATE_TMP: list[Path] = []


def pytest_configure(config: pytest.Config) -> None:
    """Give this pytest process (each xdist worker too) its own temp root.

    Everything the tests and the systems they start put in the temp folder lands there, so
    the leak check below sees only what this process made, never another run's folders.
    """
    root = Path(tempfile.mkdtemp(prefix="pytest-chaos-tmp-"))
    _PRIVATE_TMP.append(root)
    os.environ["TMPDIR"] = str(root)
    tempfile.tempdir = str(root)


def pytest_unconfigure(config: pytest.Config) -> None:
    import shutil

    for root in _PRIVATE_TMP:
        shutil.rmtree(root, ignore_errors=True)


def _children() -> list[psutil.Process]:
    try:
        return psutil.Process(os.getpid()).children(recursive=True)
    except psutil.Error:
        return []


def _chaos_tmp() -> set[str]:
    root = Path(tempfile.gettempdir())
    return {p.name for p in root.glob(f"{TMP_PREFIX}*")}


def _proxy_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name == "chaos-proxy"}


def _our_mounts() -> set[str]:
    ours = source_name()
    return {m.point for m in mount_table() if m.source == ours}


def _describe(proc: psutil.Process) -> str:
    try:
        return f"{proc.pid} {' '.join(proc.cmdline())[:120]!r} ({proc.status()})"
    except psutil.Error:
        return str(proc.pid)


@pytest.fixture(autouse=True)
def no_leaks() -> Iterator[None]:
    """Fail a test that leaves processes or chaos temp folders behind."""
    before_procs = {p.pid for p in _children()}
    before_tmp = _chaos_tmp()
    before_mounts = _our_mounts()
    before_proxies = _proxy_threads()
    yield

    def leaked_now() -> list[psutil.Process]:
        return [p for p in _children() if p.pid not in before_procs and _alive(p)]

    # Processes may be finishing their exit: wait for that, then report what is left.
    with contextlib.suppress(WaitTimeout):
        wait_until(
            lambda: not leaked_now(), what="its processes to exit", timeout=10.0, interval=0.05
        )
    leaked = leaked_now()
    new_tmp = _chaos_tmp() - before_tmp
    # Described before the kill: a killed process is a zombie, and a zombie has no cmdline.
    problems = [f"process {_describe(p)}" for p in leaked]
    for proc in leaked:
        with contextlib.suppress(psutil.Error):
            proc.kill()
    new_mounts = _our_mounts() - before_mounts
    if new_mounts:
        unmount_owned_by(os.getpid())
    problems += [f"mount {point}" for point in sorted(new_mounts)]
    problems += [f"proxy thread {t.ident}" for t in _proxy_threads() - before_proxies]
    problems += [f"temp folder {name}" for name in sorted(new_tmp)]
    if problems:
        pytest.fail("test leaked: " + "; ".join(problems), pytrace=False)


def _alive(proc: psutil.Process) -> bool:
    try:
        if proc.status() == psutil.STATUS_ZOMBIE:
            # A zombie child of ours is a leak too, unless it is reaped now.
            with contextlib.suppress(ChildProcessError):
                os.waitpid(proc.pid, os.WNOHANG)
            return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
        return True
    except psutil.Error:
        return False
