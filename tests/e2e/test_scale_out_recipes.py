"""The recipes of docs/scale-out.md run as written, as far as this machine can run them.

No GitHub runner, ssh host or Kubernetes cluster here: what the recipes *call* is run. The
YAML blocks are read from the document itself, and their shell lines are executed
unchanged (bash ``-eo pipefail`` as GitHub Actions runs a ``run:`` step, ``sh -c`` as the
pods do), on a small suite of real scenarios. Only what the engine would provide is
supplied: ``${{ }}`` expressions, artifact folders as ``download-artifact`` lays them out,
``JOB_COMPLETION_INDEX``, the Job's env with ``RESULTS`` in a temporary folder. The one
value changed is ``REPEAT`` (2 trials per scenario instead of 20).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from e2e_support import ROOT, RUN_DEADLINE, SYSTEMS, read_journal, supervisor_scenario

pytestmark = pytest.mark.e2e

DOC = ROOT / "docs" / "scale-out.md"
BIN = str(Path(sys.executable).parent)
SUITE = {"quick": "1.5s", "steady": "1.5s"}
"""Scenario name → duration: two passing scenarios of the tiny supervisor."""
TRIALS = 2 * len(SUITE)
"""Per side, with REPEAT=2."""


def recipe(name: str) -> str:
    """The YAML block after ``<!-- recipe: NAME -->`` in docs/scale-out.md."""
    found = re.search(
        rf"<!-- recipe: {re.escape(name)} -->\n```yaml\n(.*?)```", DOC.read_text("utf-8"), re.S
    )
    assert found, f"docs/scale-out.md lost its {name} recipe"
    return found.group(1)


def github(text: str, values: dict[str, str]) -> str:
    """``${{ expr }}`` replaced as GitHub would; an expression we do not know fails."""

    def value(match: re.Match[str]) -> str:
        expr = match.group(1).strip()
        if expr not in values:
            pytest.fail(f"the recipe uses ${{{{ {expr} }}}}, which this test cannot supply")
        return values[expr]

    return re.sub(r"\$\{\{(.*?)\}\}", value, text)


def write_suite(folder: Path) -> Path:
    """A checkout: ``scenarios/`` with the tiny supervisor's scenarios."""
    for name, duration in SUITE.items():
        path = folder / "scenarios" / f"{name}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        text = textwrap.dedent(supervisor_scenario(name, duration=duration))
        path.write_text(text.replace("{SYSTEMS}", str(SYSTEMS)), encoding="utf-8")
    return folder


def shell_env(tmp: Path, extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_STEP_SUMMARY", "CHAOS_TRIAL")}
    env.update(PATH=BIN + os.pathsep + env.get("PATH", ""), TMPDIR=str(tmp), COLUMNS="400")
    env.update(extra)
    return env


def run_all(commands: list[tuple[list[str], Path, dict[str, str]]]) -> list[tuple[int, str]]:
    """Start every command at once (a matrix's jobs, a Job's pods); exit code and output."""
    procs = [
        subprocess.Popen(
            argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        for argv, cwd, env in commands
    ]
    results = []
    for proc in procs:
        try:
            out, _ = proc.communicate(timeout=RUN_DEADLINE)
        except subprocess.TimeoutExpired:
            for other in procs:
                other.kill()
            pytest.fail(f"{proc.args} did not finish within {RUN_DEADLINE:g}s")
        results.append((proc.returncode, out))
    return results


def bash(command: str) -> list[str]:
    """As GitHub Actions runs a ``run:`` step on Linux."""
    return ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", command]


def ran_once(journal: dict[str, Any]) -> list[tuple[str, list[int]]]:
    return [(s["name"], [t["index"] for t in s["trials"]]) for s in journal["scenarios"]]


def no_chaos_folders(tmp: Path) -> list[str]:
    return sorted(p.name for p in tmp.glob("chaos-*"))


# --------------------------------------------------------------------------- GitHub Actions


def test_the_github_actions_recipe_shards_merges_and_gates(tmp_path: Path) -> None:
    workflow = yaml.safe_load(recipe("github-actions"))
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = shell_env(tmp, {k: str(v) for k, v in workflow["env"].items()})
    env["REPEAT"] = "2"
    shard_job, merge_job = workflow["jobs"]["shard"], workflow["jobs"]["merge"]
    matrix = shard_job["strategy"]["matrix"]
    (run_step,) = [s for s in shard_job["steps"] if "chaos " in s.get("run", "")]
    (upload,) = [s for s in shard_job["steps"] if s.get("uses", "").startswith("actions/upload")]
    (download,) = [s for s in merge_job["steps"] if s.get("uses", "").startswith("actions/down")]
    merge_dir = tmp_path / "merge"
    journals = merge_dir / download["with"]["path"]

    for side in matrix["side"]:
        cells = []
        for shard in matrix["shard"]:
            values = {"matrix.shard": str(shard), "matrix.side": side, "github.run_id": "8675309"}
            workspace = write_suite(tmp_path / f"{side}-{shard}")
            cells.append((values, workspace))
        results = run_all([(bash(github(run_step["run"], v)), w, env) for v, w in cells])
        for (values, workspace), (code, out) in zip(cells, results, strict=True):
            assert code == 0, out
            # upload-artifact of `path`, then download-artifact of every `pattern` match:
            # each artifact in a folder named after it.
            name = github(upload["with"]["name"], values)
            shutil.copytree(workspace / upload["with"]["path"], journals / name)
    assert sorted(p.name for p in journals.iterdir()) == sorted(
        f"journal-{side}-{shard}" for side in matrix["side"] for shard in matrix["shard"]
    )

    for step in merge_job["steps"]:
        if "chaos " not in step.get("run", ""):
            continue  # pip install and the artifact actions: not the recipe's commands
        ((code, out),) = run_all([(bash(github(step["run"], {})), merge_dir, env)])
        assert code == 0, (step["name"], out)
        assert "warning" not in out, (step["name"], out)

    merged = merge_dir / "merged"
    for side in ("base", "head"):
        journal = read_journal(merged / f"{side}.json")
        assert journal["summary"]["trials"] == TRIALS
        assert journal["summary"]["passed"] == TRIALS
        assert ran_once(journal) == [(name, [0, 1]) for name in SUITE]
        assert [m["shard"] for m in journal["merged_from"]] == ["1/4", "2/4", "3/4", "4/4"]
        assert journal["harness"]["seed"] == 8675309
    for name in ("junit.xml", "report.html", "summary.md", "compare.md"):
        assert (merged / name).stat().st_size > 0, name
    assert no_chaos_folders(tmp) == []


# --------------------------------------------------------------------------- xdist over ssh


def test_the_ssh_recipe_gives_remote_workers_no_path_argument() -> None:
    """Its transport cannot run here (tests/plugin/test_plugin_remote.py runs the same
    controller command over socket gateways); what can be checked is that it avoids the
    form pytest-xdist refuses for remote workers: a path on the command line."""
    workflow = yaml.safe_load(recipe("xdist-ssh"))
    (step,) = [s for s in workflow["jobs"]["remote"]["steps"] if "pytest -d" in s.get("run", "")]
    (line,) = [line for line in step["run"].splitlines() if line.strip().startswith("pytest")]
    words = github(line, {"github.run_id": "8675309"}).split()

    assert words[:2] == ["pytest", "-d"]
    assert [w for w in words[2:] if not w.startswith(("-", "$"))] == []
    assert "--chaos-out=reports" in words
    assert "--tx 2*ssh=chaos@$host//python=$SUITE/.venv/bin/python//chdir=$SUITE" in step["run"]


# --------------------------------------------------------------------------- Kubernetes


def _container(document: dict[str, Any]) -> dict[str, Any]:
    (container,) = document["spec"]["template"]["spec"]["containers"]
    assert isinstance(container, dict)
    return container


def test_the_kubernetes_recipe_runs_one_shard_per_completion_index(tmp_path: Path) -> None:
    (job,) = [d for d in yaml.safe_load_all(recipe("kubernetes-shards")) if d["kind"] == "Job"]
    merge_job = yaml.safe_load(recipe("kubernetes-merge"))
    assert job["spec"]["completionMode"] == "Indexed"
    count = job["spec"]["completions"]
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    suite = write_suite(tmp_path / "suite")  # the image's workingDir
    results = tmp_path / "results"  # the shared volume
    shard = _container(job)
    assert shard["workingDir"] == _container(merge_job)["workingDir"]
    env = {e["name"]: e["value"] for e in shard["env"]}
    assert env["SHARDS"] == str(count)
    env["RESULTS"] = str(results)

    pods = [
        (
            shard["command"] + shard["args"],
            suite,
            shell_env(tmp, {**env, "JOB_COMPLETION_INDEX": str(i)}),
        )
        for i in range(count)
    ]
    for code, out in run_all(pods):
        assert code == 0, out
    merge = _container(merge_job)
    merge_env = {e["name"]: e["value"] for e in merge["env"]}
    merge_env["RESULTS"] = str(results)
    ((code, out),) = run_all([(merge["command"] + merge["args"], suite, shell_env(tmp, merge_env))])

    assert code == 0, out
    assert sorted(p.name for p in results.iterdir()) == ["merged"] + [
        f"shard-{i}" for i in range(count)
    ]
    journal = read_journal(results / "merged" / "journal.json")
    assert journal["summary"]["trials"] == len(SUITE)  # each scenario's own repeat: 1
    assert ran_once(journal) == [(name, [0]) for name in SUITE]
    assert sorted(m["shard"] for m in journal["merged_from"]) == [
        f"{k}/{count}" for k in range(1, count + 1)
    ]
    assert journal["harness"]["seed"] == int(env["SEED"])
    for name in ("junit.xml", "report.html", "summary.md"):
        assert (results / "merged" / name).stat().st_size > 0, name
    assert no_chaos_folders(tmp) == []
