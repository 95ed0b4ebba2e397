"""PostgreSQL schema of the event store, with declarative partitioning.

``events`` is LIST-partitioned by category (the stream name before the first ``-``).
High-volume categories (orders by default) get their own partition, itself
HASH-partitioned by stream into ``hash_partitions`` tables, so each physical table and
its indexes stay small; every other category lands in the default partition. The
primary key ``(category, stream, version)`` enforces one event per stream version (the
category is a function of the stream, so this is ``UNIQUE (stream, version)``).

Positions come from the one-row ``event_head`` table: a writer locks it, takes the next
positions and commits; the next writer sees the committed head. Positions are therefore
gap-free and in commit order (a rolled-back transaction takes none).
"""

from __future__ import annotations

COLUMNS = "position, stream, version, type, schema, ts, payload, checksum"


def schema(high_volume: tuple[str, ...], hash_partitions: int) -> list[str]:
    statements = [
        """CREATE TABLE IF NOT EXISTS events (
            position bigint NOT NULL,
            category text NOT NULL,
            stream text NOT NULL,
            version bigint NOT NULL,
            type text NOT NULL,
            schema integer NOT NULL,
            ts bigint NOT NULL,
            payload bytea NOT NULL,
            checksum bigint NOT NULL,
            PRIMARY KEY (category, stream, version)
        ) PARTITION BY LIST (category)""",
        "CREATE TABLE IF NOT EXISTS events_other PARTITION OF events DEFAULT",
    ]
    for category in high_volume:
        parent = f"events_{category}"
        statements.append(
            f"CREATE TABLE IF NOT EXISTS {parent} PARTITION OF events"
            f" FOR VALUES IN ('{category}') PARTITION BY HASH (stream)"
        )
        statements.extend(
            f"CREATE TABLE IF NOT EXISTS {parent}_{i} PARTITION OF {parent}"
            f" FOR VALUES WITH (MODULUS {hash_partitions}, REMAINDER {i})"
            for i in range(hash_partitions)
        )
    statements += [
        "CREATE INDEX IF NOT EXISTS events_position ON events (position)",
        """CREATE TABLE IF NOT EXISTS event_head (
            id integer PRIMARY KEY CHECK (id = 1),
            position bigint NOT NULL
        )""",
        "INSERT INTO event_head (id, position) VALUES (1, 0) ON CONFLICT DO NOTHING",
        """CREATE TABLE IF NOT EXISTS idempotency (
            key text PRIMARY KEY,
            stream text NOT NULL,
            first_position bigint NOT NULL,
            last_position bigint NOT NULL
        )""",
    ]
    return statements


INSERT_EVENT = (
    "INSERT INTO events (position, category, stream, version, type, schema, ts, payload,"
    " checksum) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
)
INSERT_KEY = (
    "INSERT INTO idempotency (key, stream, first_position, last_position) VALUES (%s, %s, %s, %s)"
)
LOCK_HEAD = "SELECT position FROM event_head WHERE id = 1 FOR UPDATE"
SET_HEAD = "UPDATE event_head SET position = %s WHERE id = 1"
SELECT_HEAD = "SELECT position FROM event_head WHERE id = 1"
#: (pid, start time) of this connection's server session, which name it in END_SESSION,
#: and its ``synchronous_commit``.
SESSION = (
    "SELECT pid, backend_start, current_setting('synchronous_commit') FROM pg_stat_activity"
    " WHERE pid = pg_backend_pid()"
)
#: End the server session named (if it is still there), waiting up to %s ms for it to
#: exit: no row (gone already), true (ended) or false (still there when the wait ended).
END_SESSION = (
    "SELECT pg_terminate_backend(pid, %s) FROM pg_stat_activity"
    " WHERE pid = %s AND backend_start = %s"
)
SELECT_CHECKSUMS = "SELECT position, checksum FROM events WHERE position = ANY(%s)"
SELECT_AFTER = f"SELECT {COLUMNS} FROM events WHERE position > %s ORDER BY position LIMIT %s"
SELECT_STREAM = (
    f"SELECT {COLUMNS} FROM events WHERE category = %s AND stream = %s AND version > %s"
    " ORDER BY version LIMIT %s"
)
#: (stream, version, position) of the last entry of each stream asked for (none: a new
#: stream), given paired arrays of categories and streams. One backward probe of the
#: primary key per stream, in the one partition run-time pruning keeps: the last entry of
#: a stream has both its highest version and its highest position. (``max(version),
#: max(position) ... GROUP BY stream`` read every entry of every stream asked for, a
#: sequential scan of its partition for a long stream.)
SELECT_VERSIONS = """
SELECT s.stream, e.version, e.position
FROM unnest(%s::text[], %s::text[]) AS s (category, stream)
CROSS JOIN LATERAL (
    SELECT version, position FROM events
    WHERE category = s.category AND stream = s.stream
    ORDER BY version DESC LIMIT 1
) AS e
"""
SELECT_VERSION = "SELECT coalesce(max(version), 0) FROM events WHERE category = %s AND stream = %s"
SELECT_KEYS = (
    "SELECT key, stream, first_position, last_position FROM idempotency WHERE key = ANY(%s)"
)
SCHEMA_LOCK = "SELECT pg_advisory_xact_lock(7263500917)"
#: Whether each object of the store exists (in the connection's search path).
EXISTING = (
    "SELECT to_regclass('events') IS NOT NULL, to_regclass('events_other') IS NOT NULL,"
    " to_regclass('events_position') IS NOT NULL, to_regclass('event_head') IS NOT NULL,"
    " to_regclass('idempotency') IS NOT NULL"
)
#: (category, hash partitions) of every category with a partition of its own.
PARTITIONS = """
SELECT substr(c.relname, 8), (SELECT count(*) FROM pg_inherits h WHERE h.inhparent = c.oid)::int
FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = to_regclass('events') AND c.relkind = 'p'
"""

#: Move the head only if it is still where this writer last left it, and insert the rows
#: only if it moved: the first two parts of both append statements below.
_MOVE_AND_INSERT = """
WITH moved AS (
    UPDATE event_head SET position = %(new)s WHERE id = 1 AND position = %(old)s
    RETURNING position
), inserted AS (
    INSERT INTO events (position, category, stream, version, type, schema, ts, payload, checksum)
    SELECT * FROM unnest(
        %(position)s::bigint[], %(category)s::text[], %(stream)s::text[], %(version)s::bigint[],
        %(type)s::text[], %(schema)s::integer[], %(ts)s::bigint[], %(payload)s::bytea[],
        %(checksum)s::bigint[])
    WHERE EXISTS (SELECT 1 FROM moved)
    RETURNING 1
)"""

#: The whole append as one statement (one round trip, its own transaction), idempotency
#: keys included. Returns (head moved, events inserted, keys inserted).
FAST_APPEND = (
    _MOVE_AND_INSERT
    + """, keyed AS (
    INSERT INTO idempotency (key, stream, first_position, last_position)
    SELECT * FROM unnest(
        %(key)s::text[], %(key_stream)s::text[], %(first)s::bigint[], %(last)s::bigint[])
    WHERE EXISTS (SELECT 1 FROM moved)
    RETURNING 1
)
SELECT (SELECT count(*) FROM moved), (SELECT count(*) FROM inserted),
    (SELECT count(*) FROM keyed)
"""
)

#: FAST_APPEND for a batch without idempotency keys (the common case): one relation less
#: to open per commit. Returns (head moved, events inserted).
FAST_APPEND_NO_KEYS = (
    _MOVE_AND_INSERT
    + """
SELECT (SELECT count(*) FROM moved), (SELECT count(*) FROM inserted)
"""
)
