"""Reports on a full disk: verdicts first, every report tried, every failure named, exit 3,
and never a stale journal left where this run's should be.

The disk is a real tmpfs of 256 KiB that the test mounts (as root) and fills up; where it
cannot be mounted the tests are skipped, saying why.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_support import Chaos, read_journal

pytestmark = pytest.mark.e2e

PASSING = """\
    name: passing
    timeout: 30s
    system:
      command: ["{python}", "-c", "import signal; print('up', flush=True); signal.pause()"]
      ready: {log: '^up$'}
      stop: {grace: 2s}
    duration: 200ms
    invariants:
      - log: {present: '^up$'}
    """
NO_SPACE = "No space left on device"


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    """A fresh 256 KiB tmpfs, unmounted after the test whatever happened."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    if shutil.which("mount") is None or shutil.which("umount") is None:
        pytest.skip("no mount/umount command on this host")
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "chaos-test", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip() or done.returncode}")
    try:
        yield mount
    finally:
        if subprocess.run(["umount", str(mount)], check=False).returncode != 0:
            subprocess.run(["umount", "-l", str(mount)], check=True)


def fill(disk: Path) -> None:
    """Write to ``disk`` until it has no byte left."""
    fd = os.open(disk / "filler", os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    try:
        for size in (65536, 4096, 1):
            while True:
                try:
                    os.write(fd, b"\0" * size)
                except OSError as exc:
                    if exc.errno != errno.ENOSPC:
                        raise
                    break
    finally:
        os.close(fd)


def _failed(stderr: str) -> list[str]:
    """The files named by 'could not write FILE: REASON' lines."""
    prefix = "error: could not write "
    return [
        line[len(prefix) :].split(": ")[0]
        for line in stderr.splitlines()
        if line.startswith(prefix)
    ]


def test_out_on_a_full_disk_prints_the_verdict_names_each_file_and_leaves_nothing_stale(
    chaos: Chaos, disk: Path
) -> None:
    older = disk / "journal.json"
    older.write_text('{"schema": "chaos-journal/1", "from": "an earlier run"}', "utf-8")
    fill(disk)
    scenario = chaos.scenario("passing.yaml", PASSING)

    result = chaos.run("run", scenario, "--out", disk)

    assert result.returncode == 3, result
    assert "1 trial(s) in 1 scenario(s): 1 passed" in result.stdout, "the verdicts come first"
    failed = _failed(result.stderr)
    assert failed, result
    for name in ("report.html", "journal.json", "junit.xml", "summary.md"):
        path = disk / name
        if str(path) in failed:
            assert f"could not write {path}: {NO_SPACE}" in result.stderr
            assert not path.exists(), f"{path} could not be written, yet a file is there"
        else:  # it fitted in the space the removed older journal gave back
            assert path.exists(), f"{path} is neither written nor named as a failure"
    if older.exists():
        assert read_journal(older)["summary"]["trials"] == 1, "only this run's journal may be there"
    assert (
        f"error: the trial passed (verdicts above), but {len(failed)} report file(s) could not"
        f" be written: {', '.join(failed)}"
    ) in result.stderr


def test_only_the_journal_on_a_full_disk_costs_no_other_report(
    chaos: Chaos, disk: Path, tmp_path: Path
) -> None:
    fill(disk)
    scenario = chaos.scenario("passing.yaml", PASSING)
    out = tmp_path / "out"

    result = chaos.run("run", scenario, "--out", out, "--json", disk / "journal.json")

    assert result.returncode == 3, result
    assert _failed(result.stderr) == [str(disk / "journal.json")], result
    assert f"could not write the journal {disk / 'journal.json'}: {NO_SPACE}" in result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["junit.xml", "report.html", "summary.md"]
    assert "the trial passed (verdicts above), but 1 report file(s)" in result.stderr
    assert not (disk / "journal.json").exists()


def test_only_the_html_report_on_a_full_disk(chaos: Chaos, disk: Path, tmp_path: Path) -> None:
    fill(disk)
    scenario = chaos.scenario("passing.yaml", PASSING)
    out = tmp_path / "out"

    result = chaos.run("run", scenario, "--out", out, "--html", disk / "report.html")

    assert result.returncode == 3, result
    assert _failed(result.stderr) == [str(disk / "report.html")], result
    assert read_journal(out / "journal.json")["summary"]["passed"] == 1
    assert sorted(p.name for p in out.iterdir()) == ["journal.json", "junit.xml", "summary.md"]
    assert (
        f"error: the trial passed (verdicts above), but 1 report file(s) could not be written:"
        f" {disk / 'report.html'}"
    ) in result.stderr


def test_a_disk_that_fills_mid_run_is_said_once_and_the_run_goes_on(
    chaos: Chaos, disk: Path, tmp_path: Path
) -> None:
    """The system fills the disk in its first trial: the journal written before it (0
    trials) is removed rather than left as if it were this run's, and all 3 trials run.
    Each trial logs 40 KB, so no journal of a finished trial fits in what that frees."""
    filling = chaos.home / "filling.py"
    filling.write_text(
        "import os, signal, sys\n"
        "for i in range(400):\n"
        "    print(f'line {i:03d} ' + 'x' * 90)\n"
        "fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_APPEND)\n"
        "try:\n"
        "    while True:\n"
        "        os.write(fd, bytes(4096))\n"
        "except OSError:\n"
        "    pass\n"
        "print('filled', flush=True)\n"
        "signal.pause()\n",
        "utf-8",
    )
    scenario = chaos.scenario(
        "filling.yaml",
        f"""\
        name: filling
        timeout: 30s
        system:
          command: ["{{python}}", "{filling}", "{disk / "filler"}"]
          ready: {{log: '^filled$'}}
          stop: {{grace: 1s}}
        duration: 100ms
        """,
    )
    journal = disk / "journal.json"

    result = chaos.run(
        "run", scenario, "--repeat", "3", "--out", tmp_path / "out", "--json", journal
    )

    assert result.returncode == 3, result
    assert "3 trial(s) in 1 scenario(s): 3 passed" in result.stdout
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert warnings == [
        f"warning: could not write the journal {journal}: {NO_SPACE}; the run goes on, and"
        " every trial tries again"
    ], result
    assert not journal.exists(), "the 0-trial journal of the start must not be left behind"
    assert _failed(result.stderr) == [str(journal)], result
    assert "the trials passed (verdicts above), but 1 report file(s)" in result.stderr


def test_report_rerendering_onto_a_full_disk_names_the_file(
    chaos: Chaos, disk: Path, tmp_path: Path
) -> None:
    scenario = chaos.scenario("passing.yaml", PASSING)
    assert chaos.run("run", scenario, "--out", tmp_path / "out").returncode == 0
    fill(disk)

    result = chaos.run(
        "report",
        tmp_path / "out" / "journal.json",
        "--html",
        disk / "r.html",
        "--md",
        disk / "s.md",
    )

    assert result.returncode == 3, result
    assert "1 passed" in result.stdout
    assert _failed(result.stderr) == [str(disk / "r.html"), str(disk / "s.md")]
    assert "the trial passed (verdicts above), but 2 report file(s)" in result.stderr
