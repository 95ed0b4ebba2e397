"""Query handlers over the read models, with a read-through cache.

Each cached result remembers the tracking position of the projection it was read from;
a query first reads the current tracking positions (one small lookup) and serves the
cached result only while that projection has not moved. A new event therefore
invalidates exactly the results that could have changed.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar, final

import msgspec

from spreadwire.eventstore.projection import Doc, ReadModelStore

T = TypeVar("T")


class CacheStats(msgspec.Struct, frozen=True, kw_only=True):
    entries: int
    hits: int
    misses: int
    invalidations: int


@final
class QueryCache:
    """A bounded LRU of results tagged with the position they are valid at."""

    __slots__ = ("_entries", "_hits", "_invalidations", "_max", "_misses")

    def __init__(self, max_entries: int = 1_024) -> None:
        self._entries: OrderedDict[Hashable, tuple[Hashable, Any]] = OrderedDict()
        self._max = max_entries
        self._hits = 0
        self._misses = 0
        self._invalidations = 0

    def get(self, key: Hashable, position: Hashable, load: Callable[[], T]) -> T:
        cached = self._entries.get(key)
        if cached is not None:
            if cached[0] == position:
                self._hits += 1
                self._entries.move_to_end(key)
                value: T = cached[1]
                return value
            self._invalidations += 1
        self._misses += 1
        value = load()
        self._entries[key] = (position, value)
        self._entries.move_to_end(key)
        if len(self._entries) > self._max:
            self._entries.popitem(last=False)
        return value

    def stats(self) -> CacheStats:
        return CacheStats(
            entries=len(self._entries),
            hits=self._hits,
            misses=self._misses,
            invalidations=self._invalidations,
        )


def _opened_at(doc: Doc) -> int:
    opened: int = doc.get("opened_position") or doc.get("last_position") or 0
    return opened


@final
class ReadModelQueries:
    """Answers about orders, fills, positions, PnL, risk state and the audit log.

    Results are shared with the cache: treat returned documents as read-only.
    """

    __slots__ = ("_cache", "_store")

    def __init__(self, store: ReadModelStore, *, cache_size: int = 1_024) -> None:
        self._store = store
        self._cache = QueryCache(cache_size)

    def _query(self, projection: str, key: Hashable, load: Callable[[], T]) -> T:
        # a rebuild ends at the same position with other documents: the reset count too
        tracking, resets = self._store.marks()
        position = (tracking.get(projection, 0), resets)
        return self._cache.get((projection, key), position, load)

    def tracking(self) -> dict[str, int]:
        return self._store.tracking()

    def order(self, client_order_id: str) -> Doc | None:
        return self._query(
            "orders", ("order", client_order_id), lambda: self._store.get("orders", client_order_id)
        )

    def orders(self, status: str | None = None) -> list[Doc]:
        """Orders in the order they were opened (their ``OrderInitialized`` position)."""

        def load() -> list[Doc]:
            docs = self._store.rows("orders").values()
            found = [d for d in docs if status is None or d.get("status") == status]
            return sorted(found, key=_opened_at)

        return self._query("orders", ("orders", status), load)

    def fills(self, client_order_id: str | None = None) -> list[Doc]:
        def load() -> list[Doc]:
            docs = self._store.rows("fills").values()
            return [
                d
                for d in docs
                if client_order_id is None or d.get("client_order_id") == client_order_id
            ]

        return self._query("fills", ("fills", client_order_id), load)

    def positions(self) -> list[Doc]:
        return self._query(
            "positions", ("positions",), lambda: list(self._store.rows("positions").values())
        )

    def position(self, strategy_id: str, instrument_id: str) -> Doc | None:
        key = f"{strategy_id}:{instrument_id}"
        return self._query(
            "positions", ("position", key), lambda: self._store.get("positions", key)
        )

    def pnl(self) -> dict[str, Doc]:
        """Realized PnL by strategy; key ``*`` is the total."""
        return self._query("positions", ("pnl",), lambda: self._store.rows("pnl"))

    def risk_state(self) -> dict[str, Doc]:
        return self._query("risk", ("risk",), lambda: self._store.rows("risk"))

    def audit(self, after: int = 0, limit: int = 100) -> list[Doc]:
        def load() -> list[Doc]:
            docs = [d for d in self._store.rows("audit").values() if d["position"] > after]
            return docs[:limit]

        return self._query("audit", ("audit", after, limit), load)

    def cache_stats(self) -> CacheStats:
        return self._cache.stats()
