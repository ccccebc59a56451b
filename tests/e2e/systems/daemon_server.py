"""Starts like nginx without ``daemon off``: the launcher binds, forks a daemon, exits.

The launcher binds ``--port`` and listens, forks the master (which calls ``setsid``) and
exits with ``--exit-code`` (0) at once: it does not wait for the master to be ready. The
master answers HTTP ``GET /`` with 200 as soon as its launcher is gone (so a readiness
check can only pass after the root exited, as nginx's did in the measurement: root gone at
13 ms, HTTP answered at 17 ms) and forks ``--workers`` (2) workers that never exec; on
SIGTERM it ends its workers and exits 0. With ``--foreground`` the launcher is the master
itself (``daemon off``).
"""

import os
import signal
import socket
import sys
import time

args = sys.argv[1:]
port = int(args[args.index("--port") + 1])
code = int(args[args.index("--exit-code") + 1]) if "--exit-code" in args else 0
count = int(args[args.index("--workers") + 1]) if "--workers" in args else 2
server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", port))
server.listen(64)
if "--foreground" not in args:
    launcher = os.getpid()
    if os.fork() != 0:
        os._exit(code)
    os.setsid()
    while os.getppid() == launcher:
        time.sleep(0.001)
workers = []
for _ in range(count):
    pid = os.fork()
    if pid == 0:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        while True:
            signal.pause()
    workers.append(pid)


def stop(*_: object) -> None:
    for pid in workers:
        os.kill(pid, signal.SIGTERM)
    for pid in workers:
        os.waitpid(pid, 0)
    os._exit(0)


signal.signal(signal.SIGTERM, stop)
print(f"master {os.getpid()} workers {' '.join(map(str, workers))}", flush=True)
while True:
    conn, _ = server.accept()
    conn.recv(4096)
    conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
    conn.close()
