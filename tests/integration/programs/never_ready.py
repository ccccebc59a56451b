"""Never becomes ready: logs progress, starts a worker child, then idles forever."""

import pathlib
import subprocess
import sys

print("warming up the flux capacitor", flush=True)
print("still warming", file=sys.stderr, flush=True)
worker = pathlib.Path(__file__).with_name("worker.py")
child = subprocess.Popen([sys.executable, str(worker)])
print(f"child {child.pid}", flush=True)
child.wait()
