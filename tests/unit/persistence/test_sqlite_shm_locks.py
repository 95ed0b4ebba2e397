"""The recorder's own look at the wal-index must not drop SQLite's locks.

SQLite's locks on the ``-shm`` file are POSIX record locks, owned by the process:
closing any descriptor of that file releases all of them. Every connection holds a
shared lock on the wal-index's "DMS" byte while it has the file open; a process that
opens the store and finds that byte unlocked believes it is alone and rebuilds the
wal-index under the running writer. These tests ask a second process, as SQLite would.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from spreadwire.eventstore.writer import EventWriter
from spreadwire.persistence.sqlite import SQLiteRecorder
from tests.builders import make_accepted

#: unix VFS: UNIX_SHM_BASE = (22 + SQLITE_SHM_NLOCK) * 4 = 120, DMS = BASE + 8
DMS_BYTE = 128

_PROBE = """
import fcntl, os, struct, sys
fd = os.open(sys.argv[1], os.O_RDWR)
# struct flock on Linux: l_type, l_whence (short), l_start, l_len (off_t), l_pid (pid_t)
query = struct.pack("hhqqi4x", fcntl.F_WRLCK, os.SEEK_SET, int(sys.argv[2]), 1, 0)
kind, _, _, _, pid = struct.unpack("hhqqi4x", fcntl.fcntl(fd, fcntl.F_GETLK, query))
print("unlocked" if kind == fcntl.F_UNLCK else f"locked {pid}")
"""


def _dms_lock(shm: Path) -> str:
    """What another process sees on the DMS byte: 'unlocked' or 'locked <pid>'."""
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, str(shm), str(DMS_BYTE)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return result.stdout.strip()


def _write(store: SQLiteRecorder, count: int) -> None:
    with EventWriter(store) as writer:
        for n in range(count):
            writer.append(make_accepted(f"o-{n % 5}", n))


def test_looking_at_the_wal_index_keeps_sqlites_locks(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    store = SQLiteRecorder(path, idle_checkpoint_pages=1)
    _write(store, 200)
    held_before = _dms_lock(Path(f"{path}-shm"))
    looked = [store._checkpointer.frames() for _ in range(3)]
    store.maintain()  # looks at the wal-index too
    held_after = _dms_lock(Path(f"{path}-shm"))
    _write(store, 200)
    store.close()
    reopened = SQLiteRecorder(path)
    kept = sum(1 for _ in reopened.read())
    reopened.close()

    assert held_before.startswith("locked")
    assert all(frames is not None for frames in looked)
    assert held_after.startswith("locked"), "the look at -shm released SQLite's lock"
    assert kept == 400


def test_two_recorders_share_the_descriptor_and_the_last_one_closes_it(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    first = SQLiteRecorder(path)
    second = SQLiteRecorder(path)
    _write(first, 50)
    assert second._checkpointer.frames() is not None
    first.close()
    # the second recorder's connections still hold their locks
    held = _dms_lock(Path(f"{path}-shm"))
    _write(second, 50)
    last = second.last_position()
    second.close()

    assert held.startswith("locked")
    assert last == 100
