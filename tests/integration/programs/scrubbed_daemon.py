"""A supervisor whose child hides: empty environment, double fork, setsid, the trial's port.

The root prints ``root ready`` and waits (until SIGTERM). Its child ``execve``s this
program again with an empty environment (no marker survives), forks, the fork calls
``setsid`` and forks again: the grandchild (the daemon) ignores SIGTERM and SIGHUP, listens
on ``--port``, writes its pid to ``--pidfile`` (if given) and prints
``daemon listening PID``; the intermediates exit at once, so the daemon is re-parented.
"""

import os
import signal
import socket
import sys


def daemon(port: int, pidfile: str | None) -> None:
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_IGN)
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", port))
    server.listen()
    if pidfile:
        with open(pidfile + ".tmp", "w") as handle:
            handle.write(str(os.getpid()))
        os.replace(pidfile + ".tmp", pidfile)
    print(f"daemon listening {os.getpid()}", flush=True)
    while True:
        conn, _ = server.accept()
        conn.close()


def hide(port: int, pidfile: str | None) -> None:
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            daemon(port, pidfile)
        os._exit(0)
    os._exit(0)


args = sys.argv[1:]
port = int(args[args.index("--port") + 1])
pidfile = args[args.index("--pidfile") + 1] if "--pidfile" in args else None
if "--hide" in args:
    hide(port, pidfile)
child = os.fork()
if child == 0:
    os.execve(sys.executable, [sys.executable, __file__, *args, "--hide"], {})
os.waitpid(child, 0)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
print("root ready", flush=True)
while True:
    signal.pause()
