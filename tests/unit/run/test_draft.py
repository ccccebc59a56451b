"""``chaos init``'s writer, pure: a ``Survey`` in, a scenario that loads out."""

from __future__ import annotations

import re

import yaml

from harness.observe.events import PortListen
from harness.run.catalog import scenario_from_mapping
from harness.run.draft import draft, kinds_of, program_of
from harness.run.survey import Seen, Survey

MASTER = ("/usr/bin/python3", "app.py", "--port", "8080")


def _survey(*children: Seen, lines: tuple[str, ...] = (), ports: bool = True) -> Survey:
    root = Seen(pid=10, ppid=1, cmdline=MASTER, started=0.05, root=True, exit_t=3.0)
    listen = (PortListen(t=0.2, pid=10, instance=0, role=None, port=8080),) if ports else ()
    return Survey(
        command=("python3", "app.py", "--port", "8080"),
        processes=(root, *children),
        ports=listen,
        lines=lines,
        http={8080: ("/health", 200)} if ports else {},
        watched_s=1.5,
    )


def _child(pid: int, argv: tuple[str, ...], *, ppid: int = 10, **extra: object) -> Seen:
    return Seen(pid=pid, ppid=ppid, cmdline=argv, started=0.3, exit_t=3.0, **extra)  # type: ignore[arg-type]


def _load(text: str) -> dict[str, object]:
    data: dict[str, object] = yaml.safe_load(text)
    scenario_from_mapping(data)  # it validates as chaos validate would
    return data


def test_program_names_and_escaped_regexes() -> None:
    assert program_of(["python", "-S", "-m", "a.b.worker", "--x"]) == ("worker", r"a\.b\.worker")
    assert program_of(["/usr/bin/python3.12", "srv/serve.py"]) == ("serve", r"serve\.py")
    assert program_of(["/usr/sbin/php-fpm8.2", "-F"]) == ("php_fpm8_2", r"php\-fpm8\.2")
    assert program_of([]) == ("process", "")


def test_python_c_children_are_named_by_the_module_their_code_imports() -> None:
    """uvicorn's workers and its resource tracker are all ``python3 -c ...``: named by the
    program, they were one role of 3 that a kill could hit either way."""
    spawn = "from multiprocessing.spawn import spawn_main; spawn_main(tracker_fd=5, pipe_handle=7)"
    tracker = "from multiprocessing.resource_tracker import main;main(4)"
    assert program_of(["/v/bin/python3", "-c", spawn, "--multiprocessing-fork"]) == (
        "spawn",
        r"multiprocessing\.spawn",
    )
    assert program_of(["python3", "-B", "-c", tracker]) == (
        "resource_tracker",
        r"multiprocessing\.resource_tracker",
    )
    assert program_of(["python3", "-c", "print(1)"]) == ("python3", "python3")


def test_forked_children_get_forked_from_and_exec_children_a_regex() -> None:
    seen = _survey(
        _child(11, MASTER, forked=True),
        _child(12, MASTER, forked=True),
        _child(13, ("python3", "-m", "jobs.runner")),
    )
    data = _load(draft(seen, name="app"))
    assert data["roles"] == {
        "app": {"root": True},
        "worker": {"forked_from": "app", "count": 2},
        "runner": {"cmdline": r"jobs\.runner", "count": 1},
    }
    system = data["system"]
    assert isinstance(system, dict)
    assert system["command"] == ["{python}", "app.py", "--port", "{port}"]
    assert system["ready"]["roles"] == {"worker": 2, "runner": 1}
    assert [f["kill"]["role"] for f in data["faults"]] == ["worker", "runner"]  # type: ignore[attr-defined,index]


def test_short_lived_children_are_no_role() -> None:
    helper = _child(14, ("sh", "-c", "echo hi"), ended_alone=True)
    data = _load(draft(_survey(helper), name="app"))
    assert data["roles"] == {"app": {"root": True}}
    assert "faults" not in data


def test_without_a_port_the_last_line_is_readiness_with_numbers_generalised() -> None:
    seen = _survey(lines=("booting", "ready in 12 ms (pid 4242) [ok]"), ports=False)
    data = _load(draft(seen, name="app"))
    system = data["system"]
    assert isinstance(system, dict)
    pattern = system["ready"]["log"]
    assert re.search(pattern, "ready in 7 ms (pid 1) [ok]")
    assert not re.search(pattern, "ready in ms")
    assert "workload" not in data


def test_hostile_command_lines_cannot_break_the_file() -> None:
    argv = ("python3", "-c", 'print("{x}") # \n: [a, b]\x1b[31m')
    seen = Survey(
        command=argv,
        processes=(Seen(pid=1, ppid=0, cmdline=argv, started=0.0, root=True),),
        ports=(),
        lines=("}{ weird: line # [/red]",),
        watched_s=1.0,
    )
    text = draft(seen, name="weird")
    data = _load(text)
    system = data["system"]
    assert isinstance(system, dict)
    assert system["command"][2] == 'print("{{x}}") # \n: [a, b]\x1b[31m'  # braces literal
    assert all("\x1b" not in line for line in text.splitlines() if line.startswith("#"))


def test_a_root_that_exited_becomes_an_expected_exit() -> None:
    root = Seen(pid=1, ppid=0, cmdline=("false",), started=0.0, root=True, exit_t=0.1)
    seen = Survey(
        command=("false",),
        processes=(root,),
        ports=(),
        lines=(),
        watched_s=0.2,
        root_exited=True,
        root_code=1,
    )
    data = _load(draft(seen, name="false"))
    assert data["system"] == {"command": ["false"], "expect_exit": {"within": "5s"}}
    assert data["invariants"] == [{"exit": {"code": 1}}, {"no_orphans": {"within": "1s"}}]


def test_kinds_keep_the_first_seen_order_and_unique_names() -> None:
    seen = _survey(
        _child(11, ("python3", "-m", "a.worker")),
        _child(12, ("python3", "-m", "b.worker")),
    )
    _, kinds = kinds_of(seen)
    assert [k.name for k in kinds] == ["worker", "worker_2"]
