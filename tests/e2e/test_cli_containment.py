"""Containment as a user meets it: nothing a run starts outlives it, even a killed run.

With the host's containment (a cgroup per trial, kernel events, here) and with the
fallback forced by the switches (subreaper + marker, /proc scans): a harness SIGKILLed
mid-trial leaves nothing of the system alive 5 s later with no other run started (its
guardian ends it), and what survives anyway (the guardian killed too) is ended by the next
run, which says so. A root that daemonizes fails at once unless the scenario says so.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import psutil
import pytest
from e2e_support import RUN_DEADLINE, Chaos, only_trial, read_journal, supervisor_scenario
from support import WaitTimeout, wait_until

from harness.system import host
from harness.system.marker import read_marker

pytestmark = pytest.mark.e2e

FALLBACK = {host.CONTAINMENT_ENV: "marker", host.EVENTS_ENV: "scan"}
HIDING = """\
    name: hiding
    timeout: 120s
    system:
      command: ["{python}", "{SYSTEMS}/scrubbed_daemon.py", --port, "{port}", --pidfile, "PIDFILE"]
      ready: {log: 'daemon listening', timeout: 20s}
      stop: {signal: SIGTERM, grace: 1s}
    roles:
      root: {root: true}
      daemon: {cmdline: '--hide'}
    duration: 90s
    """
MARKED = """\
    name: marked
    timeout: 120s
    system:
      command: [sh, -c, "{python} {SYSTEMS}/../../integration/programs/daemonize.py > PIDFILE.log; \
sed -n 's/daemon //p' PIDFILE.log > PIDFILE.tmp && mv PIDFILE.tmp PIDFILE; exec sleep 300"]
      ready: {file: PIDFILE, timeout: 20s}
    duration: 90s
    """


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def start_hiding_run(chaos: Chaos, text: str = HIDING) -> tuple[subprocess.Popen[str], int]:
    """Start a run whose system hides a daemon; return it and the daemon's pid once up."""
    pidfile = chaos.home / "daemon.pid"
    chaos.extra_env.setdefault("PYTHONFAULTHANDLER", "1")  # SIGABRT dumps every thread
    proc = chaos.start("run", chaos.scenario("hiding.yaml", text.replace("PIDFILE", str(pidfile))))

    def written() -> bool:
        if proc.poll() is not None:
            pytest.fail(f"chaos ended before its daemon was up:\n{chaos.finish(proc)}")
        return pidfile.exists() and bool(pidfile.read_text().strip())

    try:
        # A chaos that starts as the suite does may take long to import on a loaded machine.
        wait_until(written, what="the daemon's pid", timeout=RUN_DEADLINE)
    except WaitTimeout:
        groups = chaos.run_cgroups()
        states = [_describe(pid) for group in groups for pid in group.pids()]
        proc.send_signal(signal.SIGABRT)
        pytest.fail(
            f"no daemon pid; run cgroups {[g.path.name for g in groups]} hold {states}\n"
            f"{chaos.finish(proc)}"
        )
    return proc, int(pidfile.read_text())


def _describe(pid: int) -> str:
    try:
        each = psutil.Process(pid)
        return f"{pid} {each.status()} {' '.join(each.cmdline())[:100]}"
    except psutil.Error:
        return f"{pid} gone"


def system_of(chaos: Chaos, proc: subprocess.Popen[str]) -> list[int]:
    """Everything the run started: its cgroups' processes, else its marked processes."""
    pids = [pid for group in chaos.run_cgroups() for pid in group.pids()]
    return pids or chaos.marked_processes()


def test_a_sigkilled_harness_leaves_nothing_of_the_system_alive_5s_later(chaos: Chaos) -> None:
    proc, daemon = start_hiding_run(chaos)
    assert read_marker(daemon) is None, "the daemon scrubbed its environment"
    system = system_of(chaos, proc)
    assert daemon in system
    (group,) = chaos.run_cgroups()
    killed_at = time.monotonic()

    proc.kill()
    assert chaos.finish(proc).returncode == -signal.SIGKILL

    wait_until(
        lambda: not any(alive(pid) for pid in system),
        what="the guardian to end the system",
        timeout=5.0,
        interval=0.02,
    )
    wait_until(lambda: not group.path.exists(), what="the run's cgroup removed", timeout=5.0)
    ended_in = time.monotonic() - killed_at
    assert ended_in < 5.0
    assert not any(listening(c.laddr.port) for c in _ports_of(daemon)), "no port kept"


def _is_guardian(proc: psutil.Process) -> bool:
    try:
        return "guardian.py" in " ".join(proc.cmdline())
    except psutil.Error:  # a zombie child (an orphan not reaped yet), or gone
        return False


def _ports_of(pid: int) -> list[psutil._common.sconn]:
    return [c for c in psutil.net_connections("tcp") if c.pid == pid]


def test_the_fallback_guardian_ends_marked_processes_of_a_killed_harness(chaos: Chaos) -> None:
    chaos.extra_env.update(FALLBACK)
    proc, daemon = start_hiding_run(chaos, MARKED)
    assert read_marker(daemon) is not None, "in the fallback only the marker can find it"
    assert not chaos.run_cgroups(), "no cgroup: the marker fallback"
    system = chaos.marked_processes()
    assert daemon in system

    proc.kill()
    chaos.finish(proc)

    wait_until(
        lambda: not any(alive(pid) for pid in system),
        what="the guardian to end the marked processes",
        timeout=5.0,
        interval=0.02,
    )


def test_what_survives_harness_and_guardian_is_ended_by_the_next_run_which_says_so(
    chaos: Chaos,
) -> None:
    # A parent cgroup of this test's own: a run of a test beside it (xdist) would otherwise
    # end these leftovers first, and say so in its own output.
    chaos.extra_env[host.PARENT_ENV] = f"chaos-test-{os.getpid()}-{time.monotonic_ns()}"
    proc, daemon = start_hiding_run(chaos)
    (guardian,) = [c for c in psutil.Process(proc.pid).children() if _is_guardian(c)]
    (group,) = chaos.run_cgroups()
    assert group.path.parent.name == chaos.extra_env[host.PARENT_ENV]
    guardian.kill()
    proc.kill()
    chaos.finish(proc)
    guardian.wait(10)
    assert alive(daemon), "nothing left to end it"

    small = chaos.scenario("small.yaml", supervisor_scenario("small", duration="1500ms"))
    result = chaos.run("run", small, "--out", "next")

    assert result.returncode == 0, result
    assert not alive(daemon)
    assert not group.path.exists()
    said = [line for line in result.stdout.splitlines() if "left by an earlier run" in line]
    assert len(said) == 1, result
    assert f"{group.path.parent.name}/{group.name}" in said[0]
    assert "ended" in said[0]
    assert str(daemon) in said[0]
    leftovers = read_journal(chaos.home / "next" / "journal.json")["harness"]["leftovers"]
    assert any(str(daemon) in line for line in leftovers)
    assert not group.path.parent.exists(), "the emptied parent is removed too"


# ---------------------------------------------------------------------- daemonizing roots

SERVER = """\
    name: server
    timeout: 30s
    system:
      command: ["{python}", "{SYSTEMS}/daemon_server.py", --port, "{port}"ARGS]
      ready: {http: {url: "http://127.0.0.1:{port}/"}, timeout: 10s}
      stop: {signal: SIGTERM, grace: 3s}DAEMONIZES
    roles:
      master: {root: true}
    duration: 500ms
    invariants:
      - alive: {role: master}
      - no_orphans: {within: 1s}
    """


def server(chaos: Chaos, *, daemonizes: bool | None, args: str = "") -> Path:
    text = SERVER.replace("ARGS", args)
    text = text.replace(
        "DAEMONIZES", "" if daemonizes is None else f"\n      daemonizes: {str(daemonizes).lower()}"
    )
    return chaos.scenario("server.yaml", text)


def test_a_root_that_daemonizes_unannounced_fails_at_once_naming_what_it_left(
    chaos: Chaos,
) -> None:
    result = chaos.run("run", server(chaos, daemonizes=None))
    assert result.returncode == 1, result
    trial = only_trial(chaos.home)
    # At once: judged on the trial's own clock, the root's exit to "not ready", well inside
    # the 10 s readiness timeout (wall time would also count a loaded machine's start-up).
    [root] = [e for e in trial["events"] if e["type"] == "process_start" and e["root"]]
    [exit_] = [
        e for e in trial["events"] if e["type"] == "process_exit" and e["pid"] == root["pid"]
    ]
    [not_ready] = [e for e in trial["events"] if e["type"] == "not_ready"]
    assert not_ready["t"] - exit_["t"] < 5.0, "not after the ready timeout"
    assert "exited with code 0 before it was ready" in trial["error"]
    assert "it left running:" in trial["error"]
    assert "daemon_server.py" in trial["error"]
    assert "system.daemonizes: true" in trial["error"]


def test_a_root_that_daemonizes_on_purpose_hands_over_to_its_daemon(chaos: Chaos) -> None:
    result = chaos.run("run", server(chaos, daemonizes=True))
    assert result.returncode == 0, result
    trial = only_trial(chaos.home)
    (launched,) = [e for e in trial["events"] if e["type"] == "system_start"]
    starts = {e["pid"]: e for e in trial["events"] if e["type"] == "process_start"}
    launcher = starts[launched["pid"]]
    assert not launcher["root"], "the launcher is no root: it exits by design"
    assert launcher["role"] is None, "so a root: true role never names it"
    (master,) = [s for s in starts.values() if s["root"]]
    assert master["role"] == "master"
    # Its parent as first seen: the launcher, or the harness it was re-parented to.
    assert master["ppid"] in {launcher["pid"], *chaos.harnesses}
    assert master["pid"] != launcher["pid"], "the daemon it forked is the root"
    workers = [s for s in starts.values() if s["ppid"] == master["pid"]]
    assert len(workers) == 2
    assert not any(w["root"] for w in workers)
    stops = [e for e in trial["events"] if e["type"] == "teardown" and e["action"] == "stop"]
    assert [s["pid"] for s in stops] == [master["pid"]], "the daemon gets the stop signal"
    assert not [e for e in trial["events"] if e["type"] == "teardown" and e["action"] != "stop"]


def test_a_daemonizing_launcher_that_fails_fails_the_trial_at_once(chaos: Chaos) -> None:
    result = chaos.run("run", server(chaos, daemonizes=True, args=', --exit-code, "1"'))
    assert result.returncode == 1, result
    trial = only_trial(chaos.home)
    assert "its launcher exited with code 1" in trial["error"]


# ---------------------------------------------------------------------- what a run says


@pytest.mark.parametrize(
    ("env", "mode", "source"),
    [({}, "cgroup", "netlink"), (FALLBACK, "marker", "scan")],
    ids=["host", "fallback"],
)
def test_the_header_and_the_journal_say_what_the_run_used(
    chaos: Chaos, env: dict[str, str], mode: str, source: str
) -> None:
    if mode == "cgroup":
        try:
            host.containment({host.CONTAINMENT_ENV: "cgroup"})
            host.process_events({host.EVENTS_ENV: "netlink"})
        except Exception as exc:
            pytest.skip(f"this host cannot: {exc}")
    chaos.extra_env.update(env)
    small = chaos.scenario("small.yaml", supervisor_scenario("small", duration="1500ms"))
    result = chaos.run("run", small)
    assert result.returncode == 0, result
    header = result.stdout.splitlines()[0]
    assert header.startswith("host: containment ")
    assert ("marker + subreaper" in header) == (mode == "marker")
    assert ("/proc scans" in header) == (source == "scan")
    harness = read_journal(chaos.home / "reports" / "journal.json")["harness"]
    assert harness["containment"]["mode"] == mode
    assert harness["process_events"]["source"] == source


def test_doctor_says_what_the_host_allows(chaos: Chaos) -> None:
    result = chaos.run("doctor")
    assert result.returncode == 0, result
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines[:3]] == ["cgroup", "process", "pidfd"]
    assert lines[3].startswith("a run uses: containment ")
    chaos.extra_env[host.CONTAINMENT_ENV] = "jail"
    refused = chaos.run("doctor")
    assert refused.returncode == 2
    assert "CHAOS_CONTAINMENT must be one of auto, cgroup, marker" in refused.stderr
