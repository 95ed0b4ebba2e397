"""The ``Recorder`` port: one protocol for every event-store backend.

Backends (in-memory here; SQLite and PostgreSQL in ``spreadwire.persistence``) store
:class:`~spreadwire.eventstore.records.Record` rows and share the batch planning in
:mod:`spreadwire.eventstore.planner`; the contract test suite runs against each.

Guarantees every implementation gives:

* positions start at 1, are gap-free and increase in commit order;
* ``(stream, version)`` is unique, versions of a stream count 1, 2, 3... with no gaps;
* every append in a ``commit`` call is all-or-nothing; a call returns only after its
  transaction committed with the requested durability;
* ``read`` sees only committed entries, in position order;
* the same stream names and idempotency keys are taken everywhere (``records.check_name``:
  1 to ``MAX_NAME_BYTES`` bytes of UTF-8, no NUL); another is a ``ValidationError`` before
  anything is written, and the store keeps serving.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from spreadwire.eventstore.codec import Codec
from spreadwire.eventstore.records import (
    Append,
    Durability,
    Entry,
    KeyRecord,
    NewEvent,
    Outcome,
    Record,
    RecoveryReport,
    Single,
)


@runtime_checkable
class Pooled(Protocol):
    """A recorder behind a connection pool (PostgreSQL) that reports its statistics."""

    def pool_stats(self) -> dict[str, int]:
        """The pool's counters and gauges (connections, waiting requests, errors)."""
        ...


@runtime_checkable
class Linked(Protocol):
    """A recorder whose entries each store the position of their stream's previous entry
    (SQLite: its ``previous`` column, the chain ``read_stream`` walks back from a stream's
    tip). The entry checksum does not cover that link, so a changed one passes every
    other check; ``verify_log`` compares each with the log. PostgreSQL (a stream is read
    by its primary key) and memory (a list per stream) store no such link."""

    def linked_records(self, after: int = 0) -> Iterator[tuple[Record, int]]:
        """What ``records(after)`` yields, each with its stored link (0: the stream's
        first entry), read together so that checking the links costs no second pass."""
        ...

    def stream_tips(self, streams: Collection[str]) -> Mapping[str, tuple[int, int]]:
        """``(version, position of its last entry)`` of each of ``streams`` that has one,
        as the store keeps it for reads (where ``read_stream`` starts walking back), all
        as of one head (a stream with no entry is left out)."""
        ...


class Recorder(Protocol):
    """An append-only event log with a gap-free global position."""

    @property
    def url(self) -> str:
        """The store's URL with any password removed."""
        ...

    @property
    def codec(self) -> Codec: ...

    @property
    def recovery(self) -> RecoveryReport:
        """What opening the store found (torn tail truncated or not)."""
        ...

    def commit(
        self, appends: Sequence[Append | Single], *, durability: Durability = Durability.DURABLE
    ) -> list[Outcome]:
        """Store ``appends`` (appends and single events) in one transaction; one outcome
        per item, in order."""
        ...

    def records(self, after: int = 0, limit: int | None = None) -> Iterator[Record]:
        """Stored entries with positions above ``after``, encoded, in position order."""
        ...

    def read(self, after: int = 0, limit: int | None = None) -> Iterator[Entry]:
        """Stored entries with positions above ``after``, decoded, in position order."""
        ...

    def read_stream(self, stream: str, after_version: int = 0) -> Iterator[Entry]:
        """Entries of one stream with versions above ``after_version``, in version order."""
        ...

    def last_position(self) -> int:
        """The highest committed position (0 when empty)."""
        ...

    def stream_version(self, stream: str) -> int:
        """The current version of ``stream`` (0 when it does not exist)."""
        ...

    def find_key(self, key: str) -> KeyRecord | None:
        """What the append that used idempotency key ``key`` stored (None: unknown)."""
        ...

    def wait_for(self, after: int, timeout_s: float | None) -> int:
        """Block until a position above ``after`` is committed in this process, or timeout;
        return the highest committed position known."""
        ...

    def maintain(self) -> None:
        """Housekeeping the event writer runs when it has acknowledged a batch and nothing
        else is queued, so that it never sits between a caller and its acknowledgement
        (SQLite copies its WAL back into the database file here). Raises StoreError."""
        ...

    def close(self) -> None: ...


def decode_records(codec: Codec, records: Iterable[Record]) -> Iterator[Entry]:
    """Decode stored records into entries (the shared body of ``Recorder.read``)."""
    decode = codec.decode
    for record in records:
        yield Entry(
            record.position,
            record.stream,
            record.version,
            record.type,
            record.ts,
            decode(record.type, record.schema, record.payload),
        )


def encode_append(
    codec: Codec,
    stream: str,
    messages: Sequence[object],
    ts: int,
    *,
    expected_version: int | None = None,
    idempotency_key: str | None = None,
) -> Append:
    """An :class:`Append` of ``messages`` to ``stream`` recorded at ``ts``."""
    events = []
    for message in messages:
        type_name, schema, payload = codec.encode(message)
        events.append(NewEvent(type_name, schema, ts, payload))
    return Append(
        stream=stream,
        events=tuple(events),
        expected_version=expected_version,
        idempotency_key=idempotency_key,
    )


def paged_rows(
    fetch: Callable[[int, int], Sequence[tuple[Any, ...]]],
    after: int,
    limit: int | None,
    page_size: int,
) -> Iterator[tuple[Any, ...]]:
    """Rows after global position ``after`` (first column), at most ``limit`` (all when
    None), fetched ``page_size`` at a time with ``fetch(after, page)``."""
    remaining = -1 if limit is None else limit
    while remaining != 0:
        page = page_size if remaining < 0 else min(page_size, remaining)
        rows = fetch(after, page)
        yield from rows
        if len(rows) < page:
            return
        after = rows[-1][0]
        remaining = remaining - len(rows) if remaining > 0 else remaining
