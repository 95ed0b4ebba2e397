"""Turning a batch of appends into rows: the logic every backend shares.

A backend opens its write transaction, reads the current head position, calls
:meth:`BatchPlanner.plan` and writes the planned rows and keys in that same transaction.
The planner checks idempotency keys and expected versions, assigns versions and gap-free
positions after the head, and computes checksums. Each append is all-or-nothing: a
conflicting or duplicate append contributes no rows, the others in the batch still
commit (group commit never couples unrelated callers).

A batch mixes :class:`Append` requests and :data:`Single` events (one event at the end of its
stream, no guard: what the writer's ``append`` queues); a single event is placed without
any per-event object but its row and its :class:`Committed` outcome.

Stream versions are cached between batches; the cache is trusted only while the head
read at the start of a transaction equals the head this planner last committed, i.e. no
other writer committed in between. Otherwise it is dropped and reloaded. A stream is
checked (:func:`~spreadwire.eventstore.records.check_name`) when it is not cached, so a
name no backend may store is refused with a ``ValidationError`` before any row is planned,
at no cost per event of a known stream.

Compiled with mypyc (``setup.py``): the loop works on tuples, ints and strings.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Final, final
from zlib import crc32

from spreadwire.eventstore.records import (
    Append,
    Committed,
    Conflict,
    Duplicate,
    KeyRecord,
    Outcome,
    Payload,
    Single,
    check_name,
)

#: A stream's tip: (current version, position of its last entry); (0, 0) when new.
StreamTip = tuple[int, int]
VersionLoader = Callable[[Collection[str]], Mapping[str, StreamTip]]
KeyLoader = Callable[[Collection[str]], Mapping[str, KeyRecord]]
#: One planned entry in the SQLite column order: (position, stream, version, previous
#: entry of the stream (0: first), type, schema, ts, payload, checksum).
Row = tuple[int, str, int, int, str, int, int, Payload, int]
#: Row fields.
POSITION: Final = 0
STREAM: Final = 1
VERSION: Final = 2
PREVIOUS: Final = 3
TYPE: Final = 4
SCHEMA: Final = 5
TS: Final = 6
PAYLOAD: Final = 7
CHECKSUM: Final = 8


@final
class Plan:
    """Rows to write in one transaction and the outcome of each append."""

    __slots__ = ("head", "keys", "outcomes", "rows", "versions")

    def __init__(self, head: int) -> None:
        self.rows: list[Row] = []
        self.keys: list[KeyRecord] = []
        self.outcomes: list[Outcome] = []
        #: The highest planned position (the head after the commit).
        self.head = head
        #: The new tip of every stream the plan writes to.
        self.versions: dict[str, StreamTip] = {}


@final
class BatchPlanner:
    __slots__ = ("_head", "_max_cached", "_versions")

    def __init__(self, *, max_cached_streams: int = 100_000) -> None:
        self._head = -1
        self._versions: dict[str, StreamTip] = {}
        self._max_cached = max_cached_streams

    @property
    def head(self) -> int:
        """The head this planner last committed (-1: unknown, nothing cached is trusted)."""
        return self._head

    def plan(
        self,
        head: int,
        appends: Sequence[Append | Single],
        load_versions: VersionLoader,
        load_keys: KeyLoader,
    ) -> Plan:
        """Plan ``appends`` after ``head`` (the highest committed position)."""
        if head != self._head or len(self._versions) > self._max_cached:
            self._versions.clear()
        plan = self._place(head, appends, load_keys)
        if plan is None:
            # A stream not cached: load every uncached one of the batch, place again.
            cached = self._versions
            missing = {_stream(a) for a in appends} - cached.keys()
            for stream in missing:
                # Checked here, once per stream the planner has not cached, not per event:
                # every cached stream passed this check when it was first planned. A name
                # some backend cannot store refuses the whole batch before anything is
                # written (a Single has no Append whose construction checked it).
                check_name("stream", stream)
            loaded = load_versions(missing)
            for stream in missing:
                cached[stream] = loaded.get(stream, (0, 0))
            plan = self._place(head, appends, load_keys)
            assert plan is not None
        return plan

    def _place(
        self, head: int, appends: Sequence[Append | Single], load_keys: KeyLoader
    ) -> Plan | None:
        """The plan, or None at the first stream that is not cached."""
        plan = Plan(head)
        cached = self._versions
        versions = plan.versions
        rows = plan.rows
        outcomes = plan.outcomes
        seen: dict[str, KeyRecord] | None = None
        for append in appends:
            if isinstance(append, tuple):
                stream, type_name, schema, ts, payload = append
                tip = versions.get(stream)
                if tip is None:
                    tip = cached.get(stream)
                    if tip is None:
                        return None
                version = tip[0] + 1
                head += 1
                check = _checksum(head, stream, version, type_name, schema, ts, payload)
                rows.append((head, stream, version, tip[1], type_name, schema, ts, payload, check))
                versions[stream] = (version, head)
                outcomes.append(Committed(head, head, version))
                continue
            if append.stream not in versions and append.stream not in cached:
                return None
            if seen is None and (
                append.idempotency_key is not None or append.expected_version is not None
            ):
                seen = _known_keys(appends, load_keys)
            plan.head = head
            outcomes.append(self._append(plan, append, seen))
            head = plan.head
        plan.head = head
        return plan

    def _append(self, plan: Plan, append: Append, seen: dict[str, KeyRecord] | None) -> Outcome:
        """Place one :class:`Append` after ``plan.head`` (its rows, its key) or refuse it."""
        head = plan.head
        stream = append.stream
        current, tip = plan.versions.get(stream) or self._versions[stream]
        key = append.idempotency_key
        if seen is not None:
            if key is not None and key in seen:
                known = seen[key]
                return Duplicate(known.first_position, known.last_position)
            expected = append.expected_version
            if expected is not None and expected != current:
                return Conflict(stream, expected, current)
        first = head + 1
        rows = plan.rows
        for event in append.events:
            head += 1
            current += 1
            type_name, schema, ts, payload = event.type, event.schema, event.ts, event.payload
            check = _checksum(head, stream, current, type_name, schema, ts, payload)
            rows.append((head, stream, current, tip, type_name, schema, ts, payload, check))
            tip = head
        plan.versions[stream] = (current, tip)
        plan.head = head
        if key is not None and seen is not None:
            known = KeyRecord(key, stream, first, head)
            seen[key] = known
            plan.keys.append(known)
        return Committed(first, head, current)

    def committed(self, plan: Plan) -> None:
        """The plan's transaction committed: remember the new head and versions."""
        self._head = plan.head
        self._versions.update(plan.versions)

    def forget(self) -> None:
        """The transaction failed or the store changed underneath: trust nothing cached."""
        self._head = -1
        self._versions.clear()


def _checksum(  # noqa: PLR0917 - positional: a native call in the compiled planner
    position: int, stream: str, version: int, type_name: str, schema: int, ts: int, payload: Payload
) -> int:
    """``entry_checksum`` (eventstore/checksum.py) as one CRC over header + payload: the
    same value as chaining two CRCs, and one call costs less than two."""
    header = f"{position}\x1f{stream}\x1f{version}\x1f{type_name}\x1f{schema}\x1f{ts}\x1e"
    return crc32(header.encode() + payload)


def _stream(append: Append | Single) -> str:
    return append[0] if isinstance(append, tuple) else append.stream


def _known_keys(appends: Sequence[Append | Single], load_keys: KeyLoader) -> dict[str, KeyRecord]:
    """The stored records of every idempotency key in the batch (one query)."""
    keys = [
        a.idempotency_key
        for a in appends
        if not isinstance(a, tuple) and a.idempotency_key is not None
    ]
    return dict(load_keys(keys)) if keys else {}
