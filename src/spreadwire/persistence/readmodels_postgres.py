"""Read models in PostgreSQL: ``rm_<table>(key, doc)`` plus ``rm_tracking``, changed
together in one transaction per batch (exactly-once projections).

One connection, used under a lock. When the server closes it (a restart, a failover,
``pg_terminate_backend``), the call is made again once on a new connection: every call
is safe to repeat, ``apply`` included, since it reads the tracking positions again
inside its transaction and skips what a lost-but-committed attempt already applied.
Tables that exist are not created again, so a role allowed only to read can open them.

A rebuild is built aside, in ``rms_`` tables of the same database (:meth:`staging`, its
own connection), and swapped in by :meth:`promote` in one transaction: readers see the old
read models until the new ones are complete (a query made during the swap waits for it)."""

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

LIVE = "rm_"
#: The prefix of the tables a rebuild is built in before :meth:`PostgresReadModelStore.promote`.
STAGING = "rms_"
_TRACKING = """CREATE TABLE IF NOT EXISTS {0}tracking (
    name text PRIMARY KEY, position bigint NOT NULL)"""
#: A read-model table (its name formatted in), live or staging.
_DOCS = "CREATE TABLE IF NOT EXISTS {0} (key text PRIMARY KEY, doc text NOT NULL)"
_COUNT_RESET = (
    "INSERT INTO rm_tracking (name, position) VALUES (%s, 1) ON CONFLICT (name)"
    " DO UPDATE SET position = rm_tracking.position + 1"
)
_LOCK = "SELECT pg_advisory_xact_lock(7263500918)"
#: One applier at a time: tracking is read after this lock, so no batch applies twice.
_APPLY_LOCK = "SELECT pg_advisory_xact_lock(7263500919)"
_EXISTS = "SELECT to_regclass(%s) IS NOT NULL"
#: Held by a staging store's session for its life: one rebuild at a time per database.
_REBUILD_LOCK = "SELECT pg_try_advisory_lock(7263500920)"

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
        "_prefix",
        "_statement_timeout_ms",
        "_tables",
        "_tracking",
        "_url",
    )

    def __init__(
        self, url: str, *, statement_timeout_ms: int = 30_000, _prefix: str = LIVE
    ) -> None:
        self._url = url
        self._statement_timeout_ms = statement_timeout_ms
        self._prefix = _prefix
        self._tracking = f"{_prefix}tracking"
        try:
            self._connection = self._connect()
        except psycopg.Error as error:
            raise StoreError(f"cannot open read models {redact(url)}: {error}") from error
        try:
            if _prefix == STAGING:
                self._take_rebuild_lock()
                self._clear_staging()
            if not self._exists(self._tracking):
                with self._connection.transaction():
                    self._connection.execute(_LOCK)
                    self._connection.execute(_TRACKING.format(_prefix))
        except psycopg.Error as error:
            self._connection.close()
            raise StoreError(f"cannot open read models {redact(url)}: {error}") from error
        self._lock = threading.Lock()
        self._tables: set[str] = set()
        self._encoder = msgspec.json.Encoder()
        self._decoder = msgspec.json.Decoder(dict)

    def _take_rebuild_lock(self) -> None:
        """The session lock that makes this the one rebuild of the database; closes the
        connection and raises :class:`StoreError` when another rebuild holds it."""
        row = self._connection.execute(_REBUILD_LOCK).fetchone()
        if not (row and row[0]):
            self._connection.close()
            raise StoreError(f"read models {self.url}: another rebuild of them is running")

    def _clear_staging(self) -> None:
        """Drop the staging tables an interrupted rebuild left."""
        with self._connection.transaction():
            self._connection.execute(_LOCK)
            rows = self._connection.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
                " AND starts_with(tablename, %s)",
                (STAGING,),
            ).fetchall()
            for (name,) in rows:
                self._connection.execute(f'DROP TABLE "{name}"')

    def staging(self) -> PostgresReadModelStore:
        """A store on its own connection to the same database whose tables are the
        ``rms_`` ones, emptied first; build there, then :meth:`promote`."""
        return PostgresReadModelStore(
            self._url, statement_timeout_ms=self._statement_timeout_ms, _prefix=STAGING
        )

    def promote(self, projections: Sequence[Projection]) -> None:
        """Swap the staging tables of ``projections`` in for the live ones and their
        staging tracking positions for the live ones, counting a reset, in one
        transaction (appliers wait on the apply lock, readers on the tables' locks)."""

        def work() -> None:
            connection = self._connection
            with connection.transaction():
                connection.execute(_APPLY_LOCK)
                for projection in projections:
                    for table in projection.tables:
                        name = check_table_name(table)
                        connection.execute(_DOCS.format(f"{STAGING}{name}"))
                        connection.execute(f"DROP TABLE IF EXISTS {LIVE}{name}")
                        connection.execute(f"ALTER TABLE {STAGING}{name} RENAME TO {LIVE}{name}")
                        # the key's index keeps its staging name unless renamed, and the
                        # next rebuild's staging table would then get another one
                        row = connection.execute(
                            "SELECT conname FROM pg_constraint"
                            " WHERE conrelid = %s::regclass AND contype = 'p'",
                            (f"{LIVE}{name}",),
                        ).fetchone()
                        if row and row[0] != f"{LIVE}{name}_pkey":
                            connection.execute(
                                f'ALTER TABLE {LIVE}{name} RENAME CONSTRAINT "{row[0]}"'
                                f" TO {LIVE}{name}_pkey"
                            )
                        self._tables.add(table)
                names = [p.name for p in projections]
                connection.execute("DELETE FROM rm_tracking WHERE name = ANY(%s)", (names,))
                connection.execute(
                    f"INSERT INTO rm_tracking (name, position) SELECT name, position"
                    f" FROM {STAGING}tracking WHERE name = ANY(%s)",
                    (names,),
                )
                connection.execute(_COUNT_RESET, (RESETS,))
                connection.execute(f"DROP TABLE {STAGING}tracking")

        self._call(work)

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
                if self._prefix == STAGING:
                    # the session lock went with the old session: a rebuild that went on
                    # without it could have another one drop its tables under it
                    self._take_rebuild_lock()
                return work()
            except psycopg.Error as error:
                raise StoreError(f"read models {self.url}: {error}") from error

    @property
    def url(self) -> str:
        return redact(self._url)

    def _ensure(self, table: str) -> str:
        name = f"{self._prefix}{check_table_name(table)}"
        if table not in self._tables:
            if not self._exists(name):
                with self._connection.transaction():
                    self._connection.execute(_LOCK)
                    self._connection.execute(_DOCS.format(name))
            self._tables.add(table)
        return name

    def tracking(self) -> dict[str, int]:
        return self.marks()[0]

    def holds_any(self, tables: Sequence[str]) -> bool:
        def work() -> bool:
            for table in tables:
                name = f"{self._prefix}{check_table_name(table)}"
                if (
                    self._exists(name)
                    and self._connection.execute(f"SELECT 1 FROM {name} LIMIT 1").fetchone()
                ):
                    return True
            return False

        return self._call(work)

    def marks(self) -> tuple[dict[str, int], int]:
        def work() -> dict[str, int]:
            rows = self._connection.execute(
                f"SELECT name, position FROM {self._tracking}"
            ).fetchall()
            return {name: int(position) for name, position in rows}

        tracking = self._call(work)
        return tracking, tracking.pop(RESETS, 0)

    def _load(self, table: str, key: str) -> Doc | None:
        row = self._connection.execute(
            f"SELECT doc FROM {self._prefix}{table} WHERE key = %s", (key,)
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
                    f"SELECT name, position FROM {self._tracking} WHERE name = ANY(%s) FOR UPDATE",
                    ([p.name for p in projections],),
                ).fetchall()
                tracked = {name: int(position) for name, position in rows}
                view = BatchView(self._load)
                positions = apply_batch(projections, tracked, entries, view, after)
                self._flush(view)
                with connection.cursor() as cursor:
                    cursor.executemany(
                        f"INSERT INTO {self._tracking} (name, position) VALUES (%s, %s)"
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
                cursor.executemany(f"DELETE FROM {self._prefix}{table} WHERE key = %s", keyed)
            for table, docs in puts.items():
                cursor.executemany(
                    f"INSERT INTO {self._prefix}{table} (key, doc) VALUES (%s, %s)"
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
            name = f"{self._prefix}{check_table_name(table)}"
            if table not in self._tables and not self._exists(name):
                # nothing was ever put there; creating it would make ``events verify`` of
                # read models older than the table write (or fail for a role that reads)
                return {}
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
                        self._connection.execute(f"DELETE FROM {self._prefix}{table}")
                    self._connection.execute(
                        f"DELETE FROM {self._tracking} WHERE name = %s", (projection.name,)
                    )
                if self._prefix != LIVE:
                    return
                self._connection.execute(_COUNT_RESET, (RESETS,))

        self._call(work)

    def close(self) -> None:
        with self._lock:
            self._connection.close()
