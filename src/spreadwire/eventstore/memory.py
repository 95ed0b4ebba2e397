"""The in-memory recorder: the twin of the durable backends for tests and backtests."""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterator, Mapping, Sequence
from typing import final

from spreadwire.errors import StoreError
from spreadwire.eventstore.codec import Codec
from spreadwire.eventstore.planner import BatchPlanner, StreamTip
from spreadwire.eventstore.recorder import decode_records
from spreadwire.eventstore.records import (
    Append,
    Durability,
    Entry,
    KeyRecord,
    Outcome,
    Record,
    RecoveryReport,
    Single,
)
from spreadwire.eventstore.signal import CommitSignal


@final
class MemoryRecorder:
    """Keeps records in a list; durability is moot (nothing survives the process)."""

    __slots__ = (
        "_closed",
        "_codec",
        "_keys",
        "_lock",
        "_planner",
        "_records",
        "_signal",
        "_streams",
    )

    def __init__(self, codec: Codec | None = None) -> None:
        self._codec = codec or Codec()
        self._records: list[Record] = []
        self._streams: dict[str, list[int]] = {}
        self._keys: dict[str, KeyRecord] = {}
        self._lock = threading.Lock()
        self._planner = BatchPlanner()
        self._signal = CommitSignal()
        self._closed = False

    @property
    def url(self) -> str:
        return "memory://"

    @property
    def codec(self) -> Codec:
        return self._codec

    @property
    def recovery(self) -> RecoveryReport:
        return RecoveryReport(head=len(self._records))

    def _versions(self, streams: Collection[str]) -> Mapping[str, StreamTip]:
        found = {s: self._streams[s] for s in streams if s in self._streams}
        return {s: (len(indexes), indexes[-1] + 1) for s, indexes in found.items()}

    def _find_keys(self, keys: Collection[str]) -> Mapping[str, KeyRecord]:
        return {k: self._keys[k] for k in keys if k in self._keys}

    def commit(
        self, appends: Sequence[Append | Single], *, durability: Durability = Durability.DURABLE
    ) -> list[Outcome]:
        with self._lock:
            if self._closed:
                raise StoreError("the recorder is closed")
            plan = self._planner.plan(len(self._records), appends, self._versions, self._find_keys)
            for row in plan.rows:
                position, stream, version, _, type_name, schema, ts, payload, checksum = row
                self._streams.setdefault(stream, []).append(position - 1)
                self._records.append(
                    Record(
                        position, stream, version, type_name, schema, ts, bytes(payload), checksum
                    )
                )
            for key in plan.keys:
                self._keys[key.key] = key
            self._planner.committed(plan)
            head = plan.head
        if plan.rows:
            self._signal.publish(head)
        return plan.outcomes

    def records(self, after: int = 0, limit: int | None = None) -> Iterator[Record]:
        start = max(after, 0)  # every position is above a negative one (not a slice from the end)
        with self._lock:
            end = len(self._records) if limit is None else start + limit
            chunk = self._records[start:end]
        return iter(chunk)

    def read(self, after: int = 0, limit: int | None = None) -> Iterator[Entry]:
        return decode_records(self._codec, self.records(after, limit))

    def read_stream(self, stream: str, after_version: int = 0) -> Iterator[Entry]:
        with self._lock:
            indexes = self._streams.get(stream, [])[max(after_version, 0) :]
            chunk = [self._records[i] for i in indexes]
        return decode_records(self._codec, chunk)

    def last_position(self) -> int:
        return len(self._records)

    def find_key(self, key: str) -> KeyRecord | None:
        with self._lock:
            return self._keys.get(key)

    def stream_version(self, stream: str) -> int:
        with self._lock:
            return len(self._streams.get(stream, ()))

    def wait_for(self, after: int, timeout_s: float | None) -> int:
        return self._signal.wait(after, timeout_s)

    def maintain(self) -> None:
        """Nothing to maintain in memory."""

    def close(self) -> None:
        with self._lock:
            self._closed = True
        self._signal.wake()
