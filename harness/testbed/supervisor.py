"""The supervisor: owns the children, runs the restart policy, answers for their state.

All decisions come from ``policy.decide``; this module only turns observations (pidfd
readable, channel messages, timers) into events and decisions into process calls. It runs
on one ``Loop`` thread; HTTP threads read state under ``lock`` and hand work over with
``loop.call_soon_threadsafe``.
"""

from __future__ import annotations

import signal
import sqlite3
import sys
import threading
import time
from dataclasses import replace
from typing import Any

from harness.testbed import children, jobs, ticks
from harness.testbed.channel import Message
from harness.testbed.children import Child
from harness.testbed.config import Options
from harness.testbed.lifeline import PARENT_ENV
from harness.testbed.loop import Loop
from harness.testbed.policy import Event, GiveUp, Phase, Policy, Restart, SlotState, decide
from harness.testbed.reaping import ExitWatch
from harness.testbed.slots import ROLE_MODULES, Slot

JAN_WATCHDOG_DELAY_S = 5.0


def log(text: str) -> None:
    """A supervisor log line on stderr."""
    sys.stderr.write(f"[supervisor] {text}\n")
    sys.stderr.flush()


class Supervisor:
    """Children, their slots, and the event handlers that keep them true."""

    def __init__(self, options: Options, loop: Loop, queue: sqlite3.Connection) -> None:
        self.opt = options
        self.loop = loop
        self.exits = ExitWatch(loop, options.reap_poll_s)
        self.queue = queue  # loop-thread connection
        self.lock = threading.RLock()
        self.backend_changed = threading.Condition(self.lock)
        self.backend_gen = 0
        self.stopping = False
        self.start_failed: str | None = None
        """Set when a role gave up before the system was ever ready: we exit non-zero."""
        self.ready_once = threading.Event()
        self.on_ready: list[Any] = []
        self.env = children.child_env(options.bug("orphans"))
        self.slots: dict[str, Slot] = {}
        base = Policy(
            max_restarts=options.max_restarts,
            window_s=options.restart_window_s,
            backoff_base_s=options.backoff_base_s,
            backoff_cap_s=options.backoff_cap_s,
            extra_delay_s=1.0 if options.bug("slow-restart") else 0.0,
        )
        self._add("backend", "backend", replace(base, restart=not options.bug("no-restart")))
        for i in range(options.modules):
            self._add(f"m{i}", "module", base)
        for i in range(options.workers):
            self._add(f"w{i}", "worker", base)
        self._vars_seq = 0
        self._tick_anchor: float | None = None
        """Tick mode: when the supervisor announced ready, the origin of its checks."""

    def _add(self, name: str, role: str, policy: Policy) -> None:
        self.slots[name] = Slot(name, role, SlotState(policy=policy))

    # --- starting children ---------------------------------------------------------------

    def start(self) -> None:
        """Spawn every child and start the periodic checks (loop thread)."""
        for slot in self.slots.values():
            self.spawn(slot)
        self.loop.call_later(self.opt.beat_s, self._heartbeat_tick)
        self.loop.call_later(self.opt.vars_interval_s, self._vars_tick)

    def _args(self, slot: Slot) -> list[str]:
        o = self.opt
        args = ["--instance", o.instance_id, "--beat", str(o.beat_s), "--name", slot.name]
        if slot.role == "backend" and o.bug("fixed-port"):
            args += ["--port", str(o.backend_port), "--allow-foreign-destroy", "1"]
        elif slot.role == "backend" and o.backend_bind:
            args += ["--port", str(o.backend_bind)]
        elif slot.role == "module":
            args += ["--register-timeout", str(o.register_timeout_s)]
        elif slot.role == "worker":
            args += ["--db", str(o.data_dir.resolve() / "jobs.sqlite3"), "--grace"]
            args += [str(o.grace_s), "--supervisor-pid", str(self.env[PARENT_ENV])]
            args += ["--graceful", "0" if o.bug("no-graceful-shutdown") else "1"]
            args += ["--drop-on-write-error", "1" if o.bug("drop-on-write-error") else "0"]
            args += ["--job-mib", str(o.job_mib)]
        return args

    def _spawn_child(self, slot: Slot) -> Child:
        return children.spawn(slot.name, ROLE_MODULES[slot.role], self._args(slot), self.env)

    def spawn(self, slot: Slot) -> None:
        """Start a fresh child for the slot and reset its per-child state."""
        slot.restart_timer = None
        child = self._spawn_child(slot)
        with self.lock:
            slot.child = child
            slot.state = decide(slot.state, Event.SPAWNED, time.monotonic()).state
            slot.pruned = False
            slot.process_id = None
            if slot.role == "backend":
                slot.port = None
                self._backend_bump()
            if slot.role == "module" and not self.opt.bug("stale-registration"):
                slot.registered = False  # the fix: per-child state reset on every respawn
        log(f"spawned {slot.name} pid {child.pid} (t={time.monotonic():.6f})")
        self.exits.watch(child.pidfd, lambda: self._on_exit(slot, child))
        self.loop.watch(child.channel.fileno(), lambda: self._on_readable(slot, child))
        if slot.role == "module":
            if slot.registered:  # stale state: ordinary messages before registration
                self._send_vars(slot)
            else:
                timeout = self.opt.register_timeout_s + 0.5
                slot.register_timer = self.loop.call_later(
                    timeout, lambda: self._register_timeout(slot, child)
                )

    # --- messages ------------------------------------------------------------------------

    def _on_readable(self, slot: Slot, child: Child) -> None:
        if child.exit_code is not None:
            return
        messages = child.channel.feed()
        if messages is None:
            self.loop.unwatch(child.channel.fileno())
            return
        for msg in messages:
            self._on_message(slot, child, msg)

    def _on_message(self, slot: Slot, child: Child, msg: Message) -> None:
        kind = msg.get("t")
        child.last_hb = time.monotonic()
        if kind == "ready" and slot.role == "backend":
            with self.lock:
                slot.port = int(msg["port"])
            self._mark_ready(slot)
        elif kind == "ready" and slot.role == "worker":
            with self.lock:
                slot.process_id = int(msg["process_id"])
            self._mark_ready(slot)
        elif kind == "register" and slot.role == "module":
            if slot.registered:
                log(f"module {slot.name}: duplicate register ignored (already registered)")
                return
            child.channel.send({"t": "registered", "name": slot.name})
            with self.lock:
                slot.registered = True
                if self.opt.bug("exit-listener-removed"):
                    slot.listener_removed = True
            if slot.register_timer is not None:
                slot.register_timer.cancel()
            self._mark_ready(slot)
            self._send_vars(slot)

    def _mark_ready(self, slot: Slot) -> None:
        if slot.child is not None:
            log(f"{slot.name} pid {slot.child.pid} ready (t={time.monotonic():.6f})")
        with self.lock:
            slot.state = decide(slot.state, Event.READY, time.monotonic()).state
            if slot.role == "backend":
                self._backend_bump()
            all_ready = self.ready()
        if all_ready and not self.ready_once.is_set():
            self.ready_once.set()
            if self.opt.restart_tick_s > 0:
                self._tick_anchor = time.monotonic()
                self.loop.call_later(self.opt.restart_tick_s, self._restart_tick)
            for callback in self.on_ready:
                callback()

    def _register_timeout(self, slot: Slot, child: Child) -> None:
        if slot.child is child and child.exit_code is None and not slot.registered:
            log(f"module {slot.name} pid {child.pid} did not register in time: killing it")
            child.signal(signal.SIGKILL)

    def _send_vars(self, slot: Slot) -> None:
        if slot.child is not None and slot.child.exit_code is None:
            self._vars_seq += 1
            slot.child.channel.send({"t": "vars", "seq": self._vars_seq})

    def _vars_tick(self) -> None:
        if self.stopping:
            return
        for slot in self.slots.values():
            if slot.role == "module" and slot.registered:
                self._send_vars(slot)
        self.loop.call_later(self.opt.vars_interval_s, self._vars_tick)

    # --- exits ---------------------------------------------------------------------------

    def _on_exit(self, slot: Slot, child: Child) -> None:
        if child.exit_code is not None:
            return
        self._on_readable(slot, child)  # last words first (a ready/process_id message)
        self.exits.unwatch(child.pidfd)
        self.loop.unwatch(child.channel.fileno())
        code = child.reap()
        if slot.role == "worker":
            self._settle_jobs(slot)
        if self.stopping:
            self._maybe_finish_stop()
            return
        if slot.listener_removed:  # bug: the respawn library restarts it, we never know
            log(f"module {slot.name} exited ({code}); respawned silently")
            self._spawn_hidden(slot)
            return
        now = time.monotonic()
        if slot.role == "worker" and code == -signal.SIGKILL and self.opt.bug("oom-clean-exit"):
            # The bug: a SIGKILL is taken for "stopped on purpose", so an OOM-killed
            # worker is never replaced (a supervisor that reads the status, not the cause).
            log(f"{slot.name} pid {child.pid} exited cleanly (status {code}); not restarted")
            with self.lock:
                slot.state = decide(slot.state, Event.STOP, now).state
            return
        log(f"{slot.name} pid {child.pid} exited with {code}")
        with self.lock:
            decision = decide(slot.state, Event.EXITED, now)
            slot.state = decision.state
            if slot.role == "backend":
                self._backend_bump()
        action = decision.action
        if isinstance(action, Restart):
            delay = action.delay_s
            if slot.role == "backend" and code == 0 and self.opt.bug("fixed-port"):
                # Jan's watchdog respawned a backend that stopped "normally" after 5 s: long
                # enough for the other instance to take the fixed port (Jan #4565).
                delay = max(delay, JAN_WATCHDOG_DELAY_S)
            if self._tick_anchor is not None:  # tick mode: the next check restarts it
                slot.died_at, slot.restart_at = now, now + delay
            else:
                slot.restart_timer = self.loop.call_later(delay, lambda: self.spawn(slot))
        elif isinstance(action, GiveUp):
            slot.gave_up = action.reason
            log(f"{slot.name} gave up: {action.reason}")
            if not self.ready_once.is_set():
                # A system that cannot start says so and exits, instead of hanging unready.
                self.start_failed = f"{slot.name} could not start: {action.reason}"
                log(f"fatal: {self.start_failed}; stopping")
                self.begin_stop()
        elif decision.state.phase is Phase.CRASHED:
            log(f"{slot.name} is not restarted")

    def _spawn_hidden(self, slot: Slot) -> None:
        hidden = self._spawn_child(slot)
        slot.hidden.append(hidden)

        def gone() -> None:
            self.exits.unwatch(hidden.pidfd)
            hidden.reap()
            slot.hidden.remove(hidden)
            if self.stopping:
                self._maybe_finish_stop()
            else:
                log(f"module {slot.name} exited ({hidden.exit_code}); respawned silently")
                self._spawn_hidden(slot)

        self.exits.watch(hidden.pidfd, gone)

    def _settle_jobs(self, slot: Slot) -> None:
        """Jobs claimed by a worker that just exited."""
        pid_row = slot.process_id
        if pid_row is None:
            return
        o = self.opt
        if self.stopping:
            if not o.bug("no-graceful-shutdown"):
                jobs.release(self.queue, pid_row)
        elif o.bug("no-prune"):
            return
        elif o.bug("unbounded-requeue"):
            jobs.requeue_claimed(self.queue, pid_row)
        elif not slot.pruned:
            n = jobs.fail_claimed(self.queue, pid_row, jobs.PROCESS_EXIT)
            if n:
                log(f"{slot.name}: {n} claimed job(s) settled ({jobs.PROCESS_EXIT})")
        if not (self.stopping and o.bug("no-graceful-shutdown")):
            jobs.deregister(self.queue, pid_row)

    # --- restart ticks (--restart-tick) --------------------------------------------------

    def _restart_tick(self) -> None:
        """A check: replace every child whose restart is due (``harness.testbed.ticks``)."""
        if self.stopping or self._tick_anchor is None:
            return
        now = time.monotonic()
        period = self.opt.restart_tick_s
        for slot in self.slots.values():
            if not ticks.due(slot.restart_at, now) or slot.died_at is None:
                continue
            died_at, slot.restart_at, slot.died_at = slot.died_at, None, None
            if self.opt.bug("tick-drop") and ticks.dropped(died_at, now, period):
                log(
                    f"{slot.name} died {now - died_at:.3f}s before the check: taken for a "
                    "stop in progress; not restarted"
                )
                continue
            self.spawn(slot)
        after = ticks.next_tick(self._tick_anchor, period, now)
        self.loop.call_later(after - time.monotonic(), self._restart_tick)

    # --- heartbeats ----------------------------------------------------------------------

    def _heartbeat_tick(self) -> None:
        if self.stopping:
            return
        if not self.opt.bug("no-heartbeat-check"):
            self._replace_frozen()
        if not self.opt.bug("no-prune"):
            self._prune_stale()
        self.loop.call_later(self.opt.beat_s, self._heartbeat_tick)

    def _replace_frozen(self) -> None:
        now = time.monotonic()
        for slot in self.slots.values():
            child = slot.child
            if child is None or child.exit_code is not None or slot.phase is not Phase.READY:
                continue
            silent = now - child.last_hb
            if silent <= self.opt.threshold_s:
                continue
            log(f"{slot.name} pid {child.pid}: no heartbeat for {silent:.1f}s; replacing it")
            pid_row = slot.process_id
            if slot.role == "worker" and pid_row is not None and not self.opt.bug("no-prune"):
                jobs.fail_claimed(self.queue, pid_row, jobs.PROCESS_PRUNED)
                slot.pruned = True
            child.signal(signal.SIGKILL)

    def _prune_stale(self) -> None:
        ours = {s.process_id for s in self.slots.values() if s.alive() and s.process_id}
        for row in jobs.stale_processes(self.queue, self.opt.threshold_s):
            if row["id"] in ours:
                continue
            n = jobs.fail_claimed(self.queue, row["id"], jobs.PROCESS_PRUNED)
            jobs.deregister(self.queue, row["id"])
            log(f"pruned dead process {row['name']} pid {row['pid']}: {n} job(s) failed")

    def notify_workers(self) -> None:
        """Wake idle workers: a job was enqueued (loop thread)."""
        for slot in self.slots.values():
            if slot.role == "worker" and slot.alive() and slot.child is not None:
                slot.child.channel.send({"t": "job"})

    # --- stopping ------------------------------------------------------------------------

    def begin_stop(self) -> None:
        """SIGTERM every child, SIGKILL what is left after the grace period (loop thread)."""
        if self.stopping:
            return
        log("stopping: SIGTERM to children")
        self.stopping = True
        now = time.monotonic()
        for slot in self.slots.values():
            with self.lock:
                slot.state = decide(slot.state, Event.STOP, now).state
            if slot.restart_timer is not None:
                slot.restart_timer.cancel()
        for child in self._live_children():
            child.signal(signal.SIGTERM)
        self.loop.call_later(self.opt.grace_s, self._kill_survivors)
        self._maybe_finish_stop()

    def _live_children(self) -> list[Child]:
        out: list[Child] = []
        for slot in self.slots.values():
            if slot.child is not None and slot.child.exit_code is None:
                out.append(slot.child)
            out.extend(c for c in slot.hidden if c.exit_code is None)
        return out

    def _kill_survivors(self) -> None:
        for child in self._live_children():
            log(f"{child.slot} pid {child.pid} outlived the grace period: SIGKILL")
            child.signal(signal.SIGKILL)

    def _maybe_finish_stop(self) -> None:
        if not self._live_children():
            self.loop.stop()

    # --- queries (any thread) ------------------------------------------------------------

    def _backend_bump(self) -> None:
        self.backend_gen += 1
        self.backend_changed.notify_all()

    def backend_endpoint(self) -> tuple[int, bool, int | None]:
        """(generation, running, port) of the backend."""
        with self.lock:
            slot = self.slots["backend"]
            return self.backend_gen, slot.healthy(), slot.port

    def wait_backend_change(self, gen: int, timeout: float) -> None:
        """Block until the backend's state changes from generation ``gen`` or timeout."""
        with self.lock:
            self.backend_changed.wait_for(lambda: self.backend_gen != gen, timeout)

    def ready(self) -> bool:
        """Every role at its healthy count (modules registered)."""
        with self.lock:
            return all(
                s.healthy() and (s.role != "module" or s.registered) for s in self.slots.values()
            )

    def status(self) -> dict[str, Any]:
        """Per-slot state, pid and restart count, plus a per-role summary."""
        with self.lock:
            groups: dict[str, dict[str, Any]] = {"modules": {}, "workers": {}}
            roles: dict[str, dict[str, int]] = {}
            for slot in self.slots.values():
                entry = slot.report()
                if slot.role == "backend":
                    backend = entry
                else:
                    groups[slot.role + "s"][slot.name] = entry
                summary = roles.setdefault(slot.role, {"expected": 0, "healthy": 0, "restarts": 0})
                summary["expected"] += 1
                summary["healthy"] += int(slot.healthy())
                summary["restarts"] += slot.state.restarts
            return {"backend": backend, **groups, "roles": roles, "ready": self.ready()}
