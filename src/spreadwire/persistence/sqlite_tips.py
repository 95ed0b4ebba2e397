"""Stream tips of the SQLite store: the table as of a mark, the rest in memory.

A stream's tip is its version and the position of its last entry; a commit needs the
tips of the streams it appends to, and a stream is read by walking its chain back from
the tip. Upserting the tips of a 50-event commit into the ``streams`` table dirtied most
of the table's pages in every commit, so every WAL sync and every checkpoint carried
them. Without it, a 50-event commit writes 5.2 WAL frames instead of 7.2 and takes about
a tenth less time, and under an offered 50,000 events/s the acknowledgement p50 fell by
about a third (the p99 stayed within the host's noise; docs/performance.md, "Event
store", ninth session).

So the table is written in bulk, not per commit. ``store_meta`` row ``tips_position``
(the *mark*) says up to which position the table is complete; the tips of later entries
live in :class:`StreamTips`, rebuilt from the log (entries after the mark, one range
scan) when a recorder opens and brought forward by a scan of what other processes
committed since it last looked. Any reader or writer thus gets the exact tips as of the
head it read, in any process: an entry after the mark wins over the table.

The recorder writes the table (``SQLiteRecorder.flush_tips``) when its event writer is
idle and at least ``tips_flush_entries`` (:data:`FLUSH_ENTRIES`) entries are past the
mark, on close, and inside a commit once the backlog reaches :data:`FORCE_ENTRIES`
entries or :data:`FORCE_STREAMS` streams (a writer that is never idle). A crash leaves
the mark behind: nothing is lost, the next open scans more.

Every look (a commit, a flush, a read of a stream) reads the head, the ``cuts`` counter
and the stored mark in one statement: a changed counter means another process cut a
torn tail, whatever the head, so what is held is rebuilt; a stored mark past the one held
means another process wrote the table, so the tips it holds are let go (a recorder that
only reads never writes the table itself).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Collection, Mapping
from typing import Final, NamedTuple, final

from spreadwire.eventstore.planner import StreamTip
from spreadwire.persistence import sqlite_schema as sql

#: Entries past the mark at which an idle writer writes the tips table.
FLUSH_ENTRIES: Final = 16_384
#: Entries past the mark at which a commit writes the tips table itself.
FORCE_ENTRIES: Final = 262_144
#: Streams held in memory at which a commit writes the tips table itself.
FORCE_STREAMS: Final = 65_536


def read_mark(connection: sqlite3.Connection) -> int | None:
    """The stored mark, or None when the store has none (a store of format 1)."""
    row = connection.execute(sql.SELECT_META, ("tips_position",)).fetchone()
    return None if row is None else int(row[0])


@final
class LogState(NamedTuple):
    """What a look at the store sees, in one snapshot (:data:`sql.SELECT_STATE`)."""

    head: int
    #: The head entry's checksum (0 for an empty log).
    checksum: int
    #: Torn tails cut so far: a change means the log below the head changed.
    cuts: int
    #: The stored mark: the table holds every tip up to it.
    mark: int


def read_state(connection: sqlite3.Connection) -> LogState:
    """One look (every read of a stream makes one: the statement returns integers)."""
    return LogState._make(connection.execute(sql.SELECT_STATE).fetchone())


@final
class StreamTips:
    """Tips of the entries after the mark (see the module notes). Thread-safe: the
    writer's commits and any reader's catch-up may interleave."""

    __slots__ = ("_cuts", "_lock", "mark", "recent", "seen")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        #: The table holds every tip up to this position.
        self.mark = 0
        #: ``recent`` holds the tip of every stream with an entry in (mark, seen].
        self.seen = 0
        self.recent: dict[str, StreamTip] = {}
        self._cuts = 0

    @property
    def backlog(self) -> int:
        """Entries past the mark (the scan the next open would make)."""
        return self.seen - self.mark

    def load(
        self, connection: sqlite3.Connection, head: int, cuts: int, *, writing: bool = True
    ) -> None:
        """Rebuild from the store as of ``head`` and ``cuts`` (read on ``connection``
        just before, or in the transaction it is in): the mark, then one scan after it.

        The writer's rebuild (``writing``: inside its write transaction, which sees the
        newest log) always replaces what is held. A reader's may see an older snapshot
        than the writer of this recorder already noted: it replaces what is held only if
        it is newer (more cuts, or as many and a later head), so that it never takes
        back tips the writer's next plan relies on."""
        mark = min(read_mark(connection) or 0, head)
        recent: dict[str, StreamTip] = {}
        for stream, version, position in connection.execute(sql.SELECT_LINKS, (mark, head)):
            recent[stream] = (version, position)
        with self._lock:
            if not writing and (cuts, head) <= (self._cuts, self.seen):
                return
            self.mark = mark
            self.seen = head
            self.recent = recent
            self._cuts = cuts

    def catch_up(self, connection: sqlite3.Connection, state: LogState, *, writing: bool) -> None:
        """Know every entry up to ``state.head`` (``state`` read on ``connection`` just
        before: one statement, so the head, the counter and the mark agree).

        A changed cuts counter means another process cut a torn tail since: what is held
        may name entries that are gone, even with the head back where it was (it
        appended as many again), so it is rebuilt. Inside a write transaction
        (``writing``) the head is exact, so one below what was seen also means a cut. A
        reader's head may simply be older than what the writer has already noted.

        A stored mark past the one held (another process wrote the table) lets go of
        every tip the table now holds: a recorder that only reads would otherwise keep
        the tip of every stream written since it opened."""
        head = state.head
        if state.cuts != self._cuts or (writing and head < self.seen):
            self.load(connection, head, state.cuts, writing=writing)
            return
        seen = self.seen
        rows = connection.execute(sql.SELECT_LINKS, (seen, head)).fetchall() if head > seen else []
        with self._lock:
            if state.cuts != self._cuts:
                return  # rebuilt meanwhile, after a cut this look predates
            recent = self.recent
            if head > self.seen:
                floor = self.seen
                for stream, version, position in rows:
                    if position > floor:
                        recent[stream] = (version, position)
                self.seen = head
            stored = state.mark
            if self.mark < stored <= self.seen:
                for stream in [s for s, tip in recent.items() if tip[1] <= stored]:
                    del recent[stream]
                self.mark = stored

    def committed(self, versions: Mapping[str, StreamTip], head: int) -> None:
        """A commit of this recorder wrote ``versions`` up to ``head``."""
        with self._lock:
            self.recent.update(versions)
            if head > self.seen:
                self.seen = head

    def find(
        self, connection: sqlite3.Connection, streams: Collection[str]
    ) -> dict[str, StreamTip]:
        """The tips of ``streams`` that exist (call :meth:`catch_up` first)."""
        found: dict[str, StreamTip] = {}
        missing: list[str] = []
        recent = self.recent
        for stream in streams:
            tip = recent.get(stream)
            if tip is None:
                missing.append(stream)
            else:
                found[stream] = tip
        for chunk in sql.in_chunks(missing):
            marks = ",".join("?" * len(chunk))
            query = f"SELECT stream, version, tip FROM streams WHERE stream IN ({marks})"
            for stream, version, tip in connection.execute(query, chunk):
                found.setdefault(stream, (version, tip))
        return found

    def find_one(self, connection: sqlite3.Connection, stream: str) -> StreamTip | None:
        tip = self.recent.get(stream)
        if tip is not None:
            return tip
        row = connection.execute(sql.SELECT_TIP, (stream,)).fetchone()
        return None if row is None else (int(row[0]), int(row[1]))

    def write(
        self, connection: sqlite3.Connection, head: int, extra: Mapping[str, StreamTip]
    ) -> dict[str, StreamTip]:
        """Inside a write transaction caught up to ``head`` (``extra``: the tips of the
        commit being written, if any, up to ``head``): upsert every tip held and move the
        stored mark to ``head``. Returns what was written, for :meth:`flushed` after the
        commit."""
        written = dict(self.recent)
        written.update(extra)
        values: list[object] = []
        for stream, (version, tip) in written.items():
            values.append(stream)
            values.append(version)
            values.append(tip)
        for statement, chunk in sql.chunked(sql.UPSERT_STREAMS, values, sql.STREAM_COLUMNS):
            connection.execute(statement, chunk)
        connection.execute(sql.UPSERT_META, ("tips_position", str(head)))
        return written

    def flushed(self, written: Mapping[str, StreamTip], head: int) -> None:
        """The transaction of :meth:`write` committed: drop what the table now holds
        (not a tip that moved on since: a reader may have noted a later commit)."""
        with self._lock:
            recent = self.recent
            for stream, tip in written.items():
                if recent.get(stream) == tip:
                    del recent[stream]
            self.mark = max(self.mark, head)
            if head > self.seen:
                self.seen = head
