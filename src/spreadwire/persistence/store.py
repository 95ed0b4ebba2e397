"""``open_store(url)``: the one place that turns a store URL into a :class:`Recorder`.

* ``memory://`` - in-memory (tests, backtests)
* ``sqlite:///relative/path/events.db`` or ``sqlite:////absolute/path/events.db``
  (SQLAlchemy style: what follows ``sqlite:///`` is the path)
* ``postgresql://user@host:port/dbname`` (also ``postgres://``)
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from spreadwire.errors import ConfigError
from spreadwire.eventstore.codec import Codec
from spreadwire.eventstore.memory import MemoryRecorder
from spreadwire.eventstore.projection import ReadModelStore
from spreadwire.eventstore.recorder import Recorder

SCHEMES = ("memory://", "sqlite:///", "postgresql://", "postgres://")
#: ``scheme://user:password@`` in a URL, also inside a longer text (an error message).
#: The password runs to the ``@`` that the host follows: the last one before the next
#: ``/``, ``?``, ``#``, quote, whitespace or the end. So a password holding an unencoded
#: ``@`` or ``/`` is removed whole, and the host is kept (such URLs are refused by
#: :func:`require_database_name` anyway).
_PASSWORD = re.compile(r"://([^:/@\s]+):\S*?@(?=[^@/?#\s\"']*(?:[/?#\s\"']|$))")


#: A password given as a query parameter (``?password=...``, libpq takes it too).
_QUERY_PASSWORD = re.compile(r"([?&]password=)[^&#\s\"']*")


def redact(text: str) -> str:
    """``text`` without the password of any URL in it (``user:password@`` or
    ``?password=``)."""
    return _QUERY_PASSWORD.sub(r"\1", _PASSWORD.sub(r"://\1@", text))


def sqlite_path(url: str) -> Path:
    """The file path named by a ``sqlite:///`` URL."""
    path = url.removeprefix("sqlite:///")
    if not path or path == url:
        raise ConfigError(f"store: a SQLite URL reads sqlite:///path/to/events.db, got {url!r}")
    return Path(path)


def require_database_name(url: str, field: str) -> None:
    """A PostgreSQL URL must name its database: without one, libpq connects to the
    database named like the user, and the store's tables would be created there."""
    parts = urlsplit(url)
    if parts.netloc.count("@") > 1 or "@" in parts.path:
        raise ConfigError(
            f"{field}: the user or password in the PostgreSQL URL holds an unencoded '@' or"
            " '/'; write them as %40 and %2F"
        )
    query = parse_qs(parts.query, keep_blank_values=True)
    if parts.path.strip("/") or any(name.strip() for name in query.get("dbname", ())):
        return
    raise ConfigError(
        f"{field}: a PostgreSQL URL names its database,"
        f" postgresql://user@host:port/dbname; got {redact(url)!r}"
    )


def open_store(url: str, *, codec: Codec | None = None, repair: bool = True) -> Recorder:
    """Open (creating when needed) the event store named by ``url``.

    Opening checks the newest entries; a torn tail is truncated, or with ``repair=False``
    only reported in ``recorder.recovery`` (what ``events verify`` uses).
    """
    if url == "memory://" or url.startswith("memory://"):
        return MemoryRecorder(codec)
    if url.startswith("sqlite:"):
        from spreadwire.persistence.sqlite import SQLiteRecorder

        path = sqlite_path(url)
        path.parent.mkdir(parents=True, exist_ok=True)
        return SQLiteRecorder(path, codec, repair=repair)
    if url.startswith(("postgresql://", "postgres://")):
        from spreadwire.persistence.postgres import PostgresRecorder

        require_database_name(url, "store")
        return PostgresRecorder(url, codec, repair=repair)
    raise ConfigError(f"store: unknown store URL {url!r}; use one of {', '.join(SCHEMES)}")


def open_read_models(url: str, *, timeout_s: float = 5.0) -> ReadModelStore:
    """Open the read-model store named by ``url`` (``memory://`` is an in-memory SQLite).
    ``timeout_s``: how long a SQLite call waits for another connection's write lock."""
    if url.startswith("memory://"):
        from spreadwire.persistence.readmodels_sqlite import SQLiteReadModelStore

        return SQLiteReadModelStore(":memory:", timeout_s=timeout_s)
    if url.startswith("sqlite:"):
        from spreadwire.persistence.readmodels_sqlite import SQLiteReadModelStore

        path = sqlite_path(url)
        path.parent.mkdir(parents=True, exist_ok=True)
        return SQLiteReadModelStore(path, timeout_s=timeout_s)
    if url.startswith(("postgresql://", "postgres://")):
        from spreadwire.persistence.readmodels_postgres import PostgresReadModelStore

        require_database_name(url, "read models")
        return PostgresReadModelStore(url)
    raise ConfigError(f"read models: unknown URL {url!r}; use one of {', '.join(SCHEMES)}")


def default_read_models_url(store_url: str) -> str:
    """Where read models live when not named: beside a SQLite log (``<name>.readmodels.db``),
    in the same PostgreSQL database, or in memory."""
    if store_url.startswith("sqlite:"):
        path = sqlite_path(store_url)
        return f"sqlite:///{path.with_name(path.stem + '.readmodels.db')}"
    return store_url
