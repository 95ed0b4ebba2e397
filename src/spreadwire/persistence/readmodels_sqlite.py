"""Read models in SQLite: one ``rm_<table>(key, doc)`` table per read-model table and
``rm_tracking(name, position)``, changed together in one transaction per batch.

Read models can be rebuilt from the log, so commits use ``synchronous=NORMAL``: a power
loss may roll back the newest batches, but documents and tracking roll back together,
so each event is still applied exactly once.

A rebuild is built aside, in ``rms_`` tables of the same database (:meth:`staging`), and
swapped in by :meth:`promote` in one transaction: readers see the old read models until
the new ones are complete, never an emptied or part-built one.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import final

import msgspec

from spreadwire.errors import StoreError
from spreadwire.eventstore.projection import (
    RESETS,
    BatchView,
    Doc,
    Projection,
    apply_batch,
    check_table_name,
)
from spreadwire.eventstore.records import Entry

LIVE = "rm_"
#: The prefix of the tables a rebuild is built in before :meth:`SQLiteReadModelStore.promote`.
STAGING = "rms_"
_TRACKING = """CREATE TABLE IF NOT EXISTS {0}tracking (
    name TEXT PRIMARY KEY, position INTEGER NOT NULL) WITHOUT ROWID"""
#: A read-model table (its name formatted in), live or staging.
_DOCS = "CREATE TABLE IF NOT EXISTS {0} (key TEXT PRIMARY KEY, doc TEXT NOT NULL) WITHOUT ROWID"
_EXISTS = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"


_COUNT_RESET = (
    "INSERT INTO rm_tracking (name, position) VALUES (?, 1)"
    " ON CONFLICT (name) DO UPDATE SET position = rm_tracking.position + 1"
)


def read_models_exist(path: str | Path) -> bool:
    """Whether read models were ever created in the SQLite file at ``path`` (its
    ``rm_tracking`` table), on a read-only connection: opening the store creates that
    table, and sets WAL mode, in whatever SQLite file it is given, an event store's
    included, and ``projections status`` and ``events verify`` only read."""
    uri = f"{Path(path).absolute().as_uri()}?mode=ro"
    try:
        connection = sqlite3.connect(uri, uri=True)
        try:
            row = connection.execute(_EXISTS, ("rm_tracking",)).fetchone()
        finally:
            connection.close()
    except sqlite3.Error as error:
        raise StoreError(f"cannot open read models {path}: {error}") from error
    return row is not None


def _rebuild_lock(path: str) -> int:
    """An exclusive lock on ``<path>.rebuild`` for a staging store's life: one rebuild at
    a time per database (the lock goes with the descriptor, also when the process dies)."""
    lock = f"{path}.rebuild"
    try:
        descriptor = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as error:
        raise StoreError(f"read models sqlite:///{path}: cannot open {lock}: {error}") from error
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as error:
        os.close(descriptor)
        raise StoreError(
            f"read models sqlite:///{path}: another rebuild of them is running"
        ) from error
    return descriptor


@final
class SQLiteReadModelStore:
    __slots__ = (
        "_connection",
        "_decoder",
        "_encoder",
        "_lock",
        "_owner",
        "_path",
        "_prefix",
        "_rebuilding",
        "_tables",
        "_tracking",
    )

    def __init__(self, path: str | Path, *, timeout_s: float = 5.0) -> None:
        """``timeout_s``: how long a call waits for another connection's write lock."""
        self._path = str(path)
        try:
            self._connection = sqlite3.connect(
                self._path, isolation_level=None, check_same_thread=False, timeout=timeout_s
            )
            if self._path != ":memory:":
                self._connection.execute("PRAGMA journal_mode = WAL")
            self._connection.execute("PRAGMA synchronous = NORMAL")
            self._connection.execute(_TRACKING.format(LIVE))
        except sqlite3.Error as error:
            raise StoreError(f"cannot open read models {self._path}: {error}") from error
        self._lock = threading.Lock()
        self._owner = True
        self._rebuilding: int | None = None
        self._setup(LIVE)

    def _setup(self, prefix: str) -> None:
        self._prefix = prefix
        self._tracking = f"{prefix}tracking"
        self._tables: set[str] = set()
        self._encoder = msgspec.json.Encoder()
        self._decoder = msgspec.json.Decoder(dict)

    def staging(self) -> SQLiteReadModelStore:
        """A store over the same connection whose tables are the ``rms_`` ones, emptied
        first (what an interrupted rebuild left); build there, then :meth:`promote`."""
        staging = object.__new__(SQLiteReadModelStore)
        staging._path, staging._connection, staging._lock = self._path, self._connection, self._lock
        staging._owner = False
        staging._rebuilding = None
        staging._setup(STAGING)
        if self._path != ":memory:":
            staging._rebuilding = _rebuild_lock(self._path)
        try:
            with self._locked() as connection:
                left = [
                    name
                    for (name,) in connection.execute(
                        "SELECT name FROM sqlite_master WHERE type = 'table'"
                        " AND substr(name, 1, length(?)) = ?",
                        (STAGING, STAGING),
                    )
                ]
                for name in left:
                    connection.execute(f"DROP TABLE {name}")
                connection.execute(_TRACKING.format(STAGING))
        except BaseException:
            staging.close()
            raise
        return staging

    def promote(self, projections: Sequence[Projection]) -> None:
        """Swap the staging tables of ``projections`` in for the live ones and their
        staging tracking positions for the live ones, counting a reset, in one
        transaction; the staging store is spent."""
        with self._locked() as connection:
            try:
                connection.execute("BEGIN IMMEDIATE")
                for projection in projections:
                    for table in projection.tables:
                        name = check_table_name(table)
                        connection.execute(_DOCS.format(f"{STAGING}{name}"))
                        connection.execute(f"DROP TABLE IF EXISTS {LIVE}{name}")
                        connection.execute(f"ALTER TABLE {STAGING}{name} RENAME TO {LIVE}{name}")
                        self._tables.add(table)
                names = [(p.name,) for p in projections]
                connection.executemany("DELETE FROM rm_tracking WHERE name = ?", names)
                connection.executemany(
                    f"INSERT INTO rm_tracking (name, position) SELECT name, position"
                    f" FROM {STAGING}tracking WHERE name = ?",
                    names,
                )
                connection.execute(_COUNT_RESET, (RESETS,))
                connection.execute(f"DROP TABLE {STAGING}tracking")
                connection.execute("COMMIT")
            except BaseException:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                raise

    @property
    def url(self) -> str:
        return "memory://" if self._path == ":memory:" else f"sqlite:///{self._path}"

    @contextmanager
    def _locked(self) -> Iterator[sqlite3.Connection]:
        """The connection under the lock; a database error (another connection holding
        the write lock past the timeout, a full disk) as a :class:`StoreError`."""
        with self._lock:
            try:
                yield self._connection
            except sqlite3.Error as error:
                raise StoreError(f"read models {self.url}: {error}") from error

    def _ensure(self, table: str) -> str:
        name = f"{self._prefix}{check_table_name(table)}"
        if table not in self._tables:
            self._connection.execute(_DOCS.format(name))
            self._tables.add(table)
        return name

    def tracking(self) -> dict[str, int]:
        return self.marks()[0]

    def holds_any(self, tables: Sequence[str]) -> bool:
        with self._locked() as connection:
            for table in tables:
                name = f"{self._prefix}{check_table_name(table)}"
                exists = connection.execute(_EXISTS, (name,)).fetchone()
                if exists and connection.execute(f"SELECT 1 FROM {name} LIMIT 1").fetchone():
                    return True
        return False

    def marks(self) -> tuple[dict[str, int], int]:
        with self._locked() as connection:
            tracking = dict(connection.execute(f"SELECT name, position FROM {self._tracking}"))
        return tracking, tracking.pop(RESETS, 0)

    def _load(self, table: str, key: str) -> Doc | None:
        row = self._connection.execute(
            f"SELECT doc FROM {self._ensure(table)} WHERE key = ?", (key,)
        ).fetchone()
        return None if row is None else self._decoder.decode(row[0])

    def apply(
        self,
        projections: Sequence[Projection],
        entries: Sequence[Entry],
        *,
        after: int | None = None,
    ) -> dict[str, int]:
        with self._locked() as connection:
            for projection in projections:
                for table in projection.tables:
                    self._ensure(table)
            try:
                connection.execute("BEGIN IMMEDIATE")
                tracked = dict(connection.execute(f"SELECT name, position FROM {self._tracking}"))
                view = BatchView(self._load)
                positions = apply_batch(projections, tracked, entries, view, after)
                self._flush(view)
                connection.executemany(
                    f"INSERT INTO {self._tracking} (name, position) VALUES (?, ?)"
                    " ON CONFLICT (name) DO UPDATE SET position = excluded.position",
                    list(positions.items()),
                )
                connection.execute("COMMIT")
            except BaseException:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                raise
            return positions

    def _flush(self, view: BatchView) -> None:
        encode = self._encoder.encode
        puts: dict[str, list[tuple[str, str]]] = {}
        deletes: dict[str, list[tuple[str]]] = {}
        for (table, key), doc in view.changes.items():
            if doc is None:
                deletes.setdefault(table, []).append((key,))
            else:
                puts.setdefault(table, []).append((key, encode(doc).decode()))
        for table, keyed in deletes.items():
            self._connection.executemany(f"DELETE FROM {self._prefix}{table} WHERE key = ?", keyed)
        for table, docs in puts.items():
            self._connection.executemany(
                f"INSERT INTO {self._prefix}{table} (key, doc) VALUES (?, ?) ON CONFLICT (key)"
                " DO UPDATE SET doc = excluded.doc",
                docs,
            )

    def get(self, table: str, key: str) -> Doc | None:
        with self._locked():
            return self._load(table, key)

    def rows(self, table: str) -> dict[str, Doc]:
        with self._locked() as connection:
            name = f"{self._prefix}{check_table_name(table)}"
            if table not in self._tables and not connection.execute(_EXISTS, (name,)).fetchone():
                # nothing was ever put there; creating it would make ``events verify`` of
                # read models older than the table write to them
                return {}
            name = self._ensure(table)
            decode = self._decoder.decode
            return {
                key: decode(doc)
                for key, doc in connection.execute(f"SELECT key, doc FROM {name} ORDER BY key")
            }

    def reset(self, projections: Sequence[Projection]) -> None:
        with self._locked() as connection:
            names = [self._ensure(t) for p in projections for t in p.tables]
            try:
                connection.execute("BEGIN IMMEDIATE")
                for name in names:
                    connection.execute(f"DELETE FROM {name}")
                connection.executemany(
                    f"DELETE FROM {self._tracking} WHERE name = ?",
                    [(p.name,) for p in projections],
                )
                if self._prefix == LIVE:
                    connection.execute(_COUNT_RESET, (RESETS,))
                connection.execute("COMMIT")
            except BaseException:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                raise

    def close(self) -> None:
        """Close the connection (a staging store leaves it to the store it came from)."""
        if self._rebuilding is not None:
            os.close(self._rebuilding)  # and the rebuild lock with it
            self._rebuilding = None
        if self._owner:
            with self._lock:
                self._connection.close()
