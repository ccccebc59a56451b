"""The live process tree of a trial: who is in it, in which role, and when each one ends.

Sources of new processes, by what the host allows (``host.py``), decided per tracker:

- kernel process events (``procevents``): the hub delivers every fork by a watched process
  and every exec of one the moment it happens; the tracker opens the child's pidfd at once.
  /proc is then only a safety net, scanned every ``EVENTS_SCAN_S`` (hot) or
  ``EVENTS_IDLE_SCAN_S``, and at once after an overrun or a root's launch;
- otherwise /proc scans (``pacing``): every 5 ms while new processes are expected and every
  25 ms otherwise. With a trial cgroup the scan reads the cgroup's ``cgroup.procs`` (one
  file whatever the size of the system, and every process of the system is in it, whatever
  it did); without, ``/proc/<pid>/task/*/children`` of every tracked process, and the
  children of the harness for marked orphans.

Each new process gets a pidfd at once, so its exit wakes the tracker instantly (every pidfd
sits in one epoll set) and no signal can ever reach a recycled pid. Membership is decided
once, at discovery, by the pure ``membership.decide`` (cgroup, fork event, ancestry or the
trial's marker), never by the current parent; this module gathers its inputs and carries
out its ruling. A child not yet exec'd waits in ``pending`` before its role is decided; an
exec event settles it at once. Exits are reaped with ``waitid(P_PIDFD)`` when the process is
ours to reap (own child, or orphan given to us as subreaper), which yields its exit code or
signal. Listening ports are read every ``port_interval`` while hot (``portwatch``).

A daemonizing system (``add_root(..., daemonizes=True)``): its launcher is recorded as a
plain process, and everything it starts is held undecided until the launcher exits; then
each process whose parent is not a live process of the instance is a root (the daemon),
its role decided as a root's. Everything is recorded on the timeline; nothing is judged
here.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal as _signal
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence

from harness.errors import SystemUnderTestError
from harness.observe.events import Event, HarnessNote, NoteLevel, ProcessExit, ProcessStart
from harness.observe.timeline import Timeline
from harness.system import procfs
from harness.system.containment import TrialCgroup
from harness.system.handed import CHECK_EVERY_S, HandedZombies
from harness.system.marker import read_marker, require_proc
from harness.system.membership import (
    DEAD_STATES,
    Action,
    Reason,
    Sighting,
    Via,
    decide,
    pid_reused,
    runs_parent_image,
    screen,
)
from harness.system.pacing import ScanPacer
from harness.system.pending import EXEC_WAIT_S, Pending, PendingExecs
from harness.system.pidfd import ExitStatus, has_exited, open_pidfd, reap, require_pidfd, send
from harness.system.portwatch import PortWatcher
from harness.system.process import TrackedProcess
from harness.system.procevents import Exec, Fork, ProcEventHub, Subscription
from harness.system.roles import (
    UNKNOWN_LINEAGE,
    Lineage,
    RoleMatcher,
    names_forked,
    resolve_role,
)
from harness.system.sockets import diag_available

__all__ = ["EVENTS_IDLE_SCAN_S", "EVENTS_SCAN_S", "EXEC_WAIT_S", "ProcessTracker", "RoleMatcher"]

_REAP_RETRY_S = 2.0
"""How long an exit seen through its pidfd may take to become reapable under load."""
HOT_PORTS_S = 0.02
"""The port scan's period while hot, with sock_diag: a replacement's ``listen`` is timed to
about 20 ms (``recovers``' listening phase), for one netlink dump per round when nothing
changed."""
HOT_PORTS_PROC_S = 0.25
"""The same without sock_diag: each round parses ``/proc/net/tcp{,6}``, every socket of
the machine (22 ms for 3,000 sockets)."""
EVENTS_SCAN_S = 0.5
"""With kernel events: the /proc safety-net scan while hot (events find processes)."""
EVENTS_IDLE_SCAN_S = 5.0
"""With kernel events: the safety-net scan when idle."""
PENDING_POLL_S = 0.005
"""With kernel events: how often a child that has not exec'd yet is looked at again."""
_EXEC_MEMORY_S = 5.0
"""How long an exec event for a pid not sighted yet is remembered."""


class ProcessTracker:
    """Tracks one trial's process trees (one per instance) from their roots down."""

    def __init__(
        self,
        timeline: Timeline,
        roles: Sequence[RoleMatcher],
        *,
        scan_interval: float = 0.005,
        idle_scan_interval: float = 0.025,
        hot_for: float = 2.0,
        port_interval: float | None = None,
        idle_port_interval: float = 2.0,
        cgroup: TrialCgroup | None = None,
        events: ProcEventHub | None = None,
    ) -> None:
        """``cgroup``: the trial's (membership and scans from it); ``events``: the process's
        kernel event hub (discovery from it, /proc scans become a rare safety net).
        ``port_interval``: the port scan's period while hot; by default ``HOT_PORTS_S``
        where sock_diag reads the listening sockets, else ``HOT_PORTS_PROC_S``."""
        if port_interval is None:
            port_interval = HOT_PORTS_S if diag_available() else HOT_PORTS_PROC_S
        require_proc()
        require_pidfd()
        self._timeline = timeline
        self._roles = list(roles)
        self._cgroup = cgroup
        self._pending_poll_s = min(scan_interval, PENDING_POLL_S)
        if events is not None:
            scan_interval = max(scan_interval, EVENTS_SCAN_S)
            idle_scan_interval = max(idle_scan_interval, EVENTS_IDLE_SCAN_S)
        self._pace = ScanPacer(
            scan_interval=scan_interval,
            idle_scan_interval=idle_scan_interval,
            hot_for=hot_for,
            port_interval=port_interval,
            idle_port_interval=idle_port_interval,
        )
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._pump_lock = threading.Lock()
        self._epoll = select.epoll()
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        self._epoll.register(self._wake_r, select.EPOLLIN)
        self._fds: dict[int, int] = {}  # pidfd -> pid, live or pending
        self._live: dict[int, TrackedProcess] = {}
        self._pending = PendingExecs(exec_events=events is not None)
        self._all: list[TrackedProcess] = []
        self._owned: dict[int, TrackedProcess] = {}  # id() -> process ever tracked here
        self._unreaped: dict[int, float] = {}  # pidfd -> give-up time (exited, not yet reapable)
        # Exited processes another process was to reap (waitid: ECHILD): their parent may die
        # first, handing them to the harness as subreaper; then they are ours to reap.
        self._handed = HandedZombies()
        # Instances of exits taken off ``_live`` whose ProcessExit is not on the timeline yet:
        # until it is, ``wait_gone`` must not report them gone (a reader would miss the exit).
        self._exits_unrecorded: list[int] = []
        self._ports = PortWatcher()
        self._trials: set[str] = set()
        self._foreign: set[int] = set()  # children of the harness that are not this trial's
        self._launches = 0  # roots being launched: a new child of the harness is not an orphan
        self._exited: set[int] = set()  # pids whose exit is recorded (maybe unreaped zombies)
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._closed = False
        # Kernel events: the hub's thread queues them here and wakes the tracker.
        self._inbox: deque[tuple[Fork | Exec, int]] = deque()
        self._execs: dict[int, float] = {}  # exec seen before the pid was sighted -> when
        self._rescan = False  # scan at once (an overrun, a launch)
        self._rewatch = False  # the hub forgot what it inferred: watch every live pid again
        self._next_pending = 0.0
        self._sub: Subscription | None = (
            events.subscribe(self._on_events, self._on_overrun) if events is not None else None
        )
        # Daemonizing instances: instance -> launcher pid while it lives (children held).
        self._daemonizing: set[int] = set()
        self._launchers: dict[int, int] = {}
        self._deferred: list[Event] = []  # notes made under the lock, recorded with the rest
        self._named_forked: set[int] = set()  # live pids a ``forked_from`` role named

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Start the tracking thread (idempotent)."""
        with self._lock:
            if self._thread is not None or self._closed:
                return
            self._thread = threading.Thread(target=self._run, name="chaos-tracker", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop tracking: record exits already seen, close every pidfd. Idempotent."""
        with self._lock:
            if self._closed:
                return
            thread = self._thread
        self._stopping.set()
        self._wake()
        if thread is not None:
            thread.join()
        with self._pump_lock:
            self._pump(0.0)
            if self._sub is not None:
                self._sub.close()
            with self._lock:
                self._closed = True
                for fd in list(self._fds):
                    self._forget_fd(fd)
                self._handed.close()
                # The fds are closed: their numbers may be reused by anything. No process
                # keeps one, so a late signal() cannot go through a recycled descriptor.
                for proc in self._all:
                    proc.pidfd = None
                self._epoll.close()
                os.close(self._wake_r)
                os.close(self._wake_w)
            with self._changed:
                self._changed.notify_all()

    @property
    def cgroup(self) -> TrialCgroup | None:
        """The trial's cgroup, when the system is contained in one."""
        return self._cgroup

    @property
    def source(self) -> str:
        """Where new processes are learnt of: ``netlink`` (kernel events) or ``scan``."""
        return "netlink" if self._sub is not None else "scan"

    def cpu_time(self) -> float:
        """CPU seconds the tracking thread has used so far (0.0 if not running)."""
        thread = self._thread
        if thread is None or thread.ident is None or not thread.is_alive():
            return 0.0
        try:
            return time.clock_gettime(time.pthread_getcpuclockid(thread.ident))
        except (OSError, AttributeError):
            return 0.0

    # ------------------------------------------------------------------ the public view

    @contextlib.contextmanager
    def launching(self) -> Iterator[None]:
        """Wrap a root's launch and its ``add_root``: meanwhile no child of the harness is
        adopted as an orphan, so the new root is never tracked twice (once as an orphan)."""
        with self._lock:
            self._launches += 1
        try:
            yield
        finally:
            with self._lock:
                self._launches -= 1

    def add_root(
        self,
        pid: int,
        instance: int,
        *,
        trial_id: str | None = None,
        command: Sequence[str] | None = None,
        daemonizes: bool = False,
    ) -> TrackedProcess:
        """Track a launched root (our own child) from this instant.

        Pass the ``trial_id`` it was marked with and the ``command`` it was started with:
        just after Popen returns, the root may still be mid-exec, its environment and
        command line not yet readable in /proc. With ``daemonizes`` it is the system's
        launcher: recorded as no root, the processes it leaves become the roots.
        """
        if self._sub is not None:
            self._sub.watch(pid, instance)  # before anything: no fork of it is missed
        fd = open_pidfd(pid)
        if fd is None:
            raise SystemUnderTestError(f"the system's root process {pid} vanished at once")
        if trial_id is None:
            marker = read_marker(pid)
            trial_id = marker.trial_id if marker is not None else None
        with self._lock:
            if trial_id is not None:
                self._trials.add(trial_id)
            if daemonizes:
                self._daemonizing.add(instance)
                self._launchers[instance] = pid
            cmdline = list(command) if command is not None else procfs.cmdline(pid) or []
            proc, event = self._track(
                pid,
                os.getpid(),
                instance,
                cmdline,
                self._timeline.now(),
                fd,
                root=not daemonizes,
                launcher=daemonizes,
            )
            # It may have forked before it was watched (no shim held it): look at once.
            self._rescan = self._sub is not None
        self._timeline.record(event)
        if self._rescan:
            self._wake()
        return proc

    def processes(
        self, role: str | None = None, instance: int | None = None, alive_only: bool = True
    ) -> list[TrackedProcess]:
        """Tracked processes (role decided), in order of discovery."""
        with self._lock:
            return [
                p
                for p in self._all
                if (not alive_only or p.alive)
                and (role is None or p.role == role)
                and (instance is None or p.instance == instance)
            ]

    def get(self, pid: int) -> TrackedProcess | None:
        """The live process with ``pid``, else the latest one that had it."""
        with self._lock:
            if pid in self._live:
                return self._live[pid]
            for proc in reversed(self._all):
                if proc.pid == pid:
                    return proc
        return None

    def is_alive(self, pid: int) -> bool:
        """Whether a tracked process with ``pid`` is alive (pending ones included).

        Exact at the instant of the call: an exit the tracker has not processed yet is
        read from the pidfd it holds (readiness must never pass a root that just died).
        """
        with self._lock:
            proc = self._live.get(pid)
            if proc is not None:
                return proc.pidfd is None or not has_exited(proc.pidfd)
            return pid in self._pending

    def instance_alive(self, instance: int) -> bool:
        """Whether any process of ``instance`` is alive (tracked, pending, or in its leaf)."""
        with self._lock:
            if any(p.instance == instance for p in self._pending):
                return True
            if any(
                p.instance == instance and (p.pidfd is None or not has_exited(p.pidfd))
                for p in self._live.values()
            ):
                return True
        if self._cgroup is not None:
            return bool(self._cgroup.leaves[instance].pids())
        return False

    def left_behind(self, instance: int, but: int | None = None) -> list[str]:
        """What is alive of ``instance`` (but ``but``), as ``pid command`` lines.

        With a cgroup, everything in the instance's leaf, tracked or not.
        """
        if self._cgroup is not None:
            pids = self._cgroup.leaves[instance].pids()
        else:
            with self._lock:
                pids = [p.pid for p in self._live.values() if p.instance == instance]
                pids += [p.pid for p in self._pending if p.instance == instance]
        lines = []
        for pid in sorted(set(pids) - {but}):
            argv = procfs.cmdline(pid)
            if argv is None or procfs.state(pid) in ("Z", "X", None):
                continue
            shown = " ".join([os.path.basename(argv[0]), *argv[1:]]) if argv else ""
            lines.append(f"{pid} {shown[:100]}".rstrip())
        return lines

    def pending(self) -> int:
        """How many discovered children still wait for their exec (role undecided)."""
        with self._lock:
            return len(self._pending)

    def decide_pending(self) -> None:
        """Decide every pending role now (teardown must see and sweep them)."""
        events: list[Event] = []
        with self._lock:
            events.extend(self._promote(pend) for pend in self._pending.pop_all())
        for event in events:
            self._timeline.record(event)

    def signal(self, proc: TrackedProcess, signum: int) -> bool:
        """Send ``signum`` through ``proc``'s pidfd; False if it has exited.

        Raises ``PermissionError`` for a process this tracker never tracked.
        """
        with self._lock:
            self._check_owned(proc)
            if self._closed or proc.pidfd is None or proc.exited is not None:
                return False
            held = self._fds.get(proc.pidfd) == proc.pid
            if held:
                self.heat()
                sent = send(proc.pidfd, signum)
                if sent and signum == _signal.SIGSTOP:
                    proc.frozen = True
                elif sent and signum in (_signal.SIGCONT, _signal.SIGKILL):
                    proc.frozen = False
                return sent
        # Not a descriptor held open for this pid: its number may be anyone's by now.
        # Refuse, and put our own bug on record (the trial cannot pass silently).
        self._timeline.record(
            HarnessNote(
                t=self._timeline.now(),
                level=NoteLevel.ERROR,
                message=f"process tracker: no pidfd held for {proc.pid}; signal not sent",
            )
        )
        return False

    def set_frozen(self, proc: TrackedProcess, frozen: bool) -> None:
        """Record that ``proc`` is (not) stopped, so teardown knows to thaw it."""
        with self._lock:
            self._check_owned(proc)
            proc.frozen = frozen

    def wait_gone(self, instance: int | None = None, timeout: float = 10.0) -> bool:
        """Block until no tracked process (of ``instance``) is alive; False on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            with self._changed:
                if not self._any_alive(instance):
                    return True
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                running = self._thread is not None and self._thread.is_alive()
                if running or self._closed:
                    self._changed.wait(remaining)
                    continue
            with self._pump_lock:  # nobody pumps for us: do it here
                self._pump(min(remaining, self._pace.scan_interval))

    def _any_alive(self, instance: int | None) -> bool:
        def ours(owner: int) -> bool:
            return instance is None or owner == instance

        return (
            any(ours(p.instance) for p in self._live.values())
            or any(ours(p.instance) for p in self._pending)
            or any(ours(owner) for owner in self._exits_unrecorded)
        )

    def _check_owned(self, proc: TrackedProcess) -> None:
        if self._owned.get(id(proc)) is not proc:
            raise PermissionError(f"process {proc.pid} is not part of this trial's system")

    # ------------------------------------------------------------------ the loop

    def heat(self) -> None:
        """Scan at the fast interval for a while: something is about to change (a fault
        was injected, a process exited and a replacement is expected).

        Wakes the tracking thread, which may be sleeping until a slow scan is due.
        """
        if self._pace.heat() and not self._closed:
            self._wake()

    def is_hot(self) -> bool:
        """Whether discovery currently runs at the fast interval."""
        return self._pace.is_hot()

    def _run(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            with self._pump_lock:
                try:
                    self._pump(self._pace.wait_s(time.monotonic()))
                    failures = 0
                except Exception as exc:  # never stop watching silently: put it on record
                    failures += 1
                    self._timeline.record(
                        HarnessNote(
                            t=self._timeline.now(),
                            level=NoteLevel.ERROR,
                            message=f"process tracker: {type(exc).__name__}: {exc}",
                        )
                    )
                    if failures >= 3:
                        return
                    self._stopping.wait(self._pace.idle_scan_interval)

    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"x")

    def _pump(self, timeout: float) -> None:
        """One round: wait for exits up to ``timeout``, then scan if due. Hold _pump_lock."""
        if self._closed:
            return
        events: list[Event] = []
        if self._sub is not None and len(self._pending):
            timeout = min(timeout, max(0.0, self._next_pending - time.monotonic()))
        if self._handed:
            timeout = min(timeout, CHECK_EVERY_S)
        try:
            for fd, _ in self._epoll.poll(timeout):
                if fd == self._wake_r:
                    with contextlib.suppress(BlockingIOError):
                        os.read(self._wake_r, 4096)
                    continue
                events.extend(self._on_exit(fd))
            if self._sub is not None:
                events.extend(self._on_kernel_events())
            for fd, give_up in list(self._unreaped.items()):
                events.extend(self._on_exit(fd, give_up=time.monotonic() >= give_up))
            now = time.monotonic()
            if self._handed.due(now):
                self._handed.check()
            if self._rescan:
                self._rescan = False
                events.extend(self._scan())
                if self._cgroup is None:  # a daemon's parent may be gone: look by marker too
                    events.extend(self._adopt_orphans())
                self._pace.scanned()
            elif self._pace.scan_due(now):
                # With events, pending children are re-read on their own clock (below).
                pending = self._sub is None and len(self._pending) > 0
                if self._pace.worth_scanning(now, procfs.last_pid(), pending):
                    events.extend(self._scan())
                self._pace.scanned()
            elif self._sub is not None and len(self._pending) and now >= self._next_pending:
                events.extend(self._pending_due())
            if self._pace.ports_due(now):
                if self._cgroup is None:
                    events.extend(self._adopt_orphans())
                events.extend(self._scan_ports())
                self._pace.ports_scanned()
            if any(isinstance(e, ProcessStart | ProcessExit) for e in events):
                self._pace.heat()
        finally:  # what was seen before a failure still goes on record
            self._record_all(events)

    def _record_all(self, events: list[Event]) -> None:
        """Record every event, even past a failing subscriber (the first error is raised).

        An exit counts as alive for ``wait_gone`` until its ProcessExit is on the timeline.
        """
        first: Exception | None = None
        with self._lock:
            deferred, self._deferred = self._deferred, []
        for event in [*deferred, *events]:
            try:
                self._timeline.record(event)
            except Exception as exc:
                first = first or exc
            finally:
                if isinstance(event, ProcessExit):
                    with self._changed:
                        self._exits_unrecorded.remove(event.instance)
                        self._changed.notify_all()
        if first is not None:
            raise first

    # ------------------------------------------------------------------ discovery

    def _scan(self) -> list[Event]:
        """Find new members (the cgroup's listing, else children of every live process);
        decide pending roles that are due."""
        events: list[Event] = []
        if self._rewatch:
            self._rewatch = False
            self._watch_all()
        me = os.getpid()
        if self._cgroup is not None:
            for pid, instance in self._cgroup.listing().items():
                found = self._sight(pid, 0, instance, None, me, via=Via.CGROUP)
                if found is not None:
                    events.extend(found[1])
        else:
            with self._lock:
                queue = [(p.pid, p.instance, p.cmdline) for p in self._live.values()]
                queue += [(p.pid, p.instance, p.cmdline) for p in self._pending]
            while queue:
                parent, instance, parent_cmdline = queue.pop()
                for child in procfs.children(parent):
                    found = self._sight(child, parent, instance, parent_cmdline, me)
                    if found is not None:
                        events.extend(found[1])
                        queue.append((child, instance, found[0]))
        events.extend(self._pending_due())
        return events

    def _pending_due(self) -> list[Event]:
        """Decide the pending roles that are due (exec'd, waited enough, no longer held)."""
        self._next_pending = time.monotonic() + self._pending_poll_s
        with self._lock:
            due = self._pending.pop_due(time.monotonic(), self._held)
            return [self._promote(pend) for pend in due]

    def _held(self, pend: Pending) -> bool:
        """Held while its daemonizing instance's launcher lives (root or not: unknown)."""
        return pend.instance in self._launchers and pend.pid != self._launchers[pend.instance]

    # ------------------------------------------------------------------ kernel events

    def _on_events(self, events: list[tuple[Fork | Exec, int]]) -> None:
        """On the hub's thread: queue, wake the tracker. Nothing else."""
        self._inbox.extend(events)
        self._wake()

    def _on_overrun(self) -> None:
        """On the hub's thread: events were lost. Watch everything again, then rescan."""
        self._rewatch = True
        self._rescan = True
        with self._lock:
            self._defer_note(
                NoteLevel.WARNING,
                "kernel process events overran (the machine forked faster than"
                " they were read): /proc was scanned again, orphans included",
            )
        self._wake()

    def _watch_all(self) -> None:
        """After an overrun: watch again every process held that has not exited."""
        assert self._sub is not None
        with self._lock:
            held = [(p.pid, p.instance, p.pidfd) for p in self._live.values()]
            held += [(p.pid, p.instance, p.fd) for p in self._pending]
            for pid, instance, fd in held:
                if fd is not None and not has_exited(fd):
                    self._sub.watch(pid, instance)

    def _on_kernel_events(self) -> list[Event]:
        """Sight each forked child at once; settle a pending child the moment it execs."""
        out: list[Event] = []
        me = os.getpid()
        while self._inbox:
            event, instance = self._inbox.popleft()
            if isinstance(event, Fork):
                with self._lock:
                    # The forker may have exited since: its record still says what it ran.
                    forker = self._pending.get(event.parent)
                    parent = self.get(event.parent)
                    parent_cmdline = (
                        forker.cmdline
                        if forker is not None
                        else parent.cmdline
                        if parent is not None
                        else None
                    )
                found = self._sight(
                    event.child, event.parent, instance, parent_cmdline, me, via=Via.FORK
                )
                if found is not None:
                    out.extend(found[1])
                continue
            with self._lock:
                pend = self._pending.get(event.pid)
                if pend is not None:
                    pend.exec_seen = True
                    current = procfs.cmdline(event.pid)
                    if current:
                        pend.cmdline = current
                    # Empty while an exec replaces the image (``env -i sleep``: a second
                    # exec right after the first): the pending pass reads it again soon.
                    if current and not self._held(pend):
                        self._pending.pop(event.pid)
                        out.append(self._promote(pend))
                elif event.pid in self._named_forked:
                    self._named_forked.discard(event.pid)
                    self._note_exec_after_naming(event.pid)
                elif event.pid not in self._live:
                    now = time.monotonic()
                    self._execs[event.pid] = now
                    if len(self._execs) > 256:
                        self._execs = {
                            p: t for p, t in self._execs.items() if now - t < _EXEC_MEMORY_S
                        }
        return out

    def _note_exec_after_naming(self, pid: int) -> None:
        """A child a ``forked_from`` role named at once has exec'd: its role stays, say so.
        Hold ``_lock``."""
        proc = self._live.get(pid)
        if proc is None:
            return
        now = procfs.cmdline(pid) or []
        shown = " ".join([os.path.basename(now[0]), *now[1:]]) if now else ""
        self._defer_note(
            NoteLevel.WARNING,
            f"pid {pid} was named {proc.role!r} (forked_from) before it exec'd"
            f" {shown[:100]!r}; it keeps that role. A forked_from role is for"
            " children that never exec (pre-fork workers)",
        )

    def _sight(
        self,
        pid: int,
        parent: int,
        instance: int,
        parent_cmdline: list[str] | None,
        me: int,
        *,
        via: Via = Via.CHILDREN,
    ) -> tuple[list[str], list[Event]] | None:
        """Look at a found pid and carry out ``membership.decide``'s ruling.

        ``instance`` and ``parent_cmdline`` are the listing parent's (unused and None for the
        orphan scan, where ``parent`` is the harness, ``me``); for the cgroup listing
        ``instance`` is the leaf's and the parent is read. Returns the child's command line
        and its ProcessStart (none while pending), or None when it is skipped.
        """
        with self._lock:
            known = pid in self._live or pid in self._pending
            foreign = parent == me and via is Via.CHILDREN and pid in self._foreign
            exit_recorded = pid in self._exited
        # Dead and unreaped, a pid whose exit is recorded is listed every scan: one small
        # read, and no pidfd, tells it apart from a new process that got its pid.
        state = procfs.state(pid) if exit_recorded and not known else None
        skip = screen(known=known, foreign=foreign, exit_recorded=exit_recorded, state=state)
        if skip is not None:
            return None
        seen_t, seen_mono = self._timeline.now(), time.monotonic()
        fd = open_pidfd(pid)
        if fd is None:
            return None
        # With the pidfd open the pid cannot be recycled: everything read now is about it.
        read = procfs.state_and_ppid(pid)
        marker = read_marker(pid)
        cmdline = procfs.cmdline(pid)
        cgroup_instance = self._cgroup.instance_of(pid) if self._cgroup is not None else None
        if via is Via.CGROUP and read is not None:
            parent = read[1]
            with self._lock:
                known_parent = self._live.get(parent)
                parent_cmdline = known_parent.cmdline if known_parent is not None else None
        # The parent's command line as recorded may be stale (read mid-exec, or before it
        # exec'd): a child showing the parent's current one has not exec'd yet either.
        parent_now = procfs.cmdline(parent)
        with self._lock:  # what the tracker knows now: a root may have been added meanwhile
            exec_seen = (pid in self._execs) if self._sub is not None else None
            sighting = Sighting(
                pid=pid,
                listed_under=parent,
                harness=me,
                instance=instance,
                parent_cmdline=tuple(parent_cmdline) if parent_cmdline is not None else None,
                known=pid in self._live or pid in self._pending,
                exit_recorded=pid in self._exited,
                foreign=pid in self._foreign,
                launching=self._launches > 0,
                trials=frozenset(self._trials),
                held=True,
                state=read[0] if read is not None else None,
                ppid=read[1] if read is not None else None,
                marker=marker,
                cmdline=tuple(cmdline) if cmdline is not None else None,
                parent_cmdline_now=tuple(parent_now) if parent_now is not None else None,
                via=via,
                in_cgroup=(cgroup_instance is not None) if self._cgroup is not None else None,
                cgroup_instance=cgroup_instance,
                exec_seen=exec_seen,
            )
            self._execs.pop(pid, None)
            if pid_reused(sighting):
                self._exited.discard(pid)  # alive: the process we saw exit had this pid before
            decision = decide(sighting)
            if decision.action is Action.SKIP:
                if sighting.orphan and decision.reason is Reason.FOREIGN:
                    self._foreign.add(pid)  # listed every orphan scan: look no more
                os.close(fd)
                return None
            assert decision.instance is not None  # decide gives every member its instance
            found = list(cmdline or [])
            alive = read is not None and read[0] not in DEAD_STATES
            if self._sub is not None and via is not Via.FORK and alive:
                # A fork's child is watched by the hub already; a dead one forks no more.
                self._sub.watch(pid, decision.instance)
            # Its parent's image (not empty: mid-exec it is on its way out).
            forked = runs_parent_image(cmdline, exec_seen, (parent_cmdline, parent_now))
            at_once = forked and decision.action is Action.PENDING and self._names_forked(parent)
            if at_once and decision.instance not in self._launchers:
                # A ``forked_from`` role names it now: a pre-fork worker never execs.
                lineage = Lineage(parent_role=self._role_of(parent), forked=True)
                _, event = self._track(
                    pid, parent, decision.instance, found, seen_t, fd, lineage=lineage
                )
                return found, [event]
            if decision.action is Action.PENDING or decision.instance in self._launchers:
                self._pending.add(
                    Pending(
                        pid, parent, decision.instance, fd, seen_t, seen_mono, parent_cmdline, found
                    )
                )
                self._fds[fd] = pid
                self._epoll.register(fd, select.EPOLLIN)
                return found, []
            _, event = self._track(pid, parent, decision.instance, found, seen_t, fd)
        return found, [event]

    def _promote(self, pend: Pending) -> Event:
        """A pending child's role is decided now; its start time stays the first sighting."""
        parents = (pend.parent_cmdline, procfs.cmdline(pend.ppid))
        forked = runs_parent_image(pend.cmdline, pend.exec_seen, parents)
        lineage = Lineage(parent_role=self._role_of(pend.ppid), forked=forked)
        _, event = self._track(
            pend.pid,
            pend.ppid,
            pend.instance,
            pend.cmdline,
            pend.seen_t,
            pend.fd,
            watch=False,
            lineage=lineage,
        )
        return event

    def _role_of(self, pid: int) -> str | None:
        """The role of a tracked process (live or exited), or None. Hold ``_lock``."""
        proc = self._live.get(pid)
        return proc.role if proc is not None else None

    def _names_forked(self, parent: int) -> bool:
        """Whether un-exec'd children of ``parent`` are named at once. Hold ``_lock``."""
        return names_forked(self._roles, self._role_of(parent))

    def _daemon_root(self, pid: int, instance: int) -> bool:
        """In a daemonizing instance whose launcher is gone: is ``pid`` a top of what is left
        (its parent no live process of the instance)? Hold ``_lock``."""
        if instance not in self._daemonizing or instance in self._launchers:
            return False
        read = procfs.state_and_ppid(pid)
        if read is None or read[0] in DEAD_STATES:
            return False  # gone already (an intermediate of a double fork): never a root
        ppid = read[1]
        parents = {p.pid for p in self._live.values() if p.instance == instance}
        parents |= {p.pid for p in self._pending if p.instance == instance}
        # An exiting parent's children are re-parented before it becomes a zombie: a
        # parent still named here is alive, and the process is no top.
        return ppid not in parents

    def _track(
        self,
        pid: int,
        ppid: int,
        instance: int,
        cmdline: list[str],
        seen_t: float,
        fd: int,
        *,
        root: bool = False,
        watch: bool = True,
        launcher: bool = False,
        lineage: Lineage = UNKNOWN_LINEAGE,
    ) -> tuple[TrackedProcess, Event]:
        """Register a decided process (hold ``_lock``); ``watch``: add its pidfd to epoll."""
        if not root and not launcher and self._daemon_root(pid, instance):
            root = True
            self._defer_note(
                NoteLevel.INFO,
                f"instance {instance} daemonized: pid {pid}"
                f" ({' '.join(cmdline)[:60]}) is one of its roots",
            )
        role = resolve_role(
            self._roles,
            root=root,
            cmdline=cmdline,
            exe=lambda: procfs.exe_name(pid),
            lineage=lineage,
        )
        if lineage.forked and role is not None and names_forked(self._roles, lineage.parent_role):
            self._named_forked.add(pid)
        proc = TrackedProcess(
            pid=pid,
            ppid=ppid,
            instance=instance,
            role=role,
            cmdline=cmdline,
            started=seen_t,
            root=root,
            pidfd=fd,
        )
        self._live[pid] = proc
        self._all.append(proc)
        self._owned[id(proc)] = proc
        self._fds[fd] = pid
        if watch:
            self._epoll.register(fd, select.EPOLLIN)
        event = ProcessStart(
            t=seen_t,
            pid=pid,
            ppid=ppid,
            instance=instance,
            role=role,
            cmdline=list(cmdline),
            root=root,
        )
        return proc, event

    def _adopt_orphans(self) -> list[Event]:
        """Track marked processes of this trial that were re-parented to the harness unseen."""
        if not self._trials:
            return []
        me = os.getpid()
        mine = procfs.children(me)
        self._foreign &= set(mine)
        events: list[Event] = []
        for pid in mine:
            found = self._sight(pid, me, 0, None, me)
            if found is not None:
                events.extend(found[1])
        return events

    # ------------------------------------------------------------------ exits and ports

    def _on_exit(self, fd: int, *, give_up: bool = False) -> list[Event]:
        """The process behind ``fd`` exited: reap it if ours, record it, close the pidfd."""
        status = reap(fd)
        # Another parent's to reap (or never reapable): kept in view, in case it is handed
        # to the harness (``HandedZombies``).
        handed = (status is not None and not status.reaped) or (status is None and give_up)
        if status is None and not give_up:
            # Exited but not yet reapable: stop polling it, retry on the next rounds.
            with self._lock:
                if fd not in self._unreaped and fd in self._fds:
                    self._epoll.unregister(fd)
                    self._unreaped[fd] = time.monotonic() + _REAP_RETRY_S
            return []
        status = status or ExitStatus()
        events: list[Event] = []
        with self._lock:
            pid = self._fds.get(fd)
            if pid is None:
                return []
            if handed:
                self._handed.keep(fd, pid)
            pend = self._pending.pop(pid)
            if pend is not None:
                events.append(self._promote(pend))
            proc = self._live.pop(pid, None)
            self._named_forked.discard(pid)
            self._forget_fd(fd)  # still watched: the hub unwatches it at its exit event
            if proc is None:
                return events
            if self._launchers.get(proc.instance) == pid:
                del self._launchers[proc.instance]  # what it left is decided now
                self._next_pending = 0.0
                self._rescan = True
            elif proc.root and proc.instance not in self._daemonizing and status.code == 0:
                self._note_left_by(proc)
            proc.exited = self._timeline.now()
            proc.pidfd = None
            self._exited.add(pid)
            proc.frozen = False
            events.append(
                ProcessExit(
                    t=proc.exited,
                    pid=pid,
                    instance=proc.instance,
                    role=proc.role,
                    code=status.code,
                    signal=status.signal,
                )
            )
            self._exits_unrecorded.append(proc.instance)
        return events

    def _note_left_by(self, root: TrackedProcess) -> None:
        """A root exited 0 leaving processes running: say so (it daemonized?). Hold _lock."""
        left = [p.pid for p in self._live.values() if p.instance == root.instance]
        left += [p.pid for p in self._pending if p.instance == root.instance]
        if left:
            self._defer_note(
                NoteLevel.WARNING,
                f"the root of instance {root.instance} (pid {root.pid}) exited,"
                f" leaving {len(left)} process(es) of it running"
                f" ({', '.join(map(str, sorted(left)[:6]))}); if the system daemonizes,"
                " say `system.daemonizes: true`",
            )

    def _defer_note(self, level: NoteLevel, message: str) -> None:
        """A note made under ``_lock``, recorded with the next batch of events."""
        self._deferred.append(HarnessNote(t=self._timeline.now(), level=level, message=message))

    def _forget_fd(self, fd: int) -> None:
        """Stop polling and close ``fd`` (hold ``_lock``)."""
        self._fds.pop(fd, None)
        if self._unreaped.pop(fd, None) is None:
            with contextlib.suppress(OSError, ValueError):
                self._epoll.unregister(fd)
        os.close(fd)

    def _scan_ports(self) -> list[Event]:
        """Record each (process, port) the first time it is seen listening."""
        with self._lock:
            live = dict(self._live)
        return list(self._ports.scan(live, self._timeline.now))
