"""The module child: must complete a register handshake before it counts as running.

Like a Companion module: it sends ``register`` and waits for ``registered``. Anything else
arriving first is logged and ignored; after the registration timeout it logs
"Module registration failed Error: Call timed out" and exits 11 (the Companion symptom).
Once registered it sends heartbeats and accepts ordinary messages (``vars``), both from its
one thread, once per beat.
"""

from __future__ import annotations

import math
import os
import sys
import time

from harness.testbed import lifeline
from harness.testbed.channel import Channel

EXIT_REGISTRATION_TIMEOUT = 11


def main(argv: list[str] | None = None) -> int:
    """Register, then serve messages until the parent goes away."""
    flags = lifeline.parse_flags(sys.argv[1:] if argv is None else argv)
    lifeline.tie_to_parent()
    name = flags.get("name", "m?")
    role = f"module {name}"
    channel = lifeline.open_channel(int(flags["fd"]))
    timeout = float(flags.get("register-timeout", "2"))
    beat = float(flags.get("beat", "0.5"))
    channel.send({"t": "register", "name": name, "pid": os.getpid()})
    deadline = time.monotonic() + timeout
    registered = False
    while not registered:
        left = deadline - time.monotonic()
        if left <= 0:
            lifeline.log(role, "Module registration failed Error: Call timed out")
            return EXIT_REGISTRATION_TIMEOUT
        messages = channel.recv(left)
        if messages is None:
            lifeline.parent_gone()
            return 0
        for msg in messages:
            if msg.get("t") == "registered":
                registered = True
            elif not registered:
                lifeline.log(role, f"got {msg.get('t')!r} before registration was answered")
    # Idle CPU: one wake-up per beat and nothing else. Beats fall on multiples of ``beat``
    # of the shared monotonic clock, so every module's heartbeat reaches the supervisor in
    # the same instant (one wake-up there, not one per module); messages that came
    # meanwhile (vars: nothing to do with them) and EOF are read at the beat.
    while True:
        now = time.monotonic()
        time.sleep((math.floor(now / beat) + 1) * beat - now)
        if not drain(channel) or not channel.send({"t": "hb"}):
            break
    lifeline.parent_gone()
    return 0


def drain(channel: Channel) -> bool:
    """Read every message already waiting, without blocking; False at EOF."""
    while True:
        messages = channel.recv(0)
        if messages is None:
            return False
        if not messages:
            return True


if __name__ == "__main__":
    raise SystemExit(main())
