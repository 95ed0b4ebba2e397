"""The SQLite recorder: the embedded default (WAL, one writer, explicit synchronous).

Two connections: the writer's (used by ``commit`` under a lock, ``BEGIN IMMEDIATE``) and
a reader's (WAL lets reads run beside the writer). ``synchronous`` is set explicitly:
FULL for durable commits (the WAL is synced before ``commit`` returns), NORMAL for the
named relaxed mode. Positions are assigned inside the write transaction from the current
head, so they are gap-free and in commit order even with other processes writing.

On open the newest ``tail_check`` entries are verified (checksums, positions); a torn
tail is truncated and reported in :attr:`SQLiteRecorder.recovery`.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Collection, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, final

from spreadwire.errors import ConcurrencyError, StoreError
from spreadwire.eventstore.codec import Codec
from spreadwire.eventstore.planner import BatchPlanner, StreamTip
from spreadwire.eventstore.recorder import paged_rows
from spreadwire.eventstore.records import (
    Append,
    Durability,
    Entry,
    KeyRecord,
    Outcome,
    Record,
    RecoveryReport,
)
from spreadwire.eventstore.signal import CommitSignal
from spreadwire.eventstore.tail import first_bad_position
from spreadwire.persistence import sqlite_schema as sql

_PAGE = 4_096
_PARAMS = 500


def _connect(path: str, busy_timeout_ms: int) -> sqlite3.Connection:
    connection = sqlite3.connect(
        path, isolation_level=None, check_same_thread=False, timeout=busy_timeout_ms / 1000
    )
    connection.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = FULL")
    connection.execute("PRAGMA cache_size = -65536")
    connection.execute("PRAGMA temp_store = MEMORY")
    return connection


def _chunks(items: Collection[str]) -> Iterator[list[str]]:
    values = list(items)
    for start in range(0, len(values), _PARAMS):
        yield values[start : start + _PARAMS]


@final
class SQLiteRecorder:
    """An event log in one SQLite file."""

    __slots__ = (
        "_closed",
        "_codec",
        "_path",
        "_planner",
        "_read",
        "_read_lock",
        "_recovery",
        "_signal",
        "_synchronous",
        "_write",
        "_write_lock",
    )

    def __init__(
        self,
        path: str | Path,
        codec: Codec | None = None,
        *,
        busy_timeout_ms: int = 5_000,
        tail_check: int = 1_000,
        repair: bool = True,
    ) -> None:
        self._path = str(path)
        self._codec = codec or Codec()
        try:
            self._write = _connect(self._path, busy_timeout_ms)
            for statement in sql.SCHEMA:
                self._write.execute(statement)
            self._read = _connect(self._path, busy_timeout_ms)
        except sqlite3.Error as error:
            raise StoreError(f"cannot open SQLite store {self._path}: {error}") from error
        self._write_lock = threading.Lock()
        self._read_lock = threading.Lock()
        self._planner = BatchPlanner()
        self._synchronous = "FULL"
        self._closed = False
        self._recovery = self._recover(tail_check, repair=repair)
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

    # ------------------------------------------------------------------ recovery

    def _recover(self, tail_check: int, *, repair: bool) -> RecoveryReport:
        head = self.last_position()
        start = max(0, head - tail_check)
        tail = list(self.records(start))
        bad = first_bad_position(tail, start)
        if bad is None:
            return RecoveryReport(checked=len(tail), head=head)
        if not repair:
            return RecoveryReport(
                checked=len(tail), torn_at=bad, head=head, detail=f"torn tail from position {bad}"
            )
        with self._write_lock:
            deleted = self._truncate(bad)
        return RecoveryReport(
            checked=len(tail),
            torn_at=bad,
            truncated=deleted,
            head=bad - 1,
            detail=f"torn tail from position {bad} truncated",
        )

    def _truncate(self, first: int) -> int:
        """Delete entries from ``first`` on and move the stream tips back; return the count."""
        connection = self._write
        connection.execute("BEGIN IMMEDIATE")
        tips: dict[str, tuple[int, int]] = {}
        for stream, version, previous in connection.execute(sql.SELECT_TAIL_LINKS, (first,)):
            tips.setdefault(stream, (version - 1, previous))
        deleted = connection.execute("DELETE FROM events WHERE position >= ?", (first,)).rowcount
        connection.execute("DELETE FROM idempotency WHERE last_position >= ?", (first,))
        for stream, (version, tip) in tips.items():
            if version == 0:
                connection.execute("DELETE FROM streams WHERE stream = ?", (stream,))
            else:
                connection.execute(sql.UPSERT_STREAM, (stream, version, tip))
        connection.execute("COMMIT")
        self._planner.forget()
        return deleted

    # -------------------------------------------------------------------- writes

    def _versions(self, streams: Collection[str]) -> Mapping[str, StreamTip]:
        found: dict[str, StreamTip] = {}
        for chunk in _chunks(streams):
            marks = ",".join("?" * len(chunk))
            query = f"SELECT stream, version, tip FROM streams WHERE stream IN ({marks})"
            for stream, version, tip in self._write.execute(query, chunk):
                found[stream] = (version, tip)
        return found

    def _keys(self, keys: Collection[str]) -> Mapping[str, KeyRecord]:
        found: dict[str, KeyRecord] = {}
        for chunk in _chunks(keys):
            marks = ",".join("?" * len(chunk))
            query = (
                "SELECT key, stream, first_position, last_position FROM idempotency"
                f" WHERE key IN ({marks})"
            )
            for row in self._write.execute(query, chunk):
                found[row[0]] = KeyRecord(*row)
        return found

    def commit(
        self, appends: Sequence[Append], *, durability: Durability = Durability.DURABLE
    ) -> list[Outcome]:
        synchronous = "FULL" if durability is Durability.DURABLE else "NORMAL"
        with self._write_lock:
            if self._closed:
                raise StoreError("the recorder is closed")
            connection = self._write
            try:
                if synchronous != self._synchronous:
                    connection.execute(f"PRAGMA synchronous = {synchronous}")
                    self._synchronous = synchronous
                connection.execute("BEGIN IMMEDIATE")
                head = connection.execute(sql.SELECT_HEAD).fetchone()[0]
                plan = self._planner.plan(head, appends, self._versions, self._keys)
                if plan.records:
                    connection.executemany(
                        sql.INSERT_EVENT,
                        [
                            (
                                r.position,
                                r.stream,
                                r.version,
                                previous,
                                r.type,
                                r.schema,
                                r.ts,
                                r.payload,
                                r.checksum,
                            )
                            for r, previous in zip(plan.records, plan.previous, strict=True)
                        ],
                    )
                    connection.executemany(
                        sql.UPSERT_STREAM,
                        [(stream, tip[0], tip[1]) for stream, tip in plan.versions.items()],
                    )
                if plan.keys:
                    connection.executemany(
                        sql.INSERT_KEY,
                        [(k.key, k.stream, k.first_position, k.last_position) for k in plan.keys],
                    )
                connection.execute("COMMIT")
            except sqlite3.Error as error:
                self._rollback()
                if isinstance(error, sqlite3.IntegrityError):
                    raise ConcurrencyError(f"concurrent append: {error}") from error
                raise StoreError(f"SQLite commit failed: {error}") from error
            self._planner.committed(plan)
        if plan.records:
            self._signal.publish(plan.head)
        return plan.outcomes

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

    def read(self, after: int = 0, limit: int | None = None) -> Iterator[Entry]:
        decode = self._codec.decode
        for position, stream, version, type_name, schema, ts, payload, _ in paged_rows(
            self._fetch_after, after, limit, _PAGE
        ):
            yield Entry(
                position, stream, version, type_name, ts, decode(type_name, schema, payload)
            )

    def read_stream(self, stream: str, after_version: int = 0) -> Iterator[Entry]:
        decode = self._codec.decode
        rows = self._fetch(sql.SELECT_STREAM, (stream, after_version))
        for position, name, version, type_name, schema, ts, payload, _ in rows:
            yield Entry(position, name, version, type_name, ts, decode(type_name, schema, payload))

    def last_position(self) -> int:
        value = self._fetch(sql.SELECT_HEAD, ())[0][0]
        assert isinstance(value, int)
        return value

    def stream_version(self, stream: str) -> int:
        value = self._fetch(sql.SELECT_VERSION, (stream,))[0][0]
        assert isinstance(value, int)
        return value

    def wait_for(self, after: int, timeout_s: float | None) -> int:
        return self._signal.wait(after, timeout_s)

    def checkpoint(self) -> None:
        """Copy the WAL into the database file (PASSIVE: never blocks the writer)."""
        self._fetch("PRAGMA wal_checkpoint(PASSIVE)", ())

    def close(self) -> None:
        with self._write_lock, self._read_lock:
            if self._closed:
                return
            self._closed = True
            self._read.close()
            self._write.close()
        if hasattr(self, "_signal"):
            self._signal.wake()
