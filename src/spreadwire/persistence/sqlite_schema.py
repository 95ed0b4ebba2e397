"""SQLite schema of the event store (WAL; one file holds log, keys and metadata)."""

from __future__ import annotations

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS events (
        position INTEGER PRIMARY KEY,
        stream TEXT NOT NULL,
        version INTEGER NOT NULL,
        type TEXT NOT NULL,
        schema INTEGER NOT NULL,
        ts INTEGER NOT NULL,
        payload BLOB NOT NULL,
        checksum INTEGER NOT NULL
    )""",
    "CREATE UNIQUE INDEX IF NOT EXISTS events_stream_version ON events (stream, version)",
    """CREATE TABLE IF NOT EXISTS idempotency (
        key TEXT PRIMARY KEY,
        stream TEXT NOT NULL,
        first_position INTEGER NOT NULL,
        last_position INTEGER NOT NULL
    ) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS store_meta (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL
    ) WITHOUT ROWID""",
)

COLUMNS = "position, stream, version, type, schema, ts, payload, checksum"
INSERT_EVENT = f"INSERT INTO events ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
INSERT_KEY = (
    "INSERT INTO idempotency (key, stream, first_position, last_position) VALUES (?, ?, ?, ?)"
)
SELECT_AFTER = f"SELECT {COLUMNS} FROM events WHERE position > ? ORDER BY position LIMIT ?"
SELECT_STREAM = (
    f"SELECT {COLUMNS} FROM events WHERE stream = ? AND version > ? ORDER BY version LIMIT ?"
)
SELECT_HEAD = "SELECT coalesce(max(position), 0) FROM events"
SELECT_VERSION = "SELECT coalesce(max(version), 0) FROM events WHERE stream = ?"
