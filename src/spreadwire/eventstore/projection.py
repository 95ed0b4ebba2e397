"""Projections: read models built from the log, each event applied exactly once.

A :class:`Projection` turns entries into changes of documents (JSON objects keyed by a
string) in its tables, through a :class:`ReadModelView`. A :class:`ReadModelStore`
(SQLite or PostgreSQL, in ``spreadwire.persistence``) applies a batch of entries to
several projections and advances each projection's tracking position **in the same
transaction**, so after a crash a batch is either fully applied and tracked or not at
all: every event is applied exactly once.

:class:`ProjectionRunner` feeds the store from a :class:`Recorder`: ``catch_up`` reads
everything above the lowest tracking position, ``run`` follows the live tail, and
``rebuild`` builds them from position 0 aside (``staging``) and swaps them in (``promote``).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, final

from spreadwire.errors import ConfigError
from spreadwire.eventstore.recorder import Recorder
from spreadwire.eventstore.records import Entry

Doc = dict[str, Any]
_TABLE = re.compile(r"^[a-z][a-z0-9_]{0,40}$")
#: The tracking row that counts resets (its position is the count); no projection's name
#: can start with ``#``.
RESETS = "#resets"


def check_table_name(name: str) -> str:
    if not _TABLE.match(name):
        raise ConfigError(f"read model table {name!r}: use lower-case letters, digits and _")
    if name == "tracking":
        raise ConfigError("read model table 'tracking': the name of the tracking table")
    return name


class ReadModelView(Protocol):
    """Documents of the read-model tables inside the current transaction."""

    def get(self, table: str, key: str) -> Doc | None: ...

    def put(self, table: str, key: str, doc: Doc) -> None: ...

    def delete(self, table: str, key: str) -> None: ...


class Projection(Protocol):
    """Builds documents in ``tables`` from entries; must be deterministic."""

    @property
    def name(self) -> str: ...

    @property
    def tables(self) -> tuple[str, ...]: ...

    def apply(self, entry: Entry, view: ReadModelView) -> None: ...


class ReadModelStore(Protocol):
    """Where read models and their tracking positions live."""

    @property
    def url(self) -> str: ...

    def tracking(self) -> dict[str, int]:
        """Tracking position of every projection seen so far (name -> position)."""
        ...

    def apply(
        self,
        projections: Sequence[Projection],
        entries: Sequence[Entry],
        *,
        after: int | None = None,
    ) -> dict[str, int]:
        """Apply ``entries`` to every projection not yet past them; one transaction.
        ``after`` is the position the entries were read after: a projection tracked below
        it is left alone. Returns the tracking positions as committed."""
        ...

    def get(self, table: str, key: str) -> Doc | None: ...

    def rows(self, table: str) -> dict[str, Doc]:
        """Every document of ``table`` by key."""
        ...

    def reset(self, projections: Sequence[Projection]) -> None:
        """Empty the projections' tables and tracking positions, and count the reset."""
        ...

    def staging(self) -> ReadModelStore:
        """A store in the same database whose tables are kept apart from these (emptied
        of what an interrupted rebuild left): a rebuild is built there unseen, then
        :meth:`promote` swaps it in. Closing it leaves this store open."""
        ...

    def promote(self, projections: Sequence[Projection]) -> None:
        """In one transaction, replace the ``projections``' tables and tracking positions
        by the staging store's, and count a reset; the staging store is spent."""
        ...

    def holds_any(self, tables: Sequence[str]) -> bool:
        """Whether any of ``tables`` exists and holds a document (nothing is created)."""
        ...

    def marks(self) -> tuple[dict[str, int], int]:
        """:meth:`tracking` and how many times read models of this store were reset, in
        one read: a rebuild back to the same tracking position is still a change (query
        caches compare both)."""
        ...

    def close(self) -> None: ...


@final
class BatchView:
    """A write-back view for one transaction: reads go through ``load`` once per key,
    writes stay in memory until the backend flushes ``changes``."""

    __slots__ = ("_cache", "_load", "changes")

    def __init__(self, load: Callable[[str, str], Doc | None]) -> None:
        self._load = load
        self._cache: dict[tuple[str, str], Doc | None] = {}
        #: (table, key) -> document, or None for a deletion.
        self.changes: dict[tuple[str, str], Doc | None] = {}

    def get(self, table: str, key: str) -> Doc | None:
        slot = (table, key)
        if slot in self.changes:
            return self.changes[slot]
        if slot not in self._cache:
            self._cache[slot] = self._load(table, key)
        return self._cache[slot]

    def put(self, table: str, key: str, doc: Doc) -> None:
        self.changes[(table, key)] = doc

    def delete(self, table: str, key: str) -> None:
        self.changes[(table, key)] = None


def apply_batch(
    projections: Sequence[Projection],
    tracked: Mapping[str, int],
    entries: Sequence[Entry],
    view: ReadModelView,
    after: int | None = None,
) -> dict[str, int]:
    """Apply each entry to the projections that have not seen it; new tracking positions.

    Entries read after position ``after`` are not applied to a projection tracked below
    it: the entries in between would be skipped (a runner whose position went stale
    because the read models were reset meanwhile, as by a rebuild)."""
    positions = {p.name: tracked.get(p.name, 0) for p in projections}
    behind = set() if after is None else {n for n, at in positions.items() if at < after}
    for entry in entries:
        for projection in projections:
            if projection.name not in behind and entry.position > positions[projection.name]:
                projection.apply(entry, view)
                positions[projection.name] = entry.position
    return positions


@final
class ProjectionRunner:
    """Feeds a :class:`ReadModelStore` from a :class:`Recorder`."""

    __slots__ = ("_batch", "_projections", "_recorder", "_store")

    def __init__(
        self,
        recorder: Recorder,
        store: ReadModelStore,
        projections: Sequence[Projection],
        *,
        batch: int = 2_000,
    ) -> None:
        names = [p.name for p in projections]
        if len(set(names)) != len(names):
            raise ConfigError(f"projections: duplicate names in {names}")
        if any(name.startswith("#") for name in names):
            raise ConfigError(f"projections: a name cannot start with '#' (in {names})")
        self._recorder = recorder
        self._store = store
        self._projections = tuple(projections)
        self._batch = batch

    def position(self) -> int:
        """The lowest tracking position of the runner's projections."""
        tracking = self._store.tracking()
        return min((tracking.get(p.name, 0) for p in self._projections), default=0)

    def catch_up(
        self, until: int | None = None, *, progress: Callable[[int], None] | None = None
    ) -> int:
        """Apply everything above the lowest tracking position (up to ``until``);
        ``progress`` is called with the position reached after each batch."""
        position = self.position()
        while until is None or position < until:
            limit = self._batch if until is None else min(self._batch, until - position)
            entries = list(self._recorder.read(position, limit))
            if not entries:
                break
            tracked = self._store.apply(self._projections, entries, after=position)
            # where the store is, not the batch's end: a runner whose position went stale
            # (the read models were reset meanwhile) goes back to where they are
            position = min(
                (tracked.get(p.name, 0) for p in self._projections), default=entries[-1].position
            )
            if progress is not None:
                progress(position)
        return position

    def rebuild(
        self, until: int | None = None, *, progress: Callable[[int], None] | None = None
    ) -> int:
        """Rebuild the read models from the start of the log, aside (the store's
        :meth:`~ReadModelStore.staging`), and swap them in when complete: readers see
        the old read models until then, never part-built ones, and a rebuild that fails
        or is interrupted leaves them as they were. Returns the rebuilt position."""
        staging = self._store.staging()
        try:
            aside = ProjectionRunner(self._recorder, staging, self._projections, batch=self._batch)
            position = aside.catch_up(until, progress=progress)
            self._store.promote(self._projections)
        finally:
            staging.close()
        return position

    def run(self, stop: threading.Event, *, idle_timeout_s: float = 0.2) -> int:
        """Follow the log until ``stop`` is set; return the last applied position."""
        position = self.catch_up()
        while not stop.is_set():
            self._recorder.wait_for(position, idle_timeout_s)
            position = self.catch_up()
        return position
