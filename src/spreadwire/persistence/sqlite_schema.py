"""SQLite schema of the event store (WAL; one file holds log, stream tips, keys, metadata).

Format 2: the ``streams`` table holds the stream tips as of ``store_meta`` row
``tips_position``, not as of the head; the tips of later entries are found in the log
(persistence/sqlite_tips.py). A format-1 store (tips upserted by every commit) opens as
format 2 with its mark at its head.

There is deliberately no ``(stream, version)`` index: with many interleaved streams it
dirtied one index page per stream per commit and doubled the WAL traffic of group
commit. Instead each entry records ``previous``, the position of the stream's previous
entry, and ``streams`` holds each stream's tip; a stream is read by walking that chain
back from its tip (one recursive query). ``(stream, version)`` uniqueness is enforced
by the writer: versions are assigned inside the write transaction, which SQLite
serialises across connections and processes.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence

FORMAT = "2"
#: Formats this version opens (a format-1 store is moved to format 2 on open).
FORMATS = ("1", "2")

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS events (
        position INTEGER PRIMARY KEY,
        stream TEXT NOT NULL,
        version INTEGER NOT NULL,
        previous INTEGER NOT NULL,
        type TEXT NOT NULL,
        schema INTEGER NOT NULL,
        ts INTEGER NOT NULL,
        payload BLOB NOT NULL,
        checksum INTEGER NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS streams (
        stream TEXT PRIMARY KEY,
        version INTEGER NOT NULL,
        tip INTEGER NOT NULL
    ) WITHOUT ROWID""",
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
    f"INSERT OR IGNORE INTO store_meta (name, value) VALUES ('format', '{FORMAT}')",
)

COLUMNS = "position, stream, version, type, schema, ts, payload, checksum"
INSERT_EVENT = (
    "INSERT INTO events (position, stream, version, previous, type, schema, ts, payload,"
    " checksum) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
#: Rows per multi-row INSERT: one statement (one SQLite step) per this many rows.
ROWS_PER_STATEMENT = 64
EVENT_COLUMNS = 9
STREAM_COLUMNS = 3


def _multi_row(prefix: str, columns: int, rows: int, suffix: str = "") -> str:
    row = "(" + ", ".join("?" * columns) + ")"
    return prefix + ", ".join([row] * rows) + suffix


def _statements(prefix: str, columns: int, suffix: str = "") -> tuple[str, ...]:
    """``[n]``: the statement inserting ``n`` rows, for n in 0..ROWS_PER_STATEMENT."""
    sizes = range(1, ROWS_PER_STATEMENT + 1)
    return ("", *(_multi_row(prefix, columns, n, suffix) for n in sizes))


INSERT_EVENTS = _statements(
    "INSERT INTO events (position, stream, version, previous, type, schema, ts, payload,"
    " checksum) VALUES ",
    EVENT_COLUMNS,
)
UPSERT_STREAMS = _statements(
    "INSERT INTO streams (stream, version, tip) VALUES ",
    STREAM_COLUMNS,
    " ON CONFLICT (stream) DO UPDATE SET version = excluded.version, tip = excluded.tip",
)


def chunked(
    statements: tuple[str, ...], values: Sequence[object], columns: int
) -> Iterator[tuple[str, Sequence[object]]]:
    """(statement, parameters) pairs inserting the rows flattened in ``values``."""
    step = ROWS_PER_STATEMENT * columns
    if len(values) <= step:
        if values:
            yield statements[len(values) // columns], values
        return
    for start in range(0, len(values), step):
        chunk = values[start : start + step]
        yield statements[len(chunk) // columns], chunk


#: Names per ``IN (...)`` lookup (SQLite allows 32,766 parameters; 500 keeps each small).
IN_PARAMS = 500


def in_chunks(items: Collection[str]) -> Iterator[list[str]]:
    """``items`` in lists of at most :data:`IN_PARAMS`, one ``IN (...)`` lookup each."""
    values = list(items)
    for start in range(0, len(values), IN_PARAMS):
        yield values[start : start + IN_PARAMS]


UPSERT_STREAM = (
    "INSERT INTO streams (stream, version, tip) VALUES (?, ?, ?) ON CONFLICT (stream)"
    " DO UPDATE SET version = excluded.version, tip = excluded.tip"
)
INSERT_KEY = (
    "INSERT INTO idempotency (key, stream, first_position, last_position) VALUES (?, ?, ?, ?)"
)
#: Reads take the payload as a BLOB whatever its storage class: one flipped bit in a
#: record header turns a BLOB into TEXT of the same bytes, which would otherwise fail to
#: decode as UTF-8 and stop every read (opening, recovery, ``events verify``) at it.
_READ_COLUMNS = COLUMNS.replace("payload", "CAST(payload AS BLOB)")
SELECT_AFTER = f"SELECT {_READ_COLUMNS} FROM events WHERE position > ? ORDER BY position LIMIT ?"
#: The same with each entry's ``previous`` last (``events verify`` checks the links).
SELECT_LINKED_AFTER = (
    f"SELECT {_READ_COLUMNS}, previous FROM events WHERE position > ? ORDER BY position LIMIT ?"
)
#: What a decoded read needs (no checksum).
SELECT_ENTRIES_AFTER = (
    "SELECT position, stream, version, type, schema, ts, CAST(payload AS BLOB) FROM events"
    " WHERE position > ? ORDER BY position LIMIT ?"
)
_CHAIN_COLUMNS = ", ".join(f"e.{c.strip()}" for c in _READ_COLUMNS.split(", ")).replace(
    "e.CAST(payload AS BLOB)", "CAST(e.payload AS BLOB)"
)
#: Entries with versions above ?2, walking the chain back from the entry at position ?1
#: (a stream's tip).
SELECT_STREAM_FROM = f"""
WITH RECURSIVE chain(position, version, previous) AS (
    SELECT position, version, previous FROM events WHERE position = ?1
    UNION ALL
    SELECT e.position, e.version, e.previous
    FROM chain AS c JOIN events AS e ON e.position = c.previous
    WHERE c.previous > 0 AND c.version > ?2 + 1
)
SELECT {_CHAIN_COLUMNS}
FROM chain AS c JOIN events AS e ON e.position = c.position
ORDER BY e.position
"""
#: The same by scanning the log (no index): when the chain is found broken.
SELECT_STREAM_SCAN = (
    f"SELECT {_READ_COLUMNS} FROM events WHERE stream = ?1 AND version > ?2 ORDER BY position"
)
SELECT_KEY = "SELECT key, stream, first_position, last_position FROM idempotency WHERE key = ?"
SELECT_HEAD = "SELECT coalesce(max(position), 0) FROM events"
SELECT_TIP = "SELECT version, tip FROM streams WHERE stream = ?"
#: (stream, version, position) of the entries in (?, ?], in log order.
SELECT_LINKS = (
    "SELECT stream, version, position FROM events WHERE position > ? AND position <= ?"
    " ORDER BY position"
)
SELECT_META = "SELECT value FROM store_meta WHERE name = ?"
#: (head, the head entry's checksum (0: none), torn tails cut, tips mark) in one statement,
#: so one snapshot: a reader outside a transaction must not pair the head of one commit
#: with the cuts counter or the mark of another.
SELECT_STATE = (
    "SELECT coalesce((SELECT max(position) FROM events), 0),"
    " coalesce((SELECT checksum FROM events ORDER BY position DESC LIMIT 1), 0),"
    " coalesce((SELECT CAST(value AS INTEGER) FROM store_meta WHERE name = 'cuts'), 0),"
    " coalesce((SELECT CAST(value AS INTEGER) FROM store_meta WHERE name = 'tips_position'), 0)"
)
#: Torn tails cut so far (``cuts``): tips held in memory from before a cut are rebuilt.
COUNT_CUT = (
    "INSERT INTO store_meta (name, value) VALUES ('cuts', '1') ON CONFLICT (name)"
    " DO UPDATE SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT)"
)
UPSERT_META = (
    "INSERT INTO store_meta (name, value) VALUES (?, ?)"
    " ON CONFLICT (name) DO UPDATE SET value = excluded.value"
)
SELECT_TAIL_LINKS = (
    "SELECT stream, position, version, previous FROM events WHERE position >= ? ORDER BY position"
)
