"""Daemonises the classic way (fork, setsid, fork) and reports the daemon's pid.

With ``--stay`` the launcher keeps running (until SIGTERM); otherwise it exits 0 once the
daemon is started, like ``nginx`` or ``redis --daemonize yes``.
"""

import os
import signal
import sys

read_end, write_end = os.pipe()
first = os.fork()
if first == 0:
    os.setsid()
    if os.fork() == 0:
        os.close(read_end)
        os.write(write_end, str(os.getpid()).encode())
        os.close(write_end)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        while True:
            signal.pause()
    os._exit(0)
os.close(write_end)
daemon = os.read(read_end, 64).decode()
os.waitpid(first, 0)
print(f"daemon {daemon}", flush=True)
if "--stay" in sys.argv:
    while True:
        signal.pause()
