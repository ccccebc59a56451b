"""Pre-fork servers: workers forked without exec are named at once (``forked_from``).

gunicorn's sync workers, nginx, postgres and celery prefork fork children that never exec,
so the children keep the master's command line. A ``forked_from`` role names such a child
the moment it is seen, so a kill 500 ms after ready finds a worker, with /proc scans as
with kernel process events; ``ready: {roles: {worker: 3}}`` waits until all are up.
"""

from __future__ import annotations

import pytest
from e2e_support import Chaos, only_trial

pytestmark = pytest.mark.e2e

PREFORK = """\
    name: {name}
    timeout: 30s
    system:
      command: ["{{python}}", "{{SYSTEMS}}/prefork.py", --port, "{{port}}", --workers, "3"]
      ready: {ready}
      stop: {{grace: 3s}}
    roles:
      master: {{root: true}}
      worker: {{forked_from: master, count: 3}}
    faults:
      - at: 500ms
        kill: {{role: worker, signal: SIGKILL}}
    duration: 2s
    invariants:
      - recovers: {{role: worker, within: 1s}}
      - alive: {{role: master}}
"""


@pytest.mark.parametrize("source", ["netlink", "scan"])
def test_kill_at_500ms_finds_a_forked_worker(chaos: Chaos, source: str) -> None:
    chaos.extra_env["CHAOS_PROCESS_EVENTS"] = "auto" if source == "netlink" else "scan"
    path = chaos.scenario(
        "prefork.yaml",
        PREFORK.format(name="prefork-kill", ready="{tcp: {port: '{port}'}, timeout: 20s}"),
    )

    result = chaos.run("run", path)

    assert result.returncode == 0, result
    trial = only_trial(chaos.home)
    kills = [e for e in trial["events"] if e["type"] == "fault" and e.get("kind") == "kill"]
    assert [k["phase"] for k in kills] == ["instant"], kills
    starts = [e for e in trial["events"] if e["type"] == "process_start"]
    workers = [s for s in starts if s["role"] == "worker"]
    assert len(workers) == 4, starts  # three, and the one forked again after the kill
    master = next(s for s in starts if s["root"])
    assert all(w["ppid"] == master["pid"] for w in workers)
    assert all(w["cmdline"] == master["cmdline"] for w in workers)  # never exec'd


def test_ready_waits_for_role_counts(chaos: Chaos) -> None:
    path = chaos.scenario(
        "counts.yaml",
        PREFORK.format(name="prefork-counts", ready="{roles: {worker: 3}, timeout: 20s}"),
    )

    result = chaos.run("run", path)

    assert result.returncode == 0, result
    trial = only_trial(chaos.home)
    ready = next(e for e in trial["events"] if e["type"] == "ready")
    workers = [e for e in trial["events"] if e["type"] == "process_start" and e["role"] == "worker"]
    assert len([w for w in workers if w["t"] <= ready["t"]]) == 3, (ready, workers)


def test_ready_with_a_count_never_reached_says_how_many(chaos: Chaos) -> None:
    path = chaos.scenario(
        "short.yaml",
        PREFORK.format(name="prefork-short", ready="{roles: {worker: 4}, timeout: 2s}"),
    )

    result = chaos.run("run", path)

    assert result.returncode == 1, result
    assert "roles: worker 3 of 4 live" in result.stdout, result


def test_a_role_that_matches_nothing_lists_what_was_seen(chaos: Chaos) -> None:
    text = PREFORK.format(name="prefork-typo", ready="{tcp: {port: '{port}'}, timeout: 20s}")
    path = chaos.scenario(
        "typo.yaml", text.replace("{forked_from: master, count: 3}", "{cmdline: gunicorn}")
    )

    result = chaos.run("run", path)

    assert result.returncode == 1, result
    assert "no live process of role 'worker'; seen without a role: pid " in result.stdout, result
    assert "systems/prefork.py" in result.stdout, result
