"""The job queue: one SQLite file (WAL) shared by the supervisor and its workers.

Modelled on SolidQueue: a ``processes`` table with heartbeats and a ``jobs`` table. Every
state change is one conditional UPDATE inside a transaction, so a job can never end both
finished and failed: ``finish`` only applies to a job still claimed by the caller, and
``fail_claimed`` only to jobs still claimed.
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS processes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    pid INTEGER NOT NULL, name TEXT NOT NULL, supervisor_pid INTEGER NOT NULL,
    last_heartbeat REAL NOT NULL);
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY, seconds REAL NOT NULL, poison INTEGER NOT NULL DEFAULT 0,
    retries INTEGER NOT NULL DEFAULT 0, state TEXT NOT NULL DEFAULT 'ready',
    runs INTEGER NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0, error TEXT,
    claimed_by INTEGER, worker_pid INTEGER, created REAL NOT NULL, updated REAL NOT NULL);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs(state, created);
CREATE INDEX IF NOT EXISTS jobs_claimed_by ON jobs(claimed_by);
"""

STATES = ("ready", "claimed", "finished", "failed")
PROCESS_EXIT = "ProcessExitError"
PROCESS_PRUNED = "ProcessPrunedError"


def connect(path: Path) -> sqlite3.Connection:
    """Open the queue (autocommit; explicit BEGIN IMMEDIATE for writes)."""
    conn = sqlite3.connect(str(path), timeout=10.0, isolation_level=None)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA busy_timeout=10000")
    return conn


def create(path: Path) -> None:
    """Create the tables if missing."""
    conn = connect(path)
    try:
        conn.executescript(SCHEMA)
    finally:
        conn.close()


def _write(conn: sqlite3.Connection, sql: str, args: tuple[Any, ...]) -> int:
    conn.execute("BEGIN IMMEDIATE")
    try:
        count = conn.execute(sql, args).rowcount
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    commit(conn)
    return count


def commit(conn: sqlite3.Connection) -> None:
    """COMMIT; if it fails (a full disk: SQLITE_FULL), roll back whatever is left, so the
    connection is usable for the next try."""
    try:
        conn.execute("COMMIT")
    except sqlite3.Error:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


# --- processes -------------------------------------------------------------------------


def register_process(conn: sqlite3.Connection, pid: int, name: str, supervisor_pid: int) -> int:
    """Insert a process row; its id is what jobs are claimed by."""
    conn.execute("BEGIN IMMEDIATE")
    cur = conn.execute(
        "INSERT INTO processes(pid, name, supervisor_pid, last_heartbeat) VALUES (?,?,?,?)",
        (pid, name, supervisor_pid, time.time()),
    )
    conn.execute("COMMIT")
    return int(cur.lastrowid or 0)


def heartbeat(conn: sqlite3.Connection, process_id: int) -> None:
    """Record that the process is alive now."""
    _write(conn, "UPDATE processes SET last_heartbeat=? WHERE id=?", (time.time(), process_id))


def deregister(conn: sqlite3.Connection, process_id: int) -> None:
    """Remove a process row (clean exit or after its jobs were settled)."""
    _write(conn, "DELETE FROM processes WHERE id=?", (process_id,))


def stale_processes(conn: sqlite3.Connection, threshold_s: float) -> list[sqlite3.Row]:
    """Process rows without a heartbeat for ``threshold_s`` seconds."""
    cutoff = time.time() - threshold_s
    return list(conn.execute("SELECT * FROM processes WHERE last_heartbeat < ?", (cutoff,)))


# --- jobs ------------------------------------------------------------------------------


def enqueue(conn: sqlite3.Connection, seconds: float, poison: bool, retries: int) -> str:
    """Add a ready job; its id."""
    job_id = os.urandom(6).hex()
    now = time.time()
    _write(
        conn,
        "INSERT INTO jobs(id, seconds, poison, retries, created, updated) VALUES (?,?,?,?,?,?)",
        (job_id, seconds, int(poison), retries, now, now),
    )
    return job_id


def claim(conn: sqlite3.Connection, process_id: int, pid: int) -> sqlite3.Row | None:
    """Claim the oldest ready job for this process, or None."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        row: sqlite3.Row | None = conn.execute(
            "SELECT * FROM jobs WHERE state='ready' ORDER BY created LIMIT 1"
        ).fetchone()
        if row is not None:
            conn.execute(
                "UPDATE jobs SET state='claimed', claimed_by=?, worker_pid=?, "
                "attempts=attempts+1, updated=? WHERE id=?",
                (process_id, pid, time.time(), row["id"]),
            )
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    commit(conn)
    return row


def finish(conn: sqlite3.Connection, job_id: str, process_id: int) -> bool:
    """Mark finished, only if still claimed by this process."""
    return (
        _write(
            conn,
            "UPDATE jobs SET state='finished', runs=runs+1, claimed_by=NULL, updated=? "
            "WHERE id=? AND state='claimed' AND claimed_by=?",
            (time.time(), job_id, process_id),
        )
        == 1
    )


def release(conn: sqlite3.Connection, process_id: int) -> int:
    """Put every job claimed by the process back to ready (graceful stop)."""
    return _write(
        conn,
        "UPDATE jobs SET state='ready', claimed_by=NULL, updated=? "
        "WHERE state='claimed' AND claimed_by=?",
        (time.time(), process_id),
    )


def fail_claimed(conn: sqlite3.Connection, process_id: int, error: str) -> int:
    """Settle the jobs of a dead process: retry if the job allows it, else fail with error."""
    now = time.time()
    conn.execute("BEGIN IMMEDIATE")
    try:
        retried = conn.execute(
            "UPDATE jobs SET state='ready', claimed_by=NULL, updated=? "
            "WHERE state='claimed' AND claimed_by=? AND attempts <= retries",
            (now, process_id),
        ).rowcount
        failed = conn.execute(
            "UPDATE jobs SET state='failed', error=?, claimed_by=NULL, updated=? "
            "WHERE state='claimed' AND claimed_by=?",
            (error, now, process_id),
        ).rowcount
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    commit(conn)
    return int(retried + failed)


def requeue_claimed(conn: sqlite3.Connection, process_id: int) -> int:
    """The ``unbounded-requeue`` bug: back to ready whatever the attempts."""
    return release(conn, process_id)


def get(conn: sqlite3.Connection, job_id: str) -> dict[str, Any] | None:
    """One job as the API shows it."""
    row = conn.execute("SELECT * FROM jobs WHERE id=?", (job_id,)).fetchone()
    if row is None:
        return None
    return {
        "id": row["id"],
        "state": row["state"],
        "runs": row["runs"],
        "attempts": row["attempts"],
        "retries": row["retries"],
        "poison": bool(row["poison"]),
        "error": row["error"],
        "worker_pid": row["worker_pid"],
        "claimed_by": row["claimed_by"],
    }


def counts(conn: sqlite3.Connection) -> dict[str, int]:
    """Number of jobs in each state."""
    out = dict.fromkeys(STATES, 0)
    for row in conn.execute("SELECT state, COUNT(*) AS n FROM jobs GROUP BY state"):
        out[row["state"]] = row["n"]
    return out
