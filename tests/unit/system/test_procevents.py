"""The proc connector's datagrams, parsed: processes kept, threads dropped, kernel order kept."""

from __future__ import annotations

import struct

from hypothesis import given
from hypothesis import strategies as st

from harness.system.procevents import (
    PROC_EVENT_EXEC,
    PROC_EVENT_EXIT,
    PROC_EVENT_FORK,
    Exec,
    Exit,
    Fork,
    parse,
)

PROC_EVENT_COMM = 0x00000200


def message(what: int, body: bytes) -> bytes:
    """One netlink message as the kernel sends it: nlmsghdr, cn_msg, proc_event."""
    event = struct.pack("=IIQ", what, 1, 123456789) + body
    cn = struct.pack("=IIIIHH", 1, 1, 7, 0, len(event), 0) + event
    raw = struct.pack("=IHHII", 16 + len(cn), 3, 0, 7, 0) + cn
    return raw + b"\0" * (-len(raw) % 4)


def fork(ppid: int, ptgid: int, cpid: int, ctgid: int) -> bytes:
    return message(PROC_EVENT_FORK, struct.pack("=IIII", ppid, ptgid, cpid, ctgid))


def exec_(pid: int) -> bytes:
    return message(PROC_EVENT_EXEC, struct.pack("=II", pid, pid))


def exit_(pid: int, tgid: int) -> bytes:
    # exit_code, exit_signal, then parent pid/tgid on newer kernels: ignored
    return message(PROC_EVENT_EXIT, struct.pack("=IIIIII", pid, tgid, 0, 17, 1, 1))


def test_a_process_fork_names_the_parents_tgid_and_the_child() -> None:
    # forked by a thread (pid 101) of process 100: the parent is the process
    assert parse(fork(101, 100, 200, 200)) == [Fork(parent=100, child=200)]


def test_a_new_thread_is_no_new_process() -> None:
    assert parse(fork(100, 100, 201, 200)) == []


def test_exec_and_the_exit_of_a_process_are_kept_a_threads_exit_is_not() -> None:
    assert parse(exec_(300)) == [Exec(pid=300)]
    assert parse(exit_(300, 300)) == [Exit(pid=300)]
    assert parse(exit_(301, 300)) == []


def test_other_kinds_and_short_datagrams_are_dropped() -> None:
    assert parse(message(PROC_EVENT_COMM, b"\0" * 24)) == []
    assert parse(b"") == []
    assert parse(fork(1, 1, 2, 2)[:30]) == []
    assert parse(message(PROC_EVENT_FORK, b"\0" * 8)) == [], "a fork with a truncated body"


def test_several_messages_in_one_datagram_keep_their_order() -> None:
    data = fork(1, 1, 2, 2) + exec_(2) + exit_(2, 2)
    assert parse(data) == [Fork(1, 2), Exec(2), Exit(2)]


events = st.one_of(
    st.builds(
        lambda p, c: (fork(p, p, c, c), Fork(p, c)), st.integers(1, 2**22), st.integers(1, 2**22)
    ),
    st.builds(lambda p: (exec_(p), Exec(p)), st.integers(1, 2**22)),
    st.builds(lambda p: (exit_(p, p), Exit(p)), st.integers(1, 2**22)),
    st.builds(lambda p: (fork(p, p, p + 1, p), None), st.integers(1, 2**22)),  # a thread
)


@given(st.lists(events, max_size=12))
def test_any_sequence_parses_back_to_its_processes_events_in_order(
    pairs: list[tuple[bytes, Fork | Exec | Exit | None]],
) -> None:
    data = b"".join(raw for raw, _ in pairs)
    assert parse(data) == [e for _, e in pairs if e is not None]


# ---------------------------------------------------------------------- the socket filter


def test_the_socket_filter_keeps_process_events_and_drops_the_rest() -> None:
    from harness.system.procevents import FILTER, run_filter

    assert run_filter(FILTER, fork(100, 100, 200, 200)), "a new process"
    assert not run_filter(FILTER, fork(100, 100, 201, 200)), "a new thread"
    assert run_filter(FILTER, exec_(300))
    assert run_filter(FILTER, exit_(300, 300)), "a process (its leader) exits"
    assert not run_filter(FILTER, exit_(301, 300)), "a thread exits"
    assert not run_filter(FILTER, message(PROC_EVENT_COMM, b"\0" * 24))
    assert not run_filter(FILTER, message(0, b"")), "the listen acknowledgement"
    assert not run_filter(FILTER, fork(1, 1, 2, 2)[:50]), "too short to be a fork"


@given(st.lists(events, min_size=1, max_size=1))
def test_the_filter_and_the_parser_agree(
    pairs: list[tuple[bytes, Fork | Exec | Exit | None]],
) -> None:
    from harness.system.procevents import FILTER, run_filter

    ((raw, event),) = pairs
    assert run_filter(FILTER, raw) == (event is not None)
