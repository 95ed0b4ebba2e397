"""``open_store(url)``: the one place that turns a store URL into a :class:`Recorder`.

* ``memory://`` - in-memory (tests, backtests)
* ``sqlite:///relative/path/events.db`` or ``sqlite:////absolute/path/events.db``
  (SQLAlchemy style: what follows ``sqlite:///`` is the path)
* ``postgresql://user@host:port/dbname`` (also ``postgres://``)
"""

from __future__ import annotations

from pathlib import Path

from spreadwire.errors import ConfigError
from spreadwire.eventstore.codec import Codec
from spreadwire.eventstore.memory import MemoryRecorder
from spreadwire.eventstore.recorder import Recorder

SCHEMES = ("memory://", "sqlite:///", "postgresql://", "postgres://")


def sqlite_path(url: str) -> Path:
    """The file path named by a ``sqlite:///`` URL."""
    path = url.removeprefix("sqlite:///")
    if not path or path == url:
        raise ConfigError(f"store: a SQLite URL reads sqlite:///path/to/events.db, got {url!r}")
    return Path(path)


def open_store(url: str, *, codec: Codec | None = None) -> Recorder:
    """Open (creating when needed) the event store named by ``url``."""
    if url == "memory://" or url.startswith("memory://"):
        return MemoryRecorder(codec)
    if url.startswith("sqlite:"):
        from spreadwire.persistence.sqlite import SQLiteRecorder

        path = sqlite_path(url)
        path.parent.mkdir(parents=True, exist_ok=True)
        return SQLiteRecorder(path, codec)
    if url.startswith(("postgresql://", "postgres://")):
        from spreadwire.persistence.postgres import PostgresRecorder

        return PostgresRecorder(url, codec)
    raise ConfigError(f"store: unknown store URL {url!r}; use one of {', '.join(SCHEMES)}")
