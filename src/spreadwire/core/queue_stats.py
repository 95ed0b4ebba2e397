"""A bounded queue's statistics (a record, kept out of the compiled queue module)."""

from __future__ import annotations

import msgspec


class QueueStats(msgspec.Struct, frozen=True, kw_only=True):
    capacity: int
    depth: int
    peak: int
    enqueued: int
    dequeued: int
    dropped: int
    conflated: int
