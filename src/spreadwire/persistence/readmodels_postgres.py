"""Read models in PostgreSQL: ``rm_<table>(key, doc)`` plus ``rm_tracking``, changed
together in one transaction per batch (exactly-once projections)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any, final

import msgspec
import psycopg

from spreadwire.errors import StoreError
from spreadwire.eventstore.projection import (
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


@final
class PostgresReadModelStore:
    __slots__ = ("_connection", "_decoder", "_encoder", "_lock", "_tables", "_url")

    def __init__(self, url: str, *, statement_timeout_ms: int = 30_000) -> None:
        self._url = url
        try:
            conninfo = url.replace("postgres://", "postgresql://", 1)
            self._connection: psycopg.Connection[Any] = psycopg.connect(
                conninfo,
                autocommit=True,
                **session_kwargs(conninfo, f"-c statement_timeout={statement_timeout_ms}", 10),
            )
            with self._connection.transaction():
                self._connection.execute(_LOCK)
                self._connection.execute(_TRACKING)
        except psycopg.Error as error:
            raise StoreError(f"cannot open read models {redact(url)}: {error}") from error
        self._lock = threading.Lock()
        self._tables: set[str] = set()
        self._encoder = msgspec.json.Encoder()
        self._decoder = msgspec.json.Decoder(dict)

    @property
    def url(self) -> str:
        return redact(self._url)

    def _ensure(self, table: str) -> str:
        name = f"rm_{check_table_name(table)}"
        if table not in self._tables:
            with self._connection.transaction():
                self._connection.execute(_LOCK)
                self._connection.execute(
                    f"CREATE TABLE IF NOT EXISTS {name} (key text PRIMARY KEY, doc text NOT NULL)"
                )
            self._tables.add(table)
        return name

    def tracking(self) -> dict[str, int]:
        with self._lock:
            rows = self._connection.execute("SELECT name, position FROM rm_tracking").fetchall()
            return {name: int(position) for name, position in rows}

    def _load(self, table: str, key: str) -> Doc | None:
        row = self._connection.execute(
            f"SELECT doc FROM rm_{table} WHERE key = %s", (key,)
        ).fetchone()
        return None if row is None else self._decoder.decode(row[0])

    def apply(self, projections: Sequence[Projection], entries: Sequence[Entry]) -> None:
        with self._lock:
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
                positions = apply_batch(projections, tracked, entries, view)
                self._flush(view)
                with connection.cursor() as cursor:
                    cursor.executemany(
                        "INSERT INTO rm_tracking (name, position) VALUES (%s, %s)"
                        " ON CONFLICT (name) DO UPDATE SET position = excluded.position",
                        list(positions.items()),
                    )

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
        with self._lock:
            self._ensure(table)
            return self._load(table, key)

    def rows(self, table: str) -> dict[str, Doc]:
        with self._lock:
            name = self._ensure(table)
            decode = self._decoder.decode
            rows = self._connection.execute(f"SELECT key, doc FROM {name} ORDER BY key")
            return {key: decode(doc) for key, doc in rows}

    def reset(self, projections: Sequence[Projection]) -> None:
        with self._lock:
            for projection in projections:
                for table in projection.tables:
                    self._ensure(table)
            with self._connection.transaction():
                for projection in projections:
                    for table in projection.tables:
                        self._connection.execute(f"DELETE FROM rm_{table}")
                    self._connection.execute(
                        "DELETE FROM rm_tracking WHERE name = %s", (projection.name,)
                    )

    def close(self) -> None:
        with self._lock:
            self._connection.close()
