"""A writer as a system under test sees its disk: ``disk_writer.py FOLDER``.

It opens ``FOLDER/held.log`` for appending at start (and keeps it open), and an SQLite
database ``FOLDER/queue.db`` (WAL, as the testbed's queue). Then, for each line on stdin,
it performs one write and answers one line on stdout: ``ok`` or what failed (an errno
name such as ``ENOSPC``/``EROFS``, or ``sqlite: <message>``).

Commands: ``held N`` (N bytes to the held file, flushed and fsynced), ``new NAME N`` (a new
file of N bytes), ``rename OLD NEW``, ``sqlite N`` (insert a row of N bytes, committed).
"""

import errno
import os
import sqlite3
import sys

folder = sys.argv[1]
held = os.open(os.path.join(folder, "held.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
db = sqlite3.connect(os.path.join(folder, "queue.db"), isolation_level=None)
db.execute("PRAGMA journal_mode=WAL")
db.execute("CREATE TABLE IF NOT EXISTS rows (body TEXT)")
print("ready", flush=True)


def run(words: list[str]) -> None:
    if words[0] == "held":
        data = b"h" * int(words[1])
        while data:  # all of it, as a careful writer does: a short write is not the end
            data = data[os.write(held, data) :]
        os.fsync(held)
    elif words[0] == "new":
        with open(os.path.join(folder, words[1]), "wb") as handle:
            handle.write(b"n" * int(words[2]))
    elif words[0] == "rename":
        os.rename(os.path.join(folder, words[1]), os.path.join(folder, words[2]))
    elif words[0] == "sqlite":
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute("INSERT INTO rows VALUES (?)", ("s" * int(words[1]),))
            db.execute("COMMIT")
        finally:
            if db.in_transaction:
                db.execute("ROLLBACK")


for line in sys.stdin:
    words = line.split()
    if not words:
        continue
    try:
        run(words)
    except sqlite3.Error as exc:
        print(f"sqlite: {exc}", flush=True)
    except OSError as exc:
        print(errno.errorcode.get(exc.errno or 0, str(exc)), flush=True)
    else:
        print("ok", flush=True)
