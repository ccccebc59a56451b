"""A user's own client program for ``command`` workloads: ``client.py ok|fail|hang [TAG]``.

``ok`` prints ``{"id": PID}`` and exits 0; ``fail`` prints 20 000 characters and exits 3;
``hang`` starts a child (its command line carries ``TAG``) and both sleep for a minute.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time


def main() -> None:
    mode = sys.argv[1]
    if mode == "ok":
        print(json.dumps({"id": os.getpid()}))
    elif mode == "fail":
        print("nope" * 5000)
        raise SystemExit(3)
    else:
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", sys.argv[2]])
        print("started", flush=True)
        time.sleep(60)


if __name__ == "__main__":
    main()
