"""Command line of the testbed: ``python -m harness.testbed`` / ``chaos testbed``.

Exit codes: 0 stopped cleanly (SIGTERM/SIGINT), 1 the daemon crashed (the
``crash-on-unknown-id`` bug), 2 bad usage (unknown bug name), 3 the host refused a resource
(the data folder is locked by another instance).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path

from harness.testbed import gateway, jobs
from harness.testbed.bugs import UnknownBugError, describe, enabled_bugs
from harness.testbed.config import FIXED_BACKEND_PORT, Options
from harness.testbed.daemon import Daemon, DaemonError
from harness.testbed.instance import DataDir, DataDirInUseError
from harness.testbed.loop import Loop
from harness.testbed.supervisor import Supervisor, log


def seconds(text: str) -> float:
    """A duration: ``1.5``, ``1.5s`` or ``500ms``."""
    text = text.strip()
    if text.endswith("ms"):
        return float(text[:-2]) / 1000.0
    return float(text.removesuffix("s"))


def parser() -> argparse.ArgumentParser:
    """The argument parser."""
    p = argparse.ArgumentParser(
        prog="chaos testbed",
        description="A small real supervisor with the five incidents' bugs, switchable.",
    )
    p.add_argument("--port", type=int, default=8080, help="preferred HTTP port (0: any)")
    p.add_argument("--data-dir", type=Path, default=None, help="instance data folder")
    p.add_argument("--bugs", default=None, help="comma-separated bug profiles (see --list-bugs)")
    p.add_argument("--list-bugs", action="store_true", help="list bug profiles and exit")
    p.add_argument("--modules", type=int, default=2)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--instance-id", default=None, help="instance id; its data lives in DATA_DIR/ID")
    p.add_argument("--heartbeat", "--beat", dest="beat", type=seconds, default=1.0)
    p.add_argument(
        "--heartbeat-threshold",
        "--threshold",
        dest="threshold",
        type=seconds,
        default=3.0,
        help="no heartbeat for this long: frozen or dead",
    )
    p.add_argument("--register-timeout", type=seconds, default=2.0)
    p.add_argument(
        "--fixed-port",
        type=int,
        default=FIXED_BACKEND_PORT,
        help="the one backend port of the fixed-port bug (Jan's was 39291)",
    )
    p.add_argument(
        "--backend-port", type=int, default=0, help="the port the backend listens on (0: any)"
    )
    p.add_argument(
        "--backend-address",
        default="",
        help="HOST:PORT the gateway calls the backend at (a proxy in front of it)",
    )
    p.add_argument("--grace", type=seconds, default=5.0, help="SIGTERM grace before SIGKILL")
    p.add_argument(
        "--job-mib", type=int, default=0, help="MiB each job holds while it runs (0: none)"
    )
    p.add_argument("--retry-window", type=seconds, default=5.0, help="gateway retry bound")
    p.add_argument("--max-restarts", type=int, default=5)
    p.add_argument("--restart-window", type=seconds, default=30.0)
    p.add_argument("--backoff-base", type=seconds, default=0.1)
    p.add_argument("--canary-ms", type=float, default=50.0, help="0 turns the canary off")
    p.add_argument(
        "--reap-poll",
        type=seconds,
        default=0.0,
        help="notice child exits on a poll loop of this period, like uvicorn's 0.5 s "
        "(default 0: at once, through each child's pidfd)",
    )
    p.add_argument(
        "--restart-tick",
        type=seconds,
        default=0.0,
        help="restart dead children only at checks of this period, counted from ready, like "
        "circus's (default 0: at once, as the restart policy says)",
    )
    return p


def options_from(args: argparse.Namespace) -> Options:
    """Validated options (raises UnknownBugError)."""
    bugs = enabled_bugs(args.bugs)
    data_dir = args.data_dir or Path(f"testbed-data-{args.port}")
    return Options(
        port=args.port,
        data_dir=data_dir,
        bugs=bugs,
        modules=max(0, args.modules),
        workers=max(0, args.workers),
        instance_id=args.instance_id or f"tb-{os.urandom(3).hex()}",
        beat_s=args.beat,
        threshold_s=args.threshold,
        register_timeout_s=args.register_timeout,
        grace_s=args.grace,
        job_mib=max(0, args.job_mib),
        retry_window_s=args.retry_window,
        max_restarts=args.max_restarts,
        restart_window_s=args.restart_window,
        backoff_base_s=args.backoff_base,
        canary_ms=args.canary_ms,
        backend_port=args.fixed_port,
        reap_poll_s=max(0.0, args.reap_poll),
        restart_tick_s=max(0.0, args.restart_tick),
        backend_bind=max(0, args.backend_port),
        backend_address=args.backend_address,
    )


def clean_up_fixed_port(instance: str, port: int) -> None:
    """The ``fixed-port`` bug (Jan #4565): destroy whatever backend answers on the port."""
    url = f"http://127.0.0.1:{port}/destroy"
    req = urllib.request.Request(
        url,
        data=json.dumps({"instance": instance}).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=1.0) as resp:
            log(f"start-up clean-up: destroyed the backend on port {port} ({resp.status})")
    except (urllib.error.URLError, OSError):
        return


def main(argv: list[str] | None = None) -> int:
    """Run the supervisor until SIGTERM/SIGINT; see the module docstring for exit codes."""
    args = parser().parse_args(argv)
    if args.list_bugs:
        sys.stdout.write("".join(line + "\n" for line in describe()))
        return 0
    try:
        options = options_from(args)
    except UnknownBugError as exc:
        sys.stderr.write(f"chaos testbed: error: {exc}\n")
        return 2
    # The Jan multi-instance fix: an instance with an explicit id keeps its data in its own
    # sub-folder, so copies started with identical settings never share files. The
    # ``shared-data`` bug writes straight into the shared folder, with no lock.
    folder = options.data_dir
    if args.instance_id is not None and not options.bug("shared-data"):
        folder = folder / args.instance_id
    try:
        data = DataDir(folder, lock=not options.bug("shared-data"), instance=options.instance_id)
    except DataDirInUseError as exc:
        sys.stderr.write(f"chaos testbed: error: {exc}\n")
        return 3
    options = Options(**{**options.__dict__, "data_dir": data.path})
    return run(options, data)


def run(options: Options, data: DataDir) -> int:
    """Start everything, serve, stop on a signal."""
    jobs.create(data.queue_path)
    # Who owns this data folder: an instance reading back another's id here is the
    # multi-instance bug made visible (GET /data/owner).
    data.put("owner", {"instance": options.instance_id, "pid": os.getpid()})
    if options.bug("fixed-port"):
        clean_up_fixed_port(options.instance_id, options.backend_port)
    server = gateway.bind(options.port)
    port = int(server.server_address[1])
    loop = Loop()
    supervisor = Supervisor(options, loop, jobs.connect(data.queue_path))
    daemon = Daemon(options.canary_ms)
    server.app = gateway.App(options, supervisor, daemon, data, port)

    def announce() -> None:
        sys.stdout.write(f"listening on http://127.0.0.1:{port}\n")
        sys.stdout.flush()
        log(f"instance {options.instance_id} ready (pid {os.getpid()}, data {data.path})")

    supervisor.on_ready.append(announce)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: loop.call_soon_threadsafe(supervisor.begin_stop))
    threading.Thread(target=server.serve_forever, args=(3600.0,), daemon=True).start()
    daemon.start()
    supervisor.start()
    try:
        loop.run()
    except DaemonError as exc:
        log(f"fatal: daemon error propagated to the main loop: {exc}")
        return 1
    daemon.close()
    data.close()
    log("stopped")
    return 1 if supervisor.start_failed else 0
