"""What the event store holds and what an append asks for.

A :class:`Record` is one stored entry as bytes (what a backend reads and writes); an
:class:`Entry` is the same entry with its payload decoded into the domain message.
An :class:`Append` is one atomic request: events for one stream, optionally guarded by
an expected stream version (optimistic concurrency) and an idempotency key.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Final

import msgspec

from spreadwire.errors import StoreError, ValidationError


class Durability(StrEnum):
    """When an append is acknowledged.

    ``durable`` (the default): after the commit is on stable storage (SQLite WAL
    ``synchronous=FULL``, PostgreSQL ``synchronous_commit=on``). ``relaxed``: after the
    commit reached the operating system (survives a process crash, not a power loss).
    """

    DURABLE = "durable"
    RELAXED = "relaxed"


class NewEvent(msgspec.Struct, frozen=True, gc=False, array_like=True):
    """An encoded event waiting for its position and version."""

    type: str
    schema: int
    ts: int
    payload: bytes


#: The bytes of one encoded event. The writer encodes straight into a ``bytearray`` (the
#: SQLite module binds it without the adapter lookup it runs for ``bytes``); stored and
#: read back as ``bytes``.
Payload = bytes | bytearray

#: One event appended at the end of its stream with no guard: ``(stream, type, schema,
#: ts, payload)``. What ``EventWriter.append`` commits, so that a batch of single events
#: needs no :class:`Append` and :class:`NewEvent` per event. A ``Recorder.commit`` batch
#: may mix these with appends.
Single = tuple[str, str, int, int, Payload]

#: The longest stream name or idempotency key the store takes, in bytes of UTF-8. One
#: limit for every backend: PostgreSQL keeps both in btree index keys, and a key of more
#: than 2,704 bytes (a third of a page, less what compression saves) fails the whole
#: commit; SQLite and memory would take any length, so a name could be stored in one
#: backend and refused by another. 1,024 leaves room for the category and version next to
#: the stream in the key, and is far above any stream the node derives: ``order-`` plus a
#: client order id of at most 64 characters (``domain.commands.Identifier``, the REST API's
#: ids) is at most 262 bytes.
MAX_NAME_BYTES: Final = 1_024


def check_name(field: str, value: str) -> None:
    """Refuse a stream name or idempotency key that some backend cannot store: empty,
    longer than :data:`MAX_NAME_BYTES` bytes of UTF-8, holding a NUL (PostgreSQL text
    cannot) or a lone surrogate (which has no UTF-8). A :class:`ValidationError` naming
    ``field``, raised before anything is written, so that every backend refuses the same
    names the same way rather than one failing its commit with a server error."""
    try:
        size = len(value.encode())
    except UnicodeEncodeError:
        problem = "holds a lone surrogate, which has no UTF-8"
    else:
        if size == 0:
            problem = "is empty"
        elif size > MAX_NAME_BYTES:
            problem = f"is {size} bytes long"
        elif "\x00" in value:
            problem = "holds a NUL character"
        else:
            return
    raise ValidationError(
        field, f"{problem}; the event store takes 1 to {MAX_NAME_BYTES} bytes of UTF-8 without NUL"
    )


def searchable(name: str) -> bool:
    """Whether every backend can look ``name`` up: no NUL (PostgreSQL text cannot hold
    one) and no lone surrogate (no UTF-8 for it; SQLite and PostgreSQL fail to send it).
    Such a name is stored nowhere, so a read of it answers "nothing" in every backend
    rather than an error in some. A name that is only too long is looked up as usual: a
    store written before :data:`MAX_NAME_BYTES` was enforced may hold one."""
    return "\x00" not in name and has_utf8(name)


def has_utf8(name: str) -> bool:
    """Whether ``name`` can be encoded as UTF-8 (a lone surrogate cannot): what any
    backend needs to send it at all."""
    if name.isascii():
        return True
    try:
        name.encode()
    except UnicodeEncodeError:
        return False
    return True


#: ``Append.expected_version`` value that means "the stream must not exist yet".
NO_STREAM = 0


class Append(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """Append ``events`` to ``stream`` atomically.

    ``expected_version`` None appends at the end whatever the version; an int must equal
    the stream's current version (0: the stream must not exist). ``idempotency_key``
    makes a retried request a no-op that reports the first outcome. Both are checked by
    :func:`check_name` here, when the append is made (a ``ValidationError``), not when a
    backend writes it.
    """

    stream: str
    events: tuple[NewEvent, ...]
    expected_version: int | None = None
    idempotency_key: str | None = None

    def __post_init__(self) -> None:
        if not self.events:
            raise StoreError(f"append to {self.stream!r} has no events")
        check_name("stream", self.stream)
        if self.idempotency_key is not None:
            check_name("idempotency_key", self.idempotency_key)


class Committed(msgspec.Struct, frozen=True, gc=False):
    """The append was stored at positions ``first..last`` and left the stream at ``version``."""

    first_position: int
    last_position: int
    version: int


class Duplicate(msgspec.Struct, frozen=True, gc=False):
    """The idempotency key was seen before; nothing was written this time."""

    first_position: int
    last_position: int


class Conflict(msgspec.Struct, frozen=True, gc=False):
    """The stream was not at the expected version; nothing was written."""

    stream: str
    expected_version: int
    actual_version: int


Outcome = Committed | Duplicate | Conflict


class Record(msgspec.Struct, frozen=True, gc=False, array_like=True):
    """One stored entry, payload still encoded. ``checksum`` covers every other field."""

    position: int
    stream: str
    version: int
    type: str
    schema: int
    ts: int
    payload: bytes
    checksum: int


class Entry(msgspec.Struct, frozen=True, gc=False, array_like=True):
    """One stored entry with its payload decoded (and upcast) into a domain message."""

    position: int
    stream: str
    version: int
    type: str
    ts: int
    message: Any


class KeyRecord(msgspec.Struct, frozen=True, gc=False, array_like=True):
    """A remembered idempotency key and the positions its append was stored at."""

    key: str
    stream: str
    first_position: int
    last_position: int


class RecoveryReport(msgspec.Struct, frozen=True, kw_only=True):
    """What opening a store found at the tail of the log.

    ``checked`` entries were verified (checksum and position); ``torn_at`` is the first
    position of a torn tail (0: none); ``truncated`` entries from there on were removed
    (none when the store was opened with ``repair=False``); ``head`` is the position after.
    ``damaged_at`` is the first position that fails its checks while later entries are
    sound: damage inside the log, not a torn tail, so nothing was removed (0: none).
    """

    checked: int = 0
    torn_at: int = 0
    damaged_at: int = 0
    truncated: int = 0
    head: int = 0
    detail: str = ""
