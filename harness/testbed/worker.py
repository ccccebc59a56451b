"""The worker child: claims jobs from the SQLite queue, runs them, finishes them.

Heartbeats go both to the ``processes`` table (for the prune that outlives a supervisor)
and over the channel (for the live supervisor's freeze check). On SIGTERM a job in flight
finishes if it can within the grace period, else it is released back to ready; with the
``no-graceful-shutdown`` bug SIGTERM keeps its default action and kills the worker at once.
A poison job makes its worker SIGKILL itself.

A write the queue refuses (its disk is full) is retried: a claim waits a beat, and a job
that ran keeps its result until ``finish`` is written, however long that takes, so no job
is lost to a full disk (``drop-on-write-error``: the job is dropped, claimed forever).

With ``--job-mib N`` every job allocates and writes N MiB while it runs, so a memory limit
on a worker meets real work (the kernel OOM-kills it on its next job).
"""

from __future__ import annotations

import mmap
import os
import select
import signal
import sqlite3
import sys
import threading
import time
from pathlib import Path

from harness.testbed import jobs, lifeline
from harness.testbed.channel import Channel

MARGIN_S = 0.2


class Worker:
    """One worker process's loop."""

    def __init__(self, flags: dict[str, str], channel: Channel) -> None:
        self.name = flags.get("name", "w?")
        self.role = f"worker {self.name}"
        self.channel = channel
        self.db = Path(flags["db"])
        self.beat = float(flags.get("beat", "0.5"))
        self.grace = float(flags.get("grace", "5"))
        self.graceful = flags.get("graceful", "1") == "1"
        self.drop_on_error = flags.get("drop-on-write-error") == "1"
        self.job_mib = int(flags.get("job-mib", "0"))
        self.conn = jobs.connect(self.db)
        self.process_id = jobs.register_process(
            self.conn, os.getpid(), self.name, int(flags.get("supervisor-pid", "0"))
        )
        self.stopping = False
        self.wake_r, wake_w = os.pipe()
        os.set_blocking(wake_w, False)
        if self.graceful:
            signal.set_wakeup_fd(wake_w)
            signal.signal(signal.SIGTERM, self._on_term)

    def _on_term(self, signum: int, frame: object) -> None:
        self.stopping = True

    def wait(self, timeout: float) -> list[dict[str, object]] | None:
        """Wait for channel messages or a stop signal; None at channel EOF."""
        ready, _, _ = select.select([self.channel.fileno(), self.wake_r], [], [], timeout)
        if self.wake_r in ready:
            os.read(self.wake_r, 512)
        if self.channel.fileno() in ready:
            return self.channel.feed()
        return []

    def heartbeats(self) -> None:
        """Thread: beat to the table and the channel."""
        conn = jobs.connect(self.db)
        while True:
            time.sleep(self.beat)
            try:
                jobs.heartbeat(conn, self.process_id)
            except sqlite3.Error as exc:
                lifeline.log(self.role, f"heartbeat failed: {exc}")
            self.channel.send({"t": "hb"})

    def run(self) -> int:
        """Claim and run jobs until stopped; then leave cleanly."""
        self.channel.send({"t": "ready", "process_id": self.process_id, "pid": os.getpid()})
        threading.Thread(target=self.heartbeats, daemon=True).start()
        while not self.stopping:
            try:
                job = jobs.claim(self.conn, self.process_id, os.getpid())
            except sqlite3.OperationalError as exc:
                lifeline.log(self.role, f"cannot claim a job: {exc}; waiting")
                if self.wait(self.beat) is None:
                    lifeline.parent_gone()
                continue
            if job is None:
                if self.wait(self.beat) is None:
                    lifeline.parent_gone()
                continue
            lifeline.log(self.role, f"claimed job {job['id']}")  # what on_log triggers read
            self.run_job(job)
        released = jobs.release(self.conn, self.process_id)
        jobs.deregister(self.conn, self.process_id)
        lifeline.log(self.role, f"stopped gracefully (released {released} job(s))")
        return 0

    def run_job(self, job: sqlite3.Row) -> None:
        """Run one claimed job: sleep its duration, honouring a stop within the grace."""
        if job["poison"]:
            lifeline.log(self.role, f"poison job {job['id']}: dying")
            os.kill(os.getpid(), signal.SIGKILL)
        end = time.monotonic() + float(job["seconds"])
        held = _ballast(self.job_mib << 20)
        stop_deadline: float | None = None
        while (left := end - time.monotonic()) > 0:
            if self.stopping and stop_deadline is None:
                stop_deadline = time.monotonic() + self.grace - MARGIN_S
                if end > stop_deadline:
                    jobs.release(self.conn, self.process_id)
                    return
            if self.wait(left) is None:
                lifeline.parent_gone()
        if held is not None:
            held.close()
        self.record_finish(job["id"])

    def record_finish(self, job_id: str) -> None:
        """Write that the job finished; retry while the queue refuses the write."""
        pause, said = 0.05, False
        while True:
            try:
                jobs.finish(self.conn, job_id, self.process_id)
            except sqlite3.OperationalError as exc:
                if self.drop_on_error:
                    lifeline.log(self.role, f"could not record job {job_id} ({exc}); dropped")
                    return
                if not said:
                    lifeline.log(self.role, f"could not record job {job_id} ({exc}); retrying")
                    said = True
                if self.wait(pause) is None:
                    lifeline.parent_gone()
                pause = min(pause * 2, self.beat)
                continue
            if said:
                lifeline.log(self.role, f"recorded job {job_id} after the write failed")
            return


def _ballast(size: int) -> mmap.mmap | None:
    """``size`` bytes of fresh anonymous memory, every page written so it is charged now
    (an mmap of its own: never pages the allocator kept from an earlier job)."""
    if size <= 0:
        return None
    held = mmap.mmap(-1, size)
    for offset in range(0, size, mmap.PAGESIZE):
        held[offset] = 1
    return held


def main(argv: list[str] | None = None) -> int:
    """Entry point: ``python -m harness.testbed.worker --fd N --db PATH --name w0``."""
    flags = lifeline.parse_flags(sys.argv[1:] if argv is None else argv)
    lifeline.tie_to_parent()
    channel = lifeline.open_channel(int(flags["fd"]))
    return Worker(flags, channel).run()


if __name__ == "__main__":
    raise SystemExit(main())
