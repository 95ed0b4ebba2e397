"""Opening stores from the command line: each failure is one line naming the option.

A PostgreSQL URL is first tried with one short direct connection, so that a missing
database, an unknown role or a server that is down is reported at once in the server's
own words; the store's connection pool would otherwise retry until its acquire timeout
and report only that it timed out.
"""

from __future__ import annotations

from spreadwire.errors import ConfigError, StoreError
from spreadwire.eventstore.projection import ReadModelStore
from spreadwire.eventstore.readmodels import standard_projections
from spreadwire.eventstore.recorder import Recorder
from spreadwire.persistence.store import (
    open_read_models,
    open_store,
    redact,
    require_database_name,
    sqlite_path,
)

CONNECT_TIMEOUT_S = 5


def one_line(text: str) -> str:
    """``text`` with every run of whitespace (newlines, tabs) as one space."""
    return " ".join(text.split())


def is_postgres(url: str) -> bool:
    return url.startswith(("postgresql://", "postgres://"))


def check_server(url: str, option: str) -> None:
    """For a PostgreSQL ``url``, check that it names its database (a :class:`ConfigError`
    naming ``option``), connect once (within ``CONNECT_TIMEOUT_S``) and raise a
    :class:`StoreError` naming ``option`` with the server's reason when that fails."""
    if not is_postgres(url):
        return
    # before connecting: without a database libpq picks the one named like the user,
    # where status and verify looked for read models and found "none" (exit 0)
    require_database_name(url, option)
    import psycopg

    try:
        psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT_S).close()
    except psycopg.Error as error:
        reason = one_line(redact(str(error)))
        raise StoreError(f"{option}: cannot connect to {redact(url)}: {reason}") from error


def _check_sqlite_file(url: str, option: str, *, must_exist: bool) -> None:
    path = sqlite_path(url)
    if path.is_dir():
        raise ConfigError(f"{option}: {path} is a directory, not a SQLite file")
    if must_exist and not path.exists():
        raise ConfigError(f"{option}: no event store at {path}")


def open_recorder(
    url: str, option: str = "--store", *, must_exist: bool = True, repair: bool = True
) -> Recorder:
    """Open the event store at ``url``; with ``must_exist`` a SQLite file is never created
    by accident, and ``memory://`` (a store that lives and dies with the process that made
    it) is refused: there is nothing in it to read."""
    if must_exist and url.startswith("memory://"):
        raise ConfigError(
            f"{option}: {url} is an in-process store that another process cannot read;"
            " name a sqlite:/// or postgresql:// store"
        )
    check_server(url, option)
    if url.startswith("sqlite:"):
        _check_sqlite_file(url, option, must_exist=must_exist)
    try:
        return open_store(url, repair=repair)
    except StoreError as error:
        raise StoreError(f"{option}: {one_line(str(error))}") from error
    except OSError as error:
        raise ConfigError(f"{option}: cannot open {url}: {error.strerror or error}") from error


def open_models(url: str, option: str) -> ReadModelStore:
    """Open (creating when needed) the read-model store at ``url``."""
    check_server(url, option)
    if url.startswith("sqlite:"):
        _check_sqlite_file(url, option, must_exist=False)
    try:
        return open_read_models(url)
    except StoreError as error:
        raise StoreError(f"{option}: {one_line(str(error))}") from error
    except OSError as error:
        raise ConfigError(f"{option}: cannot open {url}: {error.strerror or error}") from error


def _sqlite_read_models_exist(url: str, option: str) -> bool:
    """Whether the SQLite file of ``url`` holds read models, looked at without opening
    them: opening creates rm_tracking in any SQLite file named (the event store's too)."""
    from spreadwire.persistence.readmodels_sqlite import read_models_exist

    _check_sqlite_file(url, option, must_exist=False)
    path = sqlite_path(url)
    if not path.exists():
        return False
    try:
        return read_models_exist(path)
    except StoreError as error:
        raise StoreError(f"{option}: {one_line(str(error))}") from error


def existing_read_models(url: str, option: str) -> ReadModelStore | None:
    """The read models at ``url``, opened, or None if there are none (nothing is created
    where there were none)."""
    if url.startswith("memory://"):
        return None
    if url.startswith("sqlite:") and not _sqlite_read_models_exist(url, option):
        return None
    if is_postgres(url):
        from spreadwire.persistence.readmodels_postgres import read_models_exist

        # opening creates rm_tracking: a role allowed only to read could not, and verify
        # should not change a database that holds no read models
        check_server(url, option)
        try:
            if not read_models_exist(url):
                return None
        except StoreError as error:
            raise StoreError(f"{option}: {one_line(str(error))}") from error
    store = open_models(url, option)
    try:
        # documents without tracking positions are read models too (and not a rebuild)
        tables = [table for projection in standard_projections() for table in projection.tables]
        if store.tracking() or store.holds_any(tables):
            return store
    except BaseException:
        store.close()
        raise
    store.close()
    return None


def stored_head(url: str, option: str) -> int:
    """The highest global position stored at ``url``, 0 when there is no store yet.

    Nothing is repaired (a torn tail stays as it is) and a missing SQLite file is not
    created; a PostgreSQL database gets the store's tables, as any run would create them.
    """
    if url.startswith("memory://"):
        return 0
    if url.startswith("sqlite:"):
        _check_sqlite_file(url, option, must_exist=False)
        if not sqlite_path(url).exists():
            return 0
    recorder = open_recorder(url, option, repair=False)
    try:
        return recorder.last_position()
    finally:
        recorder.close()
