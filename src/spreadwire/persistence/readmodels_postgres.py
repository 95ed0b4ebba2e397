"""Read models in PostgreSQL: ``rm_<table>(key, doc)`` plus ``rm_tracking``, changed
together in one transaction per batch (exactly-once projections).

One connection, used under a lock. When the server closes it (a restart, a failover,
``pg_terminate_backend``), the call is made again once on a new connection: every call
is safe to repeat, ``apply`` included, since it reads the tracking positions again
inside its transaction and skips what a lost-but-committed attempt already applied.
Tables that exist are not created again, so a role allowed only to read can open them."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar, final

import msgspec
import psycopg

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
from spreadwire.persistence.postgres import session_kwargs
from spreadwire.persistence.store import redact

_TRACKING = """CREATE TABLE IF NOT EXISTS rm_tracking (
    name text PRIMARY KEY, position bigint NOT NULL)"""
_LOCK = "SELECT pg_advisory_xact_lock(7263500918)"
#: One applier at a time: tracking is read after this lock, so no batch applies twice.
_APPLY_LOCK = "SELECT pg_advisory_xact_lock(7263500919)"
_EXISTS = "SELECT to_regclass(%s) IS NOT NULL"

T = TypeVar("T")


def _connect(url: str, options: str = "") -> psycopg.Connection[Any]:
    """An autocommit connection to ``url`` with its own session settings and ``options``."""
    conninfo = url.replace("postgres://", "postgresql://", 1)
    return psycopg.connect(conninfo, autocommit=True, **session_kwargs(conninfo, options, 10))


def read_models_exist(url: str) -> bool:
    """Whether read models were ever created at ``url`` (its ``rm_tracking`` table),
    creating nothing: a role allowed only to read can ask."""
    try:
        with _connect(url) as connection:
            row = connection.execute(_EXISTS, ("rm_tracking",)).fetchone()
    except psycopg.Error as error:
        raise StoreError(f"cannot open read models {redact(url)}: {error}") from error
    return bool(row and row[0])


@final
class PostgresReadModelStore:
    __slots__ = (
        "_connection",
        "_decoder",
        "_encoder",
        "_lock",
        "_statement_timeout_ms",
        "_tables",
        "_url",
    )

    def __init__(self, url: str, *, statement_timeout_ms: int = 30_000) -> None:
        self._url = url
        self._statement_timeout_ms = statement_timeout_ms
        try:
            self._connection = self._connect()
        except psycopg.Error as error:
            raise StoreError(f"cannot open read models {redact(url)}: {error}") from error
        try:
            if not self._exists("rm_tracking"):
                with self._connection.transaction():
                    self._connection.execute(_LOCK)
                    self._connection.execute(_TRACKING)
        except psycopg.Error as error:
            self._connection.close()
            raise StoreError(f"cannot open read models {redact(url)}: {error}") from error
        self._lock = threading.Lock()
        self._tables: set[str] = set()
        self._encoder = msgspec.json.Encoder()
        self._decoder = msgspec.json.Decoder(dict)

    def _exists(self, table: str) -> bool:
        row = self._connection.execute(_EXISTS, (table,)).fetchone()
        return bool(row and row[0])

    def _connect(self) -> psycopg.Connection[Any]:
        return _connect(self._url, f"-c statement_timeout={self._statement_timeout_ms}")

    def _call(self, work: Callable[[], T]) -> T:
        """``work()`` under the lock; once more on a new connection if the server closed
        this one; any other database error as a :class:`StoreError`."""
        with self._lock:
            try:
                try:
                    return work()
                except psycopg.OperationalError:
                    if not self._connection.broken and not self._connection.closed:
                        raise
                self._connection.close()
                self._connection = self._connect()
                return work()
            except psycopg.Error as error:
                raise StoreError(f"read models {self.url}: {error}") from error

    @property
    def url(self) -> str:
        return redact(self._url)

    def _ensure(self, table: str) -> str:
        name = f"rm_{check_table_name(table)}"
        if table not in self._tables:
            if not self._exists(name):
                with self._connection.transaction():
                    self._connection.execute(_LOCK)
                    self._connection.execute(
                        f"CREATE TABLE IF NOT EXISTS {name}"
                        " (key text PRIMARY KEY, doc text NOT NULL)"
                    )
            self._tables.add(table)
        return name

    def tracking(self) -> dict[str, int]:
        return self.marks()[0]

    def holds_any(self, tables: Sequence[str]) -> bool:
        def work() -> bool:
            for table in tables:
                name = f"rm_{check_table_name(table)}"
                if (
                    self._exists(name)
                    and self._connection.execute(f"SELECT 1 FROM {name} LIMIT 1").fetchone()
                ):
                    return True
            return False

        return self._call(work)

    def marks(self) -> tuple[dict[str, int], int]:
        def work() -> dict[str, int]:
            rows = self._connection.execute("SELECT name, position FROM rm_tracking").fetchall()
            return {name: int(position) for name, position in rows}

        tracking = self._call(work)
        return tracking, tracking.pop(RESETS, 0)

    def _load(self, table: str, key: str) -> Doc | None:
        row = self._connection.execute(
            f"SELECT doc FROM rm_{table} WHERE key = %s", (key,)
        ).fetchone()
        return None if row is None else self._decoder.decode(row[0])

    def apply(
        self,
        projections: Sequence[Projection],
        entries: Sequence[Entry],
        *,
        after: int | None = None,
    ) -> dict[str, int]:
        def work() -> dict[str, int]:
            for projection in projections:
                for table in projection.tables:
                    self._ensure(table)
            connection = self._connection
            with connection.transaction():
                connection.execute(_APPLY_LOCK)
                rows = connection.execute(
                    "SELECT name, position FROM rm_tracking WHERE name = ANY(%s) FOR UPDATE",
                    ([p.name for p in projections],),
                ).fetchall()
                tracked = {name: int(position) for name, position in rows}
                view = BatchView(self._load)
                positions = apply_batch(projections, tracked, entries, view, after)
                self._flush(view)
                with connection.cursor() as cursor:
                    cursor.executemany(
                        "INSERT INTO rm_tracking (name, position) VALUES (%s, %s)"
                        " ON CONFLICT (name) DO UPDATE SET position = excluded.position",
                        list(positions.items()),
                    )
            return positions

        return self._call(work)

    def _flush(self, view: BatchView) -> None:
        encode = self._encoder.encode
        puts: dict[str, list[tuple[str, str]]] = {}
        deletes: dict[str, list[tuple[str]]] = {}
        for (table, key), doc in view.changes.items():
            if doc is None:
                deletes.setdefault(table, []).append((key,))
            else:
                puts.setdefault(table, []).append((key, encode(doc).decode()))
        with self._connection.cursor() as cursor:
            for table, keyed in deletes.items():
                cursor.executemany(f"DELETE FROM rm_{table} WHERE key = %s", keyed)
            for table, docs in puts.items():
                cursor.executemany(
                    f"INSERT INTO rm_{table} (key, doc) VALUES (%s, %s)"
                    " ON CONFLICT (key) DO UPDATE SET doc = excluded.doc",
                    docs,
                )

    def get(self, table: str, key: str) -> Doc | None:
        def work() -> Doc | None:
            self._ensure(table)
            return self._load(table, key)

        return self._call(work)

    def rows(self, table: str) -> dict[str, Doc]:
        def work() -> dict[str, Doc]:
            name = self._ensure(table)
            decode = self._decoder.decode
            rows = self._connection.execute(f"SELECT key, doc FROM {name} ORDER BY key")
            return {key: decode(doc) for key, doc in rows}

        return self._call(work)

    def reset(self, projections: Sequence[Projection]) -> None:
        def work() -> None:
            for projection in projections:
                for table in projection.tables:
                    self._ensure(table)
            with self._connection.transaction():
                self._connection.execute(_APPLY_LOCK)
                for projection in projections:
                    for table in projection.tables:
                        self._connection.execute(f"DELETE FROM rm_{table}")
                    self._connection.execute(
                        "DELETE FROM rm_tracking WHERE name = %s", (projection.name,)
                    )
                self._connection.execute(
                    "INSERT INTO rm_tracking (name, position) VALUES (%s, 1) ON CONFLICT (name)"
                    " DO UPDATE SET position = rm_tracking.position + 1",
                    (RESETS,),
                )

        self._call(work)

    def close(self) -> None:
        with self._lock:
            self._connection.close()
