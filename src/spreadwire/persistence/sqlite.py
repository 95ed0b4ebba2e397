"""The SQLite recorder: the embedded default (WAL, one writer, explicit synchronous).

Two connections: the writer's (used by ``commit`` under a lock, ``BEGIN IMMEDIATE``) and
a reader's (WAL lets reads run beside the writer). ``synchronous`` is set explicitly:
FULL for durable commits (the WAL is synced before ``commit`` returns), NORMAL for the
named relaxed mode. Positions are assigned inside the write transaction from the current
head, so they are gap-free and in commit order even with other processes writing.

Checkpoints run off the commit path. SQLite's automatic checkpoint runs inside the
``COMMIT`` that crosses ``wal_autocheckpoint`` pages, so every caller in that group commit
also waited for the checkpoint's page writes and database ``fsync`` (a 2.5-3 ms ack stall
about every 135 commits at 50,000 events/s). Here the copying back happens in two places:

* **When the event writer is idle.** After it has acknowledged a batch and nothing else
  is queued, the writer calls :meth:`SQLiteRecorder.maintain`; once
  ``idle_checkpoint_pages`` frames are waiting, that runs a PASSIVE checkpoint on the
  writer's own connection, under the write lock. No commit's sync then shares the disk
  with a checkpoint's page writes (on a virtual disk those writes and their ``fsync``
  took ~0.9 ms and made concurrent WAL syncs wait: the acknowledgement p99 came from
  there), and the WAL, fully copied, restarts at the next commit, so it stays small and
  is overwritten in place.
* **By a checkpointer thread**, the backstop for a writer that is never idle (saturated,
  or durable callers always waiting) or a reader holding an old snapshot. It has its
  own connection, looks at the WAL's frame counts every few milliseconds after commits
  (read from the wal-index header in the ``-shm`` file, no lock taken) and, once
  ``checkpoint_pages`` frames are not yet copied back, runs a PASSIVE checkpoint
  concurrently with the writer. When every frame is copied back, the writer's next
  transaction restarts the WAL from its beginning, so the file is overwritten in place
  rather than grown (a growing WAL makes each ``fdatasync`` slower). If commits kept
  arriving and the WAL reached ``checkpoint_limit`` frames, a second pass runs under the
  write lock (a few frames: the writer waits about 0.4 ms) so that it restarts; the WAL
  thus stays bounded near ``checkpoint_limit`` pages.

Checkpoints sync (under ``synchronous=FULL``, and NORMAL in the relaxed mode, alike): as
in SQLite's own checkpoint, the WAL is synced before and the database file after each
pass, so a restarted WAL never overwrites frames whose pages are not yet durable in the
database file. The writer connection keeps ``wal_autocheckpoint`` at
``8 * checkpoint_limit`` as a backstop, should both fall behind.

On open the newest ``tail_check`` entries are verified (checksums, positions); a torn
tail is truncated and reported in :attr:`SQLiteRecorder.recovery`.

Stream tips are not upserted by each commit: the ``streams`` table is written in bulk
and the tips of later entries are kept in memory (persistence/sqlite_tips.py).
"""

from __future__ import annotations

import logging
import os
import sqlite3
import struct
import threading
from collections.abc import Collection, Iterator, Mapping, Sequence
from itertools import chain, pairwise
from pathlib import Path
from typing import Any, ClassVar, final

from spreadwire.errors import ConcurrencyError, StoreError
from spreadwire.eventstore.codec import Codec
from spreadwire.eventstore.planner import CHECKSUM, POSITION, BatchPlanner, Plan, StreamTip
from spreadwire.eventstore.recorder import paged_rows
from spreadwire.eventstore.records import (
    Append,
    Durability,
    Entry,
    KeyRecord,
    Outcome,
    Record,
    RecoveryReport,
    Single,
    has_utf8,
)
from spreadwire.eventstore.signal import CommitSignal
from spreadwire.eventstore.tail import check_tail, truncated, verdict
from spreadwire.persistence import sqlite_schema as sql
from spreadwire.persistence.sqlite_tips import (
    FLUSH_ENTRIES,
    FORCE_ENTRIES,
    FORCE_STREAMS,
    StreamTips,
    read_mark,
    read_state,
)

_log = logging.getLogger("spreadwire.persistence.sqlite")

_PAGE = 4_096
#: Rows per page of a decoded read (catch-up): fewer, larger fetches.
_READ_PAGE = 8_192
#: WAL frames not yet copied back at which the checkpointer runs a concurrent pass.
CHECKPOINT_PAGES = 200
#: WAL frames at which it finishes under the write lock, so that the WAL restarts (the
#: WAL stays near this size: SQLite's default autocheckpoint).
CHECKPOINT_LIMIT = 1_000
#: WAL frames not yet copied back at which an idle event writer copies them itself
#: (``SQLiteRecorder.maintain``; 0: never, only the checkpointer does).
IDLE_CHECKPOINT_PAGES = 40
#: How often the checkpointer looks at the WAL's frame count while commits are happening.
CHECKPOINT_POLL_S = 0.005
#: wal-index header (https://www.sqlite.org/walformat.html), native byte order: iVersion
#: at 0, mxFrame at 16; nBackfill opens the checkpoint info at 96.
_SHM_HEADER = struct.Struct("=I12xI")
_SHM_BACKFILL = struct.Struct("=I")
_WAL_INDEX_VERSION = 3_007_000


def _connect(path: str, busy_timeout_ms: int) -> sqlite3.Connection:
    connection = sqlite3.connect(
        path,
        isolation_level=None,
        check_same_thread=False,
        timeout=busy_timeout_ms / 1000,
        cached_statements=256,
    )
    connection.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = FULL")
    connection.execute("PRAGMA cache_size = -65536")
    connection.execute("PRAGMA temp_store = MEMORY")
    return connection


#: The event store's tables: a database holding any of them is (the start of) a store.
#: The schema is created one statement at a time, so a crash can leave only some.
_OWN_TABLES = frozenset({"events", "streams", "idempotency", "store_meta"})


def _refuse_foreign(path: str) -> None:
    """Refuse a SQLite database that holds tables but none of an event store's, before
    anything is changed in it (the WAL mode, the event store's tables)."""
    if not Path(path).is_file() or Path(path).stat().st_size == 0:
        return
    try:
        probe = sqlite3.connect(f"{Path(path).absolute().as_uri()}?mode=ro", uri=True)
        try:
            tables = {row[0] for row in probe.execute("SELECT name FROM sqlite_master")}
        finally:
            probe.close()
    except sqlite3.Error as error:
        raise StoreError(f"cannot open SQLite store {path}: {error}") from error
    if tables and not tables & _OWN_TABLES:
        raise StoreError(
            f"{path} is a SQLite database but not an event store (it has tables, none of"
            " them the event store's); refusing to add the event store's tables to it"
        )


@final
class _ShmHeaders:
    """Read-only descriptors of ``-shm`` files, one per file per process, shared by every
    recorder of this process that has the file open, and closed when the last of them
    closes (after its connections).

    SQLite's locks on the ``-shm`` file are POSIX record locks, which belong to the
    process: closing *any* descriptor of the file drops all of them. A reader that opened
    and closed the file at each look made the next process to open the store believe it
    was alone: that process rebuilt the wal-index under the running writer (a crashed
    writer, ``file is not a database``, lost commits). So a descriptor opened here stays
    open while a recorder of this process uses the store. A connection to the same file
    opened outside :class:`SQLiteRecorder` in this process must be closed before the
    last recorder is."""

    _lock: ClassVar[threading.Lock] = threading.Lock()
    #: real path -> [descriptor (-1: not open yet), recorders using it]
    _open: ClassVar[dict[str, list[int]]] = {}

    @classmethod
    def acquire(cls, shm: str) -> str:
        """Count one more user of ``shm``; the key to :meth:`read` and :meth:`release`."""
        key = os.path.realpath(shm)
        with cls._lock:
            entry = cls._open.setdefault(key, [-1, 0])
            entry[1] += 1
        return key

    @classmethod
    def read(cls, key: str) -> bytes | None:
        """The wal-index header (100 bytes), or None while the file does not exist."""
        with cls._lock:
            entry = cls._open.get(key)
            if entry is None:
                return None
            if entry[0] < 0:
                try:
                    entry[0] = os.open(key, os.O_RDONLY | os.O_CLOEXEC)
                except OSError:
                    return None
            descriptor = entry[0]
        try:
            return os.pread(descriptor, 100, 0)
        except OSError:
            return None

    @classmethod
    def release(cls, key: str) -> None:
        """One user fewer; the last one closes the descriptor (its connections closed)."""
        with cls._lock:
            entry = cls._open.get(key)
            if entry is None:
                return
            entry[1] -= 1
            if entry[1] > 0:
                return
            del cls._open[key]
        if entry[0] >= 0:
            os.close(entry[0])


@final
class _Checkpointer:
    """Copies the WAL into the database file off the commit path (see the module notes)."""

    __slots__ = (
        "_connection",
        "_dirty",
        "_limit",
        "_lock",
        "_pages",
        "_shm",
        "_stop",
        "_thread",
        "passes",
    )

    def __init__(
        self, path: str, lock: threading.Lock, pages: int, limit: int, busy_timeout_ms: int
    ) -> None:
        self._connection = _connect(path, busy_timeout_ms)
        self._lock = lock
        self._pages = pages
        self._limit = limit
        # SQLite follows a symbolic link to the database: its -shm is beside the target
        self._shm = _ShmHeaders.acquire(f"{os.path.realpath(path)}-shm")
        self._stop = threading.Event()
        self._dirty = False
        #: (unlocked passes, locked passes) so far.
        self.passes = [0, 0]
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpointer", daemon=True)
        self._thread.start()

    def frames(self) -> tuple[int, int] | None:
        """(frames in the WAL, frames already copied back), or None if unknown."""
        header = _ShmHeaders.read(self._shm)
        if header is None or len(header) < 100:
            return None
        version, frames = _SHM_HEADER.unpack_from(header, 0)
        if version != _WAL_INDEX_VERSION:
            return None
        return frames, _SHM_BACKFILL.unpack_from(header, 96)[0]

    def waiting(self, pages: int) -> bool:
        """Do at least ``pages`` frames wait to be copied back (or is the count unknown)?"""
        known = self.frames()
        return known is None or known[0] - known[1] >= pages

    def _pass(self) -> tuple[int, int]:
        """One PASSIVE checkpoint: (frames in the WAL, frames copied back)."""
        row = self._connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return int(row[1]), int(row[2])

    def nudge(self) -> None:
        """A commit happened (the writer calls this after each commit; a plain store)."""
        self._dirty = True

    def _run(self) -> None:
        while not self._stop.wait(CHECKPOINT_POLL_S):
            if not self._dirty:
                continue
            self._dirty = False
            try:
                self.step()
            except sqlite3.Error as error:
                _log.warning("WAL checkpoint failed: %s", error)
        self._connection.close()

    def step(self) -> None:
        """Copy the WAL back once it holds ``pages`` frames not yet copied; if it has
        grown to ``limit`` frames, finish under the write lock so that it restarts."""
        if not self.waiting(self._pages):
            return
        self._pass()
        self.passes[0] += 1
        known = self.frames()
        if known is None or known[1] >= known[0] or known[0] < self._limit:
            return
        # The writer kept committing during the passes, so the WAL never restarted:
        # copy the rest while it waits, so that its next transaction restarts the WAL.
        with self._lock:
            self._pass()
        self.passes[1] += 1

    def close(self) -> None:
        """Stop the thread (it closes its connection). The ``-shm`` descriptor stays
        open until :meth:`release`, called once the recorder's connections are closed."""
        self._stop.set()
        self._thread.join()

    def release(self) -> None:
        _ShmHeaders.release(self._shm)


def _tips_before(connection: sqlite3.Connection, first: int) -> dict[str, StreamTip]:
    """(version, tip) each stream had before position ``first``, for every stream whose
    stored tip is at or after it (the streams a cut from ``first`` moves back).

    The entries to be cut failed their checks, so any of their fields (stream, version,
    previous) may be what is wrong. A stream's entries there are trusted to say where it
    stood only when they form exactly the chain from an entry below ``first`` (or from
    nothing) to the tip the store has; otherwise the log below ``first`` is searched,
    newest first, for the stream's last entry."""
    stored = {
        stream: (version, tip)
        for stream, version, tip in connection.execute(
            "SELECT stream, version, tip FROM streams WHERE tip >= ?", (first,)
        )
    }
    chains: dict[str, list[tuple[int, int, int]]] = {}
    for stream, position, version, previous in connection.execute(sql.SELECT_TAIL_LINKS, (first,)):
        if stream in stored:
            chains.setdefault(stream, []).append((position, version, previous))
    tips: dict[str, StreamTip] = {}
    for stream, stored_tip in stored.items():
        tip = _chain_start(connection, stream, chains.get(stream, []), stored_tip, first)
        if tip is not None:
            tips[stream] = tip
    missing = set(stored) - tips.keys()
    if missing:
        tips.update(_last_entries_below(connection, first, missing))
    return tips


def _chain_start(
    connection: sqlite3.Connection,
    stream: str,
    chain: list[tuple[int, int, int]],
    stored_tip: StreamTip,
    first: int,
) -> StreamTip | None:
    """Where ``stream`` stood before ``chain`` (its entries from ``first`` on: position,
    version, previous), or None unless they link up exactly to ``stored_tip``."""
    if not chain or (chain[-1][1], chain[-1][0]) != stored_tip:
        return None
    for earlier, later in pairwise(chain):
        if later[1] != earlier[1] + 1 or later[2] != earlier[0]:
            return None
    _, version, previous = chain[0]
    if previous == 0:
        return (0, 0) if version == 1 else None
    if previous >= first:
        return None
    below = connection.execute(
        "SELECT stream, version FROM events WHERE position = ?", (previous,)
    ).fetchone()
    return (version - 1, previous) if below == (stream, version - 1) else None


def _last_entries_below(
    connection: sqlite3.Connection, first: int, streams: set[str]
) -> dict[str, StreamTip]:
    """(version, position) of the last entry below ``first`` of each of ``streams``,
    (0, 0) for one without any: one scan back from ``first``, until all are found."""
    found: dict[str, StreamTip] = {}
    rows = connection.execute(
        "SELECT position, stream, version FROM events WHERE position < ? ORDER BY position DESC",
        (first,),
    )
    for position, stream, version in rows:
        if stream in streams and stream not in found:
            found[stream] = (version, position)
            if len(found) == len(streams):
                break
    for stream in streams - found.keys():
        found[stream] = (0, 0)
    return found


def _whole_stream(rows: Sequence[tuple[Any, ...]], stream: str, after_version: int) -> bool:
    """Are ``rows`` (position, stream, version, ...) entries of ``stream`` with the
    versions after ``after_version`` one by one?"""
    return all(
        row[1] == stream and row[2] == version
        for version, row in enumerate(rows, start=after_version + 1)
    )


@final
class SQLiteRecorder:
    """An event log in one SQLite file."""

    __slots__ = (
        "_checkpointer",
        "_closed",
        "_codec",
        "_idle_checkpoint",
        "_last",
        "_path",
        "_planned_cuts",
        "_planner",
        "_read",
        "_read_lock",
        "_recovery",
        "_signal",
        "_synchronous",
        "_tips",
        "_tips_flush",
        "_write",
        "_write_lock",
        "_wrote",
        "idle_checkpoints",
        "tips_flushes",
    )

    def __init__(
        self,
        path: str | Path,
        codec: Codec | None = None,
        *,
        busy_timeout_ms: int = 5_000,
        tail_check: int = 1_000,
        repair: bool = True,
        checkpoint_pages: int = CHECKPOINT_PAGES,
        checkpoint_limit: int = CHECKPOINT_LIMIT,
        idle_checkpoint_pages: int = IDLE_CHECKPOINT_PAGES,
        tips_flush_entries: int = FLUSH_ENTRIES,
    ) -> None:
        self._path = str(path)
        self._tips = StreamTips()
        self._tips_flush = max(1, int(tips_flush_entries))
        self._wrote = False
        #: (position, checksum) of this recorder's last committed entry
        self._last = (-1, 0)
        #: the cuts counter the planner's cached versions were read under
        self._planned_cuts = 0
        #: times the stream tips table was written (idle, forced or on close)
        self.tips_flushes = 0
        self._idle_checkpoint = max(0, int(idle_checkpoint_pages))
        #: checkpoints run by :meth:`maintain`
        self.idle_checkpoints = 0
        self._codec = codec or Codec()
        self._write_lock = threading.Lock()
        self._read_lock = threading.Lock()
        self._planner = BatchPlanner()
        self._synchronous = "FULL"
        self._closed = False
        _refuse_foreign(self._path)
        opened: list[sqlite3.Connection] = []
        try:
            try:
                self._write = _connect(self._path, busy_timeout_ms)
                opened.append(self._write)
                self._write.execute(f"PRAGMA wal_autocheckpoint = {8 * int(checkpoint_limit)}")
                for statement in sql.SCHEMA:
                    self._write.execute(statement)
                self._prepare_format()
                self._read = _connect(self._path, busy_timeout_ms)
                opened.append(self._read)
                self._checkpointer = _Checkpointer(
                    self._path,
                    self._write_lock,
                    checkpoint_pages,
                    max(checkpoint_limit, checkpoint_pages),
                    busy_timeout_ms,
                )
            except sqlite3.Error as error:
                raise StoreError(f"cannot open SQLite store {self._path}: {error}") from error
            self._recovery = self._recover(tail_check, repair=repair)
            try:
                self._load_tips()
            except sqlite3.Error as error:
                raise StoreError(f"cannot open SQLite store {self._path}: {error}") from error
        except BaseException:
            # nothing of a store that did not open stays behind: its checkpointer thread,
            # its connections (and their locks), its share of the -shm descriptor
            if len(opened) == 2 and hasattr(self, "_checkpointer"):
                self.close()
            else:
                for connection in opened:
                    connection.close()
            raise
        self._signal = CommitSignal(self._recovery.head)

    @property
    def url(self) -> str:
        return f"sqlite:///{self._path}"

    @property
    def path(self) -> str:
        return self._path

    @property
    def codec(self) -> Codec:
        return self._codec

    @property
    def recovery(self) -> RecoveryReport:
        return self._recovery

    @property
    def tips_held(self) -> int:
        """Stream tips held in memory (those of entries past the tips table's mark)."""
        return len(self._tips.recent)

    # ------------------------------------------------------------------ recovery

    def _load_tips(self) -> None:
        """Rebuild the tips held in memory, in one read transaction on the writer's
        connection (the head, the cuts counter, the mark and the scan after it agree)."""
        connection = self._write
        with self._write_lock:
            connection.execute("BEGIN")
            try:
                state = read_state(connection)
                self._tips.load(connection, state.head, state.cuts)
            finally:
                connection.execute("COMMIT")
            self._planned_cuts = state.cuts

    def _prepare_format(self) -> None:
        """Refuse a store of a newer format; give an older one (or a new one) its tips
        mark: a format-1 store upserted the tips in every commit, so its table is
        complete at its head."""
        connection = self._write
        stored = connection.execute(sql.SELECT_META, ("format",)).fetchone()
        if stored is not None and stored[0] not in sql.FORMATS:
            raise StoreError(
                f"SQLite store {self._path} has format {stored[0]!r}; this version reads"
                f" formats {', '.join(sql.FORMATS)}"
            )
        if stored is not None and stored[0] == sql.FORMAT and read_mark(connection) is not None:
            return
        connection.execute("BEGIN IMMEDIATE")
        try:
            if read_mark(connection) is None:
                head = connection.execute(sql.SELECT_HEAD).fetchone()[0]
                connection.execute(sql.UPSERT_META, ("tips_position", str(head)))
            connection.execute(sql.UPSERT_META, ("format", sql.FORMAT))
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise

    def _recover(self, tail_check: int, *, repair: bool) -> RecoveryReport:
        head = self.last_position()
        start = max(0, head - tail_check)
        tail = list(self.records(start))
        found = verdict(check_tail(tail, start), len(tail), head, self.url, repair=repair)
        if isinstance(found, RecoveryReport):
            return found
        with self._write_lock:
            try:
                cut = self._cut_torn_tail(start)
            except sqlite3.Error as error:
                raise StoreError(
                    f"cannot cut the torn tail of SQLite store {self._path}: {error}"
                ) from error
        if cut is None:  # another process repaired it, or wrote after it, meanwhile
            return RecoveryReport(checked=len(tail), head=self.last_position())
        return truncated(len(tail), *cut, self.url)

    def _cut_torn_tail(self, start: int) -> tuple[int, int] | None:
        """In one write transaction (no other writer, in any process, meanwhile): check
        the entries after ``start`` again and, if they end in a torn tail, delete it and
        move the stream tips back. (first removed position, entries removed), or None
        when there is no torn tail to cut."""
        connection = self._write
        connection.execute("BEGIN IMMEDIATE")
        try:
            rows = connection.execute(sql.SELECT_AFTER, (start, -1)).fetchall()
            found = check_tail([Record(*row) for row in rows], start)
            if found is None or not found[1]:
                connection.execute("COMMIT")
                return None
            first = found[0]
            tips = _tips_before(connection, first)
            deleted = connection.execute(
                "DELETE FROM events WHERE position >= ?", (first,)
            ).rowcount
            connection.execute("DELETE FROM idempotency WHERE last_position >= ?", (first,))
            for stream, (version, tip) in tips.items():
                if version == 0:
                    connection.execute("DELETE FROM streams WHERE stream = ?", (stream,))
                else:
                    connection.execute(sql.UPSERT_STREAM, (stream, version, tip))
            mark = read_mark(connection)
            if mark is not None and mark >= first:
                connection.execute(sql.UPSERT_META, ("tips_position", str(first - 1)))
            # a recorder of another process holding tips of the entries cut rebuilds them
            connection.execute(sql.COUNT_CUT)
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
        self._planner.forget()
        return first, deleted

    # -------------------------------------------------------------------- writes

    def _versions(self, streams: Collection[str]) -> Mapping[str, StreamTip]:
        return self._tips.find(self._write, streams)

    def _keys(self, keys: Collection[str]) -> Mapping[str, KeyRecord]:
        found: dict[str, KeyRecord] = {}
        for chunk in sql.in_chunks(keys):
            marks = ",".join("?" * len(chunk))
            query = (
                "SELECT key, stream, first_position, last_position FROM idempotency"
                f" WHERE key IN ({marks})"
            )
            for row in self._write.execute(query, chunk):
                found[row[0]] = KeyRecord(*row)
        return found

    def commit(
        self, appends: Sequence[Append | Single], *, durability: Durability = Durability.DURABLE
    ) -> list[Outcome]:
        synchronous = "NORMAL" if durability == Durability.RELAXED else "FULL"
        with self._write_lock:
            if self._closed:
                raise StoreError("the recorder is closed")
            connection = self._write
            try:
                if synchronous != self._synchronous:
                    connection.execute(f"PRAGMA synchronous = {synchronous}")
                    self._synchronous = synchronous
                connection.execute("BEGIN IMMEDIATE")
                head = self._head_for_commit()
                plan = self._planner.plan(head, appends, self._versions, self._keys)
                written = self._write_plan(plan)
                connection.execute("COMMIT")
            except sqlite3.Error as error:
                self._rollback()
                if isinstance(error, sqlite3.IntegrityError):
                    raise ConcurrencyError(f"concurrent append: {error}") from error
                raise StoreError(f"SQLite commit failed: {error}") from error
            except BaseException:
                # not SQLite's (a value it cannot bind, an interrupt): the transaction
                # must not stay open, holding the write lock against every process
                self._rollback()
                raise
            self._committed(plan, written)
        self._checkpointer.nudge()
        if plan.rows:
            self._signal.publish(plan.head)
        return plan.outcomes

    def _head_for_commit(self) -> int:
        """Inside the write transaction: the head, with the tips caught up to it.

        Another process that cut a torn tail (and maybe appended as many entries again,
        leaving the same head) made what the planner and the tips hold stale. The cuts
        counter tells, whoever noticed it first: a reader thread of this recorder that
        rebuilt the tips does not rebuild the planner's cache, so the planner is checked
        against the counter here, not against whether the tips were rebuilt now. The
        head entry's checksum is a second check: the log must still end with this
        recorder's last commit when the head is where that commit left it."""
        connection = self._write
        state = read_state(connection)
        stale = state.head == self._last[0] and state.checksum != self._last[1]
        if stale:
            self._tips.load(connection, state.head, state.cuts)
        else:
            self._tips.catch_up(connection, state, writing=True)
        if stale or state.cuts != self._planned_cuts:
            self._planner.forget()
            self._planned_cuts = state.cuts
        return state.head

    def _committed(self, plan: Plan, written: dict[str, StreamTip] | None) -> None:
        """The plan's transaction committed (under the write lock)."""
        if plan.rows:
            last = plan.rows[-1]
            self._last = (last[POSITION], last[CHECKSUM])
        self._planner.committed(plan)
        self._wrote = True
        self._tips.committed(plan.versions, plan.head)
        if written is not None:
            self._tips.flushed(written, plan.head)
            self.tips_flushes += 1

    def _write_plan(self, plan: Plan) -> dict[str, StreamTip] | None:
        """Write the planned rows and keys; with a tips backlog past the forced bounds
        (a writer that is never idle), the tips table too: what it wrote, or None."""
        connection = self._write
        if plan.rows:
            self._insert_events(plan)
        if plan.keys:
            connection.executemany(
                sql.INSERT_KEY,
                [(k.key, k.stream, k.first_position, k.last_position) for k in plan.keys],
            )
        tips = self._tips
        if (
            plan.head - tips.mark >= FORCE_ENTRIES
            or len(tips.recent) + len(plan.versions) >= FORCE_STREAMS
        ):
            return tips.write(connection, plan.head, plan.versions)
        return None

    def _insert_events(self, plan: Plan) -> None:
        """The planned rows as multi-row statements: one SQLite step per
        ``ROWS_PER_STATEMENT`` rows (``executemany`` steps, and releases the GIL, per row).
        The rows are already in column order, so the parameters are one C-level flatten.
        The writer's payloads are ``bytearray`` objects, which the ``sqlite3`` module binds
        straight away (``bytes`` first goes through its adapter lookup, ~0.3 µs a row);
        stored as the same BLOB, read back as ``bytes``."""
        execute = self._write.execute
        values = list(chain.from_iterable(plan.rows))
        for statement, chunk in sql.chunked(sql.INSERT_EVENTS, values, sql.EVENT_COLUMNS):
            execute(statement, chunk)

    def _rollback(self) -> None:
        self._planner.forget()
        if self._write.in_transaction:
            self._write.execute("ROLLBACK")

    # --------------------------------------------------------------------- reads

    def _fetch(self, query: str, params: tuple[object, ...]) -> list[tuple[Any, ...]]:
        with self._read_lock:
            if self._closed:
                raise StoreError("the recorder is closed")
            try:
                return self._read.execute(query, params).fetchall()
            except sqlite3.Error as error:
                raise StoreError(f"SQLite read failed: {error}") from error

    def records(self, after: int = 0, limit: int | None = None) -> Iterator[Record]:
        for row in paged_rows(self._fetch_after, after, limit, _PAGE):
            yield Record(*row)

    def _fetch_after(self, after: int, page: int) -> list[tuple[Any, ...]]:
        return self._fetch(sql.SELECT_AFTER, (after, page))

    def linked_records(self, after: int = 0) -> Iterator[tuple[Record, int]]:
        """:meth:`records` with each entry's ``previous`` (the :class:`Linked` capability:
        the link is not covered by the checksum, ``events verify`` checks it)."""
        for p, stream, v, type_name, schema, ts, payload, checksum, previous in paged_rows(
            self._fetch_linked_after, after, None, _PAGE
        ):
            yield Record(p, stream, v, type_name, schema, ts, payload, checksum), previous

    def _fetch_linked_after(self, after: int, page: int) -> list[tuple[Any, ...]]:
        return self._fetch(sql.SELECT_LINKED_AFTER, (after, page))

    def read(self, after: int = 0, limit: int | None = None) -> Iterator[Entry]:
        entries = self._codec.entries
        remaining = -1 if limit is None else limit
        while remaining != 0:
            page = _READ_PAGE if remaining < 0 else min(_READ_PAGE, remaining)
            rows = self._fetch(sql.SELECT_ENTRIES_AFTER, (after, page))
            yield from entries(rows)
            if len(rows) < page:
                return
            after = rows[-1][0]
            remaining = remaining - len(rows) if remaining > 0 else remaining

    def stream_tips(self, streams: Collection[str]) -> Mapping[str, StreamTip]:
        """The :class:`Linked` capability: the tips ``read_stream`` walks back from, as
        of the head now or later (one catch-up, then one lookup per chunk of names; a
        reader's lookup of one stream is :meth:`_tip`)."""
        # Not ``searchable``: SQLite stores a NUL (PostgreSQL cannot), and a log written
        # before names were limited (``records.check_name``) may hold one; ``events
        # verify`` must find its tip, or a sound log would be reported broken. A lone
        # surrogate cannot be bound: stored nowhere.
        wanted = [stream for stream in streams if has_utf8(stream)]
        with self._read_lock:
            if self._closed:
                raise StoreError("the recorder is closed")
            connection = self._read
            try:
                # no read transaction around the lookups: a tip the writer drops from
                # memory once the table holds it must be found by a statement begun
                # after the memory was looked at, as in ``_tip``
                self._tips.catch_up(connection, read_state(connection), writing=False)
                return self._tips.find(connection, wanted)
            except sqlite3.Error as error:
                raise StoreError(f"SQLite read failed: {error}") from error

    def _tip(self, stream: str) -> StreamTip | None:
        """``stream``'s tip as of the head now, or None if it has no entry."""
        if not has_utf8(stream):
            # stored nowhere (a lone surrogate cannot be bound); a NUL is stored (above)
            return None
        with self._read_lock:
            if self._closed:
                raise StoreError("the recorder is closed")
            connection = self._read
            try:
                self._tips.catch_up(connection, read_state(connection), writing=False)
                return self._tips.find_one(connection, stream)
            except sqlite3.Error as error:
                raise StoreError(f"SQLite read failed: {error}") from error

    def read_stream(self, stream: str, after_version: int = 0) -> Iterator[Entry]:
        decode = self._codec.decode
        # every version is above a negative one: the chain check counts from it
        after_version = max(after_version, 0)
        tip = self._tip(stream)
        if tip is None or tip[0] <= after_version:
            return
        rows = self._fetch(sql.SELECT_STREAM_FROM, (tip[1], after_version))
        if not rows or not _whole_stream(rows, stream, after_version) or rows[-1][2] != tip[0]:
            # ``previous`` is not covered by the entry checksum: a broken link must not
            # hand back another stream's entries (or skip some); find them by scanning
            _log.warning("%s: stream %r: its chain of entries is broken", self.url, stream)
            rows = self._fetch(sql.SELECT_STREAM_SCAN, (stream, after_version))
        for position, name, version, type_name, schema, ts, payload, _ in rows:
            yield Entry(position, name, version, type_name, ts, decode(type_name, schema, payload))

    def last_position(self) -> int:
        value = self._fetch(sql.SELECT_HEAD, ())[0][0]
        assert isinstance(value, int)
        return value

    def find_key(self, key: str) -> KeyRecord | None:
        if not has_utf8(key):
            return None  # stored nowhere (a lone surrogate cannot be bound)
        rows = self._fetch(sql.SELECT_KEY, (key,))
        return KeyRecord(*rows[0]) if rows else None

    def stream_version(self, stream: str) -> int:
        tip = self._tip(stream)
        return 0 if tip is None else tip[0]

    def wait_for(self, after: int, timeout_s: float | None) -> int:
        return self._signal.wait(after, timeout_s)

    def checkpoint(self) -> None:
        """Copy the WAL into the database file (PASSIVE: never blocks the writer)."""
        self._fetch("PRAGMA wal_checkpoint(PASSIVE)", ())

    def maintain(self) -> None:
        """While the event writer is idle: write the stream tips table once
        ``tips_flush_entries`` entries are past its mark, and copy the WAL back into the
        database file from the writer's own connection once ``idle_checkpoint_pages``
        frames wait for it (see the module notes)."""
        if self._tips.backlog >= self._tips_flush:
            self.flush_tips()
        pages = self._idle_checkpoint
        if not pages:
            return
        if not self._checkpointer.waiting(pages):
            return
        with self._write_lock:
            if self._closed:
                return
            try:
                self._write.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            except sqlite3.Error as error:
                raise StoreError(f"SQLite checkpoint failed: {error}") from error
        self.idle_checkpoints += 1

    def flush_tips(self) -> None:
        """Write the stream tips held in memory into the ``streams`` table and move its
        mark to the head (one transaction at ``synchronous=NORMAL``: the table can be
        rebuilt from the log, so a crash before the next durable commit loses nothing)."""
        with self._write_lock:
            if self._closed:
                return
            connection = self._write
            tips = self._tips
            try:
                connection.execute("PRAGMA synchronous = NORMAL")
                self._synchronous = "NORMAL"
                connection.execute("BEGIN IMMEDIATE")
                state = read_state(connection)
                tips.catch_up(connection, state, writing=True)
                head = state.head
                if head == tips.mark:
                    connection.execute("COMMIT")
                    return
                written = tips.write(connection, head, {})
                connection.execute("COMMIT")
            except sqlite3.Error as error:
                self._rollback()
                raise StoreError(f"SQLite tips flush failed: {error}") from error
            except BaseException:
                self._rollback()
                raise
            tips.flushed(written, head)
            self.tips_flushes += 1

    def close(self) -> None:
        if self._wrote and hasattr(self, "_signal") and not self._closed:
            try:
                self.flush_tips()
            except StoreError as error:
                _log.warning("%s: stream tips not written on close: %s", self.url, error)
        if hasattr(self, "_checkpointer"):
            self._checkpointer.close()
        with self._write_lock, self._read_lock:
            if self._closed:
                return
            self._closed = True
            self._read.close()
            self._write.close()
        if hasattr(self, "_checkpointer"):
            self._checkpointer.release()
        if hasattr(self, "_signal"):
            self._signal.wake()
