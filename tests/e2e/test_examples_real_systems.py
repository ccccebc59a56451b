"""The examples for real systems pass, or fail as they say they are expected to, where the
system is installed; elsewhere they are skipped saying which executable is missing."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from e2e_support import ROOT, Chaos, read_journal

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

EXAMPLES = ROOT / "scenarios" / "examples"
UVICORN = Path(sys.executable).with_name("uvicorn")


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed here")
def test_the_nginx_examples_pass_or_fail_as_expected(chaos: Chaos) -> None:
    files = sorted(EXAMPLES.glob("nginx-*.yaml"))
    result = chaos.run("run", *files)
    assert result.returncode == 0, result
    journal = read_journal(chaos.home / "reports" / "journal.json")
    outcomes = {s["name"]: s["outcome"] for s in journal["scenarios"]}
    assert outcomes == {
        "example-nginx-master-kill": "xfail",
        "example-nginx-worker-freeze": "xfail",
        "example-nginx-worker-kill": "pass",
    }
    failed = {
        s["name"]: [i["kind"] for i in s["trials"][0]["invariants"] if i["verdict"] != "pass"]
        for s in journal["scenarios"]
    }
    # each fails by the invariant it is about, not by something else
    assert failed["example-nginx-master-kill"] == ["no_orphans"]
    assert failed["example-nginx-worker-freeze"] == ["availability"]


@pytest.mark.skipif(not UVICORN.exists(), reason="uvicorn is not installed beside this python")
def test_the_uvicorn_example_passes(chaos: Chaos) -> None:
    path = EXAMPLES / "uvicorn-workers.yaml"
    result = chaos.run("run", path, "--var", f"uvicorn={UVICORN}")
    assert result.returncode == 0, result
    [scenario] = read_journal(chaos.home / "reports" / "journal.json")["scenarios"]
    assert scenario["outcome"] == "pass"


def test_a_missing_uvicorn_skips_with_the_path_it_looked_for(chaos: Chaos) -> None:
    path = EXAMPLES / "uvicorn-workers.yaml"
    result = chaos.run("run", path, "--var", "uvicorn=/nowhere/bin/uvicorn")
    assert result.returncode == 0, result
    assert "requires /nowhere/bin/uvicorn" in result.stdout
