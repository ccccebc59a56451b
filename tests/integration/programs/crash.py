"""Dies during start-up with exit code 3, after saying why on stderr."""

import sys

print("loading config", flush=True)
print("fatal: config missing", file=sys.stderr, flush=True)
sys.exit(3)
