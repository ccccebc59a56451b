"""pytest plugin: scenario YAML files as test items, and the ``chaos_system`` fixture.

Registered by the ``pytest11`` entry point, so it is active in every pytest run where chaos
is installed; it imports nothing of the harness but the reporter registry (a list of names,
no renderer) until a scenario is collected or the fixture is used, so it costs other suites
nothing. Scenario files are collected only under
the paths named on the command line (not the ``testpaths`` fallback, nor a named path that
holds a ``testpaths`` folder: that is a run of the project's own tests, whose YAML
fixtures are data) or in the ``chaos_paths`` ini option, and only when they look like
scenarios (a mapping with a ``system`` key), so other YAML is left alone.

One item per trial: ``scenarios/backend-sigkill.yaml::backend-sigkill[trial-0]``. A failed
trial shows its failed invariants (expected vs seen) and the events around them, not a
harness traceback. Under pytest-xdist each worker runs whole trials (own folder, ports and
process tree); each trial's result rides on its test report to the controller, which
merges them as ``chaos report`` merges journals (``harness.results.merge``: one version per
scenario, one result per trial) and writes the journal and reports once. Remote workers
(``--tx socket=``/``ssh=``) work the same way, with the code and scenario files already on
each host (docs/scale-out.md): the controller refuses to pool two versions of a scenario.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from harness.report.registry import Reporter, default_targets, reporters

if TYPE_CHECKING:
    from harness.results.model import RunResult, TrialResult
    from harness.run.session import SystemSession
    from harness.scenario.model import Scenario

_RESULT_ATTR = "chaos_trial"
"""The test report attribute carrying a trial's journal entry (a JSON string)."""

_ROOTS = pytest.StashKey[tuple[Path, ...]]()
_SEED = pytest.StashKey[int]()
_REAPED = pytest.StashKey[bool]()

_MARKER_NAME = re.compile(r"[A-Za-z_][\w\-.]*")
_PYTEST_MARKS = frozenset(
    {"skip", "skipif", "xfail", "parametrize", "usefixtures", "filterwarnings", "timeout"}
)
"""Markers with a meaning to pytest or its plugins: a tag with such a name is only a keyword."""


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("chaos", "chaos scenarios")
    group.addoption(
        "--chaos-var",
        action="append",
        default=[],
        metavar="K=V",
        help="override a scenario var (repeatable), as chaos run --var",
    )
    group.addoption(
        "--chaos-repeat",
        type=int,
        default=None,
        metavar="N",
        help="trials per scenario (default: each scenario's repeat)",
    )
    group.addoption(
        "--chaos-out",
        default=None,
        metavar="DIR",
        help="write every report here: " + ", ".join(r.filename for r in reporters()),
    )
    for reporter in reporters():
        group.addoption(
            f"--chaos-{reporter.option}",
            dest=_report_dest(reporter),
            default=None,
            metavar="FILE",
            help=f"write {reporter.help} here (instead of in --chaos-out)",
        )
    group.addoption(
        "--chaos-seed",
        type=int,
        default=None,
        metavar="N",
        help="base seed for random choices (default: random, shown in the header)",
    )
    parser.addini(
        "chaos_paths",
        type="paths",
        default=[],
        help="folders whose *.yaml scenario files are collected",
    )


def _report_dest(reporter: Reporter) -> str:
    return f"chaos_report_{reporter.name}"


def pytest_configure(config: pytest.Config) -> None:
    repeat = config.getoption("chaos_repeat")
    if repeat is not None and repeat < 1:
        raise pytest.UsageError(f"--chaos-repeat expects at least 1, got {repeat}")
    for text in config.getoption("chaos_var"):
        key, sep, _ = text.partition("=")
        if not sep or not key.strip():
            raise pytest.UsageError(f"--chaos-var expects KEY=VALUE, got {text!r}")
    _refuse_paths_for_remote_workers(config)
    workerinput = getattr(config, "workerinput", {})
    seed = workerinput.get("chaos_seed", config.getoption("chaos_seed"))
    config.stash[_SEED] = int(seed) if seed is not None else random.randrange(2**31)
    config.pluginmanager.register(ChaosReports(config), "chaos-reports")


def _refuse_paths_for_remote_workers(config: pytest.Config) -> None:
    """pytest-xdist rewrites a command-line argument that is a path here relative to an
    ``--rsyncdir`` for remote workers, and fails deep inside (``ValueError: arg scenarios
    not relative to an rsync root``) when there is none: ``--rsyncdir`` is deprecated, so
    there should be none. Say instead what works: the folders in ``chaos_paths``."""
    if hasattr(config, "workerinput") or not _option(config, "tx"):
        return
    if _option(config, "rsyncdir") or config.getini("rsyncdirs"):
        return
    import execnet

    specs = [execnet.XSpec(re.sub(r"^\d+\*", "", tx)) for tx in _option(config, "tx")]
    remote = [spec for spec in specs if not spec.popen or spec.chdir]
    if not remote:
        return
    base = config.invocation_params.dir
    for arg in config.invocation_params.args:
        path = base / str(arg).split("::")[0]
        if str(arg) and not str(arg).startswith("-") and path.exists():
            raise pytest.UsageError(
                f"{arg!r} is a path here, and pytest-xdist cannot give it to remote workers"
                f" ({remote[0]}) without --rsyncdir, which is deprecated: name the scenario"
                " folders in the chaos_paths ini option (each host has the same files) and give"
                " no path; write an option's value as --chaos-out=DIR (docs/scale-out.md)"
            )


def _option(config: pytest.Config, name: str) -> Any:
    """An option another plugin (pytest-xdist) may not have declared."""
    return config.getoption(name, default=None)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist: every worker uses the controller's base seed, so one seed replays the run."""
    node.workerinput["chaos_seed"] = node.config.stash[_SEED]


def pytest_report_header(config: pytest.Config) -> str | None:
    if not _roots(config):
        return None
    return f"chaos: base seed {config.stash[_SEED]} (replay with --chaos-seed)"


# --------------------------------------------------------------------------- collection


def _roots(config: pytest.Config) -> tuple[Path, ...]:
    """Where scenario files are collected: ``chaos_paths`` and the explicit arguments."""
    if _ROOTS in config.stash:
        return config.stash[_ROOTS]
    roots = [Path(p).resolve() for p in config.getini("chaos_paths")]
    if config.args_source is pytest.Config.ArgsSource.ARGS:
        testpaths = [(config.rootpath / p).resolve() for p in config.getini("testpaths")]
        for arg in config.args:
            path = (config.invocation_params.dir / arg.split("::")[0]).resolve()
            if path.is_dir() and any(t == path or path in t.parents for t in testpaths):
                continue
            roots.append(path)
    config.stash[_ROOTS] = tuple(roots)
    return config.stash[_ROOTS]


def _looks_like_scenario(path: Path) -> bool:
    """Read with the loader's bounds: an alias bomb under a collected folder must not hang
    the collection (anything it cannot read is the loader's to report, with its line)."""
    import yaml

    from harness.scenario.include import is_fragment
    from harness.scenario.source import SourceError, parse, read_source

    if is_fragment(path):
        return False
    try:
        data, _ = parse(read_source(path))
    except (OSError, SourceError, yaml.YAMLError):
        return True
    return isinstance(data, dict) and "system" in data


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix not in (".yaml", ".yml"):
        return None
    resolved = file_path.resolve()
    if not any(resolved == r or r in resolved.parents for r in _roots(parent.config)):
        return None
    if not _looks_like_scenario(file_path):
        return None
    return ScenarioFile.from_parent(parent, path=file_path)


def _register_marker(config: pytest.Config, tag: str) -> bool:
    """Register ``tag`` as a marker (``--strict-markers``); False if it cannot be one."""
    if not _MARKER_NAME.fullmatch(tag) or tag in _PYTEST_MARKS:
        return False
    known = {line.split(":")[0].split("(")[0].strip() for line in config.getini("markers")}
    if tag not in known:
        config.addinivalue_line("markers", f"{tag}: chaos scenario tag")
    return True


def _shown(path: Path, config: pytest.Config) -> Path:
    """The path as the user would write it (relative to where pytest was started), for
    error messages and the journal; absolute if that is not the working folder any more."""
    start = config.invocation_params.dir
    if Path.cwd() != start or not path.is_relative_to(start):
        return path
    return path.relative_to(start)


class ScenarioFile(pytest.File):
    """A scenario YAML file: one item per trial."""

    def collect(self) -> Iterator[pytest.Item]:
        from harness.errors import ScenarioError
        from harness.report.escape import visible
        from harness.run.catalog import load_scenario
        from harness.run.system import host_refusals
        from harness.scenario.loader import missing_requirements, parse_var, skip_reason

        config = self.config
        try:
            variables = dict(parse_var(v) for v in config.getoption("chaos_var"))
            scenario = load_scenario(_shown(self.path, config), variables)
        except ScenarioError as exc:
            raise self.CollectError(visible(f"invalid scenario: {exc}")) from None
        repeat = config.getoption("chaos_repeat") or scenario.repeat
        marks = [tag for tag in scenario.tags if _register_marker(config, tag)]
        missing = missing_requirements(scenario)
        refused = host_refusals(scenario)
        for index in range(repeat):
            item = ScenarioItem.from_parent(
                self, name=f"{scenario.name}[trial-{index}]", scenario=scenario, index=index
            )
            for tag in marks:
                item.add_marker(tag)
            if missing:
                # A marker's skip is placed at the item's ``reportinfo()``: the line of
                # ``requires``. ``skipif`` rather than ``skip``, because the summary drops
                # the line of every ``skip`` marker (it folds them as module-level skips).
                reason = visible(skip_reason(missing))
                item.add_marker(pytest.mark.skipif(True, reason=reason))
            elif refused:
                reason = visible("this host cannot run it: " + "; ".join(refused))
                item.add_marker(pytest.mark.skipif(True, reason=reason))
            if scenario.expected_failure is not None:
                # strict, as chaos run: a pass is XPASS and fails the session; only the
                # system's failure is expected, a harness error stays an error
                reason = visible(scenario.expected_failure)
                item.add_marker(pytest.mark.xfail(strict=True, reason=reason, raises=TrialFailed))
            yield item


class ScenarioFailed(Exception):
    """A trial whose verdict is not ``pass``; carries the result for the report."""

    def __init__(self, result: TrialResult) -> None:
        from harness.report.escape import visible
        from harness.report.excerpt import failure_message

        super().__init__(visible(failure_message(result)))
        self.result = result


class TrialFailed(ScenarioFailed):
    """A trial the system failed (verdict ``fail``): what ``expect: fail`` expects."""


class ScenarioItem(pytest.Item):
    """One trial of one scenario, run exactly as ``chaos run`` runs it."""

    def __init__(self, *, scenario: Scenario, index: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scenario = scenario
        self.index = index
        self.trial_json: str | None = None

    def runtest(self) -> None:
        from harness.results.journal import run_to_dict
        from harness.results.model import RunResult, ScenarioResult
        from harness.run.fingerprint import scenario_digest
        from harness.run.runner import trial_seed
        from harness.run.trial import run_trial
        from harness.spec.verdict import Verdict
        from harness.system.leftovers import reap
        from harness.system.subreaper import become_subreaper

        become_subreaper()
        if _REAPED not in self.config.stash:  # like chaos run: what a killed run left
            self.config.stash[_REAPED] = True
            reap()
        seed = trial_seed(self.config.stash[_SEED], self.scenario.name, self.index)
        result = run_trial(self.scenario, self.index, seed)
        one = RunResult(
            started="",
            scenarios=[
                ScenarioResult(
                    name=self.scenario.name,
                    file=self.scenario.file,
                    tags=list(self.scenario.tags),
                    description=self.scenario.description,
                    digest=scenario_digest(self.scenario),
                    expected_failure=self.scenario.expected_failure,
                    trials=[result],
                )
            ],
        )
        self.trial_json = json.dumps(run_to_dict(one)["scenarios"][0], default=str)
        if result.verdict is Verdict.FAIL:
            raise TrialFailed(result)
        if result.verdict is not Verdict.PASS:
            raise ScenarioFailed(result)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, ScenarioFailed):
            from harness.report.text import describe_trial

            # The first line is pytest's one-line summary (-r); the rest is the story.
            return f"{excinfo.value}\n{describe_trial(self.scenario.name, excinfo.value.result)}"
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        """The scenario's file and line (0-based, as pytest wants it): the line of
        ``requires`` when that is why the trial is skipped, else the top of the file."""
        from harness.scenario.loader import missing_requirements

        missing = missing_requirements(self.scenario)
        line = self.scenario.line_of("requires") if missing else self.scenario.line_of()
        return self.path, (line or 1) - 1, f"{self.scenario.name}[trial-{self.index}]"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Attach the trial's journal entry to its report (xdist carries it to the controller;
    unlike ``user_properties`` it stays out of ``--junitxml``)."""
    report = yield
    if call.when == "call" and isinstance(item, ScenarioItem) and item.trial_json is not None:
        report.__dict__[_RESULT_ATTR] = item.trial_json
    return report


# --------------------------------------------------------------------------- reports


class ChaosReports:
    """Gathers trial results (also from xdist workers, local or remote) and writes the
    journal and reports once, in the controller, at the end of the session."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.received: list[tuple[str, dict[str, Any]]] = []
        """(worker, one scenario's journal entry holding one trial), as they arrive."""
        self.problem: str | None = None
        self.notes: list[str] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        value = getattr(report, _RESULT_ATTR, None)
        if report.when != "call" or not isinstance(value, str):
            return
        self.received.append((_worker_of(report), json.loads(value)))

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if hasattr(self.config, "workerinput"):  # an xdist worker: the controller writes
            return
        if not self.received:
            return
        from harness.results.merge import MixedVersions

        try:
            run = self.run()
        except MixedVersions as exc:
            self.problem = (
                f"no chaos report written: the workers ran {exc}. Every host needs the same"
                " scenario files (and --chaos-var values)"
            )
            session.exitstatus = pytest.ExitCode.USAGE_ERROR
            return
        if targets := self.targets():
            from harness.report.writers import write_reports

            write_reports(run, targets)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.problem is None and not self.notes:
            return
        terminalreporter.section("chaos", red=self.problem is not None)
        for note in self.notes:
            terminalreporter.line(f"warning: {note}", yellow=True)
        if self.problem is not None:
            terminalreporter.line(f"error: {self.problem}", red=True, bold=True)

    def targets(self) -> dict[str, Path]:
        """Reporter name → file: all of them in ``--chaos-out``, each ``--chaos-FLAG FILE``
        in its own place (also without ``--chaos-out``)."""
        out = self.config.getoption("chaos_out")
        targets = default_targets(Path(out)) if out else {}
        for reporter in reporters():
            path = self.config.getoption(_report_dest(reporter))
            if path:
                targets[reporter.name] = Path(path)
        return targets

    def run(self) -> RunResult:
        """The gathered trials as one ``RunResult`` (scenarios by file, trials by index),
        merged as ``chaos report`` merges journals; ``MixedVersions`` if two workers ran
        different versions of a scenario."""
        import dataclasses
        import datetime as dt
        import sys

        from harness.results.journal import SCHEMA, run_from_dict
        from harness.results.merge import merge
        from harness.spec.version import __version__

        fragments = [
            (worker, run_from_dict({"schema": SCHEMA, "started": "", "scenarios": [entry]}))
            for worker, entry in self.received
        ]
        merged = merge(fragments)
        self.notes = merged.notes()
        return dataclasses.replace(
            merged.run,
            started=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            finished=None,
            harness_version=__version__,
            argv=["pytest", *sys.argv[1:]],
            seed=self.config.stash[_SEED],
            scenarios=sorted(merged.run.scenarios, key=lambda s: (s.file, s.name)),
            merged_from=[],
        )


def _worker_of(report: pytest.TestReport) -> str:
    """Who ran the trial, for messages: ``gw1 (socket=10.0.0.7:8888)``, or this process."""
    gateway = getattr(getattr(report, "node", None), "gateway", None)
    if gateway is None:
        return "this process"
    for kind in ("ssh", "socket", "vagrant_ssh"):
        where = getattr(gateway.spec, kind, None)
        if where:
            return f"{gateway.id} ({kind}={where})"
    return f"{gateway.id} (popen)"


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def chaos_system(request: pytest.FixtureRequest) -> Iterator[Callable[..., SystemSession]]:
    """Start a system from a spec (a dict in the scenario format, or a YAML path).

    ``system = chaos_system({...})`` launches it and waits until it is ready (the probes
    and workload of the spec start too); the handle offers ``kill(role)``,
    ``freeze(role, for_="2s")``, ``check(kind, **options)``, ``timeline``,
    ``processes(role)`` and ``wait_for_role(role, count)``; a system expected to exit
    (``system.expect_exit``) is only started: ``wait_exit()``. Teardown runs at the end of the
    test whatever happened, with the same launcher and safety as ``chaos run``.
    """
    from harness.system.subreaper import become_subreaper

    become_subreaper()
    sessions: list[SystemSession] = []
    base_seed = request.config.stash[_SEED]

    def start(
        spec: dict[str, Any] | str | Path,
        *,
        wait_ready: bool = True,
        variables: dict[str, str] | None = None,
    ) -> SystemSession:
        from harness.errors import NotReadyError
        from harness.run.catalog import load_scenario, scenario_from_mapping
        from harness.run.runner import trial_seed
        from harness.run.session import SystemSession

        if isinstance(spec, dict):
            scenario = scenario_from_mapping(spec, variables or {})
        else:
            scenario = load_scenario(Path(spec), variables or {})
        seed = trial_seed(base_seed, request.node.nodeid, len(sessions))
        session = SystemSession(scenario, seed=seed)
        sessions.append(session)
        session.start()
        if wait_ready and scenario.system.expect_exit is None:  # else: wait_exit()
            try:
                session.wait_ready()
            except NotReadyError as exc:
                from harness.report.escape import visible, without_ansi

                tail = "\n".join("  | " + without_ansi(line) for line in exc.output_tail[-20:])
                pytest.fail(visible(f"{scenario.name}: {exc}\n{tail}"), pytrace=False)
            session.observe()
        return session

    try:
        yield start
    finally:
        for session in reversed(sessions):
            session.close()
