"""The recorder that keeps nothing: for a node whose events nobody may read.

Its one user is the shadow node of a warming real-time driver (``spreadwire.warmup``),
which runs the real code on a simulated market of its own and must not grow without
bound. Commits are planned as by the other backends (positions, stream versions,
idempotency keys within the planner's bounded cache) and acknowledged; nothing is kept,
so every read is empty. It is deliberately not reachable by a store URL: a store that
loses every event must never be chosen by a typo.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterator, Mapping, Sequence
from typing import final

from spreadwire.errors import StoreError
from spreadwire.eventstore.codec import Codec
from spreadwire.eventstore.planner import BatchPlanner, StreamTip
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

#: Stream versions and idempotency keys the planner keeps between commits.
_CACHED_STREAMS = 10_000


@final
class NullRecorder:
    """Acknowledges every commit and keeps nothing but the head position."""

    __slots__ = ("_closed", "_codec", "_head", "_lock", "_planner", "_signal")

    def __init__(self, codec: Codec | None = None) -> None:
        self._codec = codec or Codec()
        self._head = 0
        self._lock = threading.Lock()
        self._planner = BatchPlanner(max_cached_streams=_CACHED_STREAMS)
        self._signal = CommitSignal()
        self._closed = False

    @property
    def url(self) -> str:
        return "null://"

    @property
    def codec(self) -> Codec:
        return self._codec

    @property
    def recovery(self) -> RecoveryReport:
        return RecoveryReport(head=self._head)

    @staticmethod
    def _versions(streams: Collection[str]) -> Mapping[str, StreamTip]:
        return {}  # nothing kept: a stream the planner no longer caches starts again

    @staticmethod
    def _find_keys(keys: Collection[str]) -> Mapping[str, KeyRecord]:
        return {}

    def commit(
        self, appends: Sequence[Append | Single], *, durability: Durability = Durability.DURABLE
    ) -> list[Outcome]:
        with self._lock:
            if self._closed:
                raise StoreError("the recorder is closed")
            plan = self._planner.plan(self._head, appends, self._versions, self._find_keys)
            self._planner.committed(plan)
            self._head = plan.head
        if plan.rows:
            self._signal.publish(plan.head)
        return plan.outcomes

    def records(self, after: int = 0, limit: int | None = None) -> Iterator[Record]:
        return iter(())

    def read(self, after: int = 0, limit: int | None = None) -> Iterator[Entry]:
        return iter(())

    def read_stream(self, stream: str, after_version: int = 0) -> Iterator[Entry]:
        return iter(())

    def last_position(self) -> int:
        return self._head

    def stream_version(self, stream: str) -> int:
        return 0

    def find_key(self, key: str) -> KeyRecord | None:
        return None  # keys are not kept

    def wait_for(self, after: int, timeout_s: float | None) -> int:
        return self._signal.wait(after, timeout_s)

    def maintain(self) -> None:
        """Nothing to maintain."""

    def close(self) -> None:
        with self._lock:
            self._closed = True
        self._signal.wake()
