"""Turning a batch of appends into rows: the logic every backend shares.

A backend opens its write transaction, reads the current head position, calls
:meth:`BatchPlanner.plan` and writes the planned records and keys in that same
transaction. The planner checks idempotency keys and expected versions, assigns
versions and gap-free positions after the head, and computes checksums. Each append is
all-or-nothing: a conflicting or duplicate append contributes no rows, the others in
the batch still commit (group commit never couples unrelated callers).

Stream versions are cached between batches; the cache is trusted only while the head
read at the start of a transaction equals the head this planner last committed, i.e. no
other writer committed in between. Otherwise it is dropped and reloaded.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from typing import final
from zlib import crc32

import msgspec

from spreadwire.eventstore.records import (
    Append,
    Committed,
    Conflict,
    Duplicate,
    KeyRecord,
    Outcome,
    Record,
)

#: A stream's tip: (current version, position of its last entry); (0, 0) when new.
StreamTip = tuple[int, int]
VersionLoader = Callable[[Collection[str]], Mapping[str, StreamTip]]
KeyLoader = Callable[[Collection[str]], Mapping[str, KeyRecord]]


class Plan(msgspec.Struct, kw_only=True):
    """Rows to write in one transaction and the outcome of each append."""

    records: list[Record]
    #: Position of the previous entry of the same stream, per record (0: first).
    previous: list[int]
    keys: list[KeyRecord]
    outcomes: list[Outcome]
    head: int
    versions: dict[str, StreamTip]


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
        appends: Sequence[Append],
        load_versions: VersionLoader,
        load_keys: KeyLoader,
    ) -> Plan:
        """Plan ``appends`` after ``head`` (the highest committed position)."""
        if head != self._head or len(self._versions) > self._max_cached:
            self._versions.clear()
        keys = [a.idempotency_key for a in appends if a.idempotency_key is not None]
        seen = dict(load_keys(keys)) if keys else {}
        versions: dict[str, StreamTip] = {}
        missing = {a.stream for a in appends if a.stream not in self._versions}
        if missing:
            loaded = load_versions(missing)
            for stream in missing:
                self._versions[stream] = loaded.get(stream, (0, 0))
        plan = Plan(records=[], previous=[], keys=[], outcomes=[], head=head, versions=versions)
        cached = self._versions
        add_record = plan.records.append
        add_previous = plan.previous.append
        add_outcome = plan.outcomes.append
        for append in appends:
            key = append.idempotency_key
            if key is not None or append.expected_version is not None:
                refused = self._refused(plan, append, seen)
                if refused is not None:
                    add_outcome(refused)
                    continue
            stream = append.stream
            current, tip = versions.get(stream) or cached[stream]
            first = head + 1
            for event in append.events:
                add_previous(tip)
                head += 1
                tip = head
                current += 1
                type_name, schema, ts, payload = event.type, event.schema, event.ts, event.payload
                # entry_checksum() inlined (same bytes; the call with keywords cost as much
                # as the CRC itself on the group-commit path).
                header = f"{head}\x1f{stream}\x1f{current}\x1f{type_name}\x1f{schema}\x1f{ts}\x1e"
                checksum = crc32(payload, crc32(header.encode()))
                add_record(Record(head, stream, current, type_name, schema, ts, payload, checksum))
            versions[stream] = (current, tip)
            if key is not None:
                known = KeyRecord(key, stream, first, head)
                seen[key] = known
                plan.keys.append(known)
            add_outcome(Committed(first, head, current))
        plan.head = head
        return plan

    def _refused(
        self, plan: Plan, append: Append, seen: dict[str, KeyRecord]
    ) -> Duplicate | Conflict | None:
        """Why ``append`` writes nothing (a repeated key, an unexpected version), if so."""
        key = append.idempotency_key
        if key is not None and key in seen:
            known = seen[key]
            return Duplicate(known.first_position, known.last_position)
        expected = append.expected_version
        if expected is not None:
            stream = append.stream
            current = (plan.versions.get(stream) or self._versions[stream])[0]
            if expected != current:
                return Conflict(stream, expected, current)
        return None

    def committed(self, plan: Plan) -> None:
        """The plan's transaction committed: remember the new head and versions."""
        self._head = plan.head
        self._versions.update(plan.versions)

    def forget(self) -> None:
        """The transaction failed or the store changed underneath: trust nothing cached."""
        self._head = -1
        self._versions.clear()
