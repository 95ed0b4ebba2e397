"""The PostgreSQL recorder: psycopg 3 with a ``psycopg_pool`` connection pool.

Every connection runs with a statement timeout, a lock timeout and an idle-in-transaction
timeout, and prepares statements on first use. A commit is one transaction: lock the
head row, plan the batch, insert all rows with one pipelined ``executemany``, move the
head, commit (``synchronous_commit=off`` only for the named relaxed mode).
"""

from __future__ import annotations

import logging
import re
import select
import threading
from collections.abc import Collection, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Annotated, Any, final

import msgspec
import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import ConnectionPool, PoolTimeout

from spreadwire.errors import ConcurrencyError, ConfigError, StoreError, ValidationError
from spreadwire.eventstore.codec import Codec
from spreadwire.eventstore.planner import (
    CHECKSUM,
    PAYLOAD,
    POSITION,
    SCHEMA,
    STREAM,
    TS,
    TYPE,
    VERSION,
    BatchPlanner,
    Plan,
    StreamTip,
)
from spreadwire.eventstore.recorder import paged_rows
from spreadwire.eventstore.records import (
    Append,
    Conflict,
    Durability,
    Entry,
    KeyRecord,
    Outcome,
    Record,
    RecoveryReport,
    Single,
    searchable,
)
from spreadwire.eventstore.signal import CommitSignal
from spreadwire.eventstore.streams import category_of
from spreadwire.eventstore.tail import check_tail, truncated, verdict
from spreadwire.persistence import postgres_schema as sql
from spreadwire.persistence.pgarrays import bytea_array, int_array, text_array
from spreadwire.persistence.store import redact

_log = logging.getLogger("spreadwire.persistence.postgres")

_PAGE = 5_000
#: A server session: (pid, start time), as ``pg_stat_activity`` shows it.
Session = tuple[int, datetime]
_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{0,30}$")
#: The password of a URL as written in it: ``user:password@`` or a ``password=`` parameter.
_PASSWORDS = re.compile(r"(?<=://)[^:/@]*:([^/?#]+)@|[?&]password=([^&#]+)")


class PostgresConfig(msgspec.Struct, frozen=True, kw_only=True):
    pool_min: Annotated[int, msgspec.Meta(ge=1)] = 1
    #: At least 2: commits keep one connection between them, reads need another.
    pool_max: Annotated[int, msgspec.Meta(ge=2)] = 8
    connect_timeout_s: Annotated[int, msgspec.Meta(gt=0)] = 10
    acquire_timeout_s: Annotated[float, msgspec.Meta(gt=0)] = 10.0
    statement_timeout_ms: Annotated[int, msgspec.Meta(gt=0)] = 5_000
    lock_timeout_ms: Annotated[int, msgspec.Meta(gt=0)] = 5_000
    idle_in_transaction_timeout_ms: Annotated[int, msgspec.Meta(gt=0)] = 10_000
    high_volume_categories: tuple[str, ...] = ("order",)
    hash_partitions: Annotated[int, msgspec.Meta(ge=1, le=64)] = 8
    tail_check: Annotated[int, msgspec.Meta(ge=0)] = 1_000


def session_kwargs(url: str, options: str, connect_timeout_s: int) -> dict[str, Any]:
    """Connection keywords adding ours to what ``url`` already says: the URL's own
    ``options`` (a ``search_path``, say) are kept, ours follow them; its own
    ``connect_timeout`` wins over ``connect_timeout_s``."""
    try:
        given = conninfo_to_dict(url)
    except psycopg.Error as error:
        # libpq quotes the token it cannot read, which may be the password itself
        # ('invalid percent-encoded token: "se%zzcret"'): no URL around it to redact
        reason = _one_line(error)
        for found in _PASSWORDS.finditer(url):
            reason = reason.replace(found.group(1) or found.group(2), "(password)")
        raise StoreError(f"cannot read the URL {redact(url)}: {reason}") from error
    theirs = given.get("options")
    kwargs: dict[str, Any] = {"options": f"{theirs} {options}" if theirs else options}
    if "connect_timeout" not in given:
        kwargs["connect_timeout"] = connect_timeout_s
    return kwargs


def _one_line(error: BaseException) -> str:
    """The error's text on one line, with any password removed."""
    return " ".join(redact(str(error)).split())


def _refused(error: BaseException) -> bool:
    """Whether the server answered ``error``, so its transaction surely rolled back (a
    connection failure, SQLSTATE class 08 or 57P, or no SQLSTATE at all, leaves the
    outcome unknown)."""
    state = getattr(error, "sqlstate", None)
    return bool(state) and not str(state).startswith(("08", "57P"))


def _ended_while_idle(connection: psycopg.Connection[Any]) -> bool:
    """Whether the server has sent anything to ``connection`` while it was idle (no round
    trip: one ``poll`` of its socket). The store runs no command in the
    background and listens to nothing, so what arrives is the server ending the session:
    its error (an idle-session timeout, ``pg_terminate_backend``, a restart) and the
    close. The kept commit connection is checked so before each commit: a write sent on
    it would fail with an unknown outcome, and the writer's retry halts a node (with the
    database's ``idle_session_timeout`` set, after every quiet spell)."""
    try:
        poller = select.poll()
        poller.register(connection.pgconn.socket, select.POLLIN)
        return bool(poller.poll(0))
    except (OSError, ValueError, psycopg.Error):
        return True


def _configure(connection: psycopg.Connection[Any]) -> None:
    connection.autocommit = True


def _assume_new(streams: Collection[str]) -> Mapping[str, StreamTip]:
    """Version loader of the one-round-trip path: streams not cached are new."""
    return {}


@final
class PostgresRecorder:
    """An event log in PostgreSQL tables (see :mod:`postgres_schema`)."""

    __slots__ = (
        "_closed",
        "_codec",
        "_commit_cursor",
        "_committer",
        "_config",
        "_in_flight",
        "_lock",
        "_planner",
        "_pool",
        "_recovery",
        "_session",
        "_signal",
        "_unsettled",
        "_url",
    )

    def __init__(
        self,
        url: str,
        codec: Codec | None = None,
        config: PostgresConfig | None = None,
        *,
        repair: bool = True,
    ) -> None:
        self._config = config or PostgresConfig()
        if self._config.pool_max < 2:
            raise ConfigError(
                f"pool_max: {self._config.pool_max} is too few; commits keep one connection"
                " between them and reads need another (at least 2)"
            )
        categories = self._config.high_volume_categories
        # table names: events_other (the default partition), events_<category> and its
        # hash partitions events_<category>_<i>; none may be another's name
        taken = {"other"} | {
            f"{c}_{i}" for c in categories for i in range(self._config.hash_partitions)
        }
        for category in categories:
            if not _IDENTIFIER.match(category):
                raise ConfigError(f"high_volume_categories: {category!r} is not an identifier")
            if category in taken:
                raise ConfigError(
                    f"high_volume_categories: {category!r} would share a table name with"
                    " the default partition or another category's hash partitions"
                )
        self._url = url
        self._codec = codec or Codec()
        self._lock = threading.Lock()
        self._planner = BatchPlanner()
        self._closed = False
        self._committer: Any = None
        #: A cursor of the commit connection, reused (making one per commit costs ~12 µs).
        self._commit_cursor: Any = None
        #: The server session of the commit connection.
        self._session: Session | None = None
        #: The plan whose write statement was sent in the commit now running.
        self._in_flight: Plan | None = None
        #: A commit whose outcome is unknown (the connection failed after the write was
        #: sent) and could not be checked yet: (the appends, their plan, the server
        #: session it was sent to).
        self._unsettled: tuple[Sequence[Append | Single], Plan, Session | None] | None = None
        self._pool = self._open_pool(url)
        try:
            self._create_schema()
            self._recovery = self._recover(self._config.tail_check, repair=repair)
        except psycopg.Error as error:
            self._pool.close()
            raise StoreError(f"cannot open the store {redact(url)}: {_one_line(error)}") from error
        except BaseException:
            self._pool.close()
            raise
        self._signal = CommitSignal(self._recovery.head)

    def _open_pool(self, url: str) -> ConnectionPool[psycopg.Connection[Any]]:
        config = self._config
        # READ COMMITTED whatever the database's default: a commit waiting for another
        # writer's head row must then see its new head (the head-checking append moves
        # nothing, the locked path reads the new head); under REPEATABLE READ or
        # SERIALIZABLE (``ALTER DATABASE ... SET default_transaction_isolation``) both
        # failed with "could not serialize access", and writers in several processes
        # used up their retries and stopped.
        options = (
            r"-c default_transaction_isolation=read\ committed"
            f" -c statement_timeout={config.statement_timeout_ms}"
            f" -c lock_timeout={config.lock_timeout_ms}"
            f" -c idle_in_transaction_session_timeout={config.idle_in_transaction_timeout_ms}"
        )
        conninfo = url.replace("postgres://", "postgresql://", 1)
        kwargs = session_kwargs(conninfo, options, config.connect_timeout_s)
        # One direct connection first: a refused role, a missing database or a server
        # that is down is reported at once in the server's words (the pool would retry
        # until its timeout and report only that).
        try:
            psycopg.connect(conninfo, **kwargs).close()
        except psycopg.Error as error:
            raise StoreError(f"cannot connect to {redact(url)}: {_one_line(error)}") from error
        pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
            conninfo,
            min_size=config.pool_min,
            max_size=max(config.pool_max, config.pool_min),
            kwargs={**kwargs, "prepare_threshold": 0},
            configure=_configure,
            open=False,
            name="event-store",
        )
        try:
            pool.open(wait=True, timeout=config.acquire_timeout_s)
        except Exception as error:
            pool.close()
            raise StoreError(f"cannot connect to {redact(url)}: {error}") from error
        return pool

    def _connection(self) -> Any:
        if self._closed:
            raise StoreError("the recorder is closed")
        return self._pool.connection(timeout=self._config.acquire_timeout_s)

    def _exhausted(self) -> str:
        """Why the pool handed out no connection, naming the pool, its limit and its use
        (psycopg_pool says only "couldn't get a connection after 10.00 sec")."""
        stats = self._pool.get_stats()
        return (
            f"no connection from the pool {self._pool.name!r} of {self.url} within"
            f" {self._config.acquire_timeout_s:g} s (acquire_timeout_s):"
            f" {stats.get('pool_size', 0)} of pool_max {self._pool.max_size} open,"
            f" {stats.get('pool_available', 0)} free, {stats.get('requests_waiting', 0)}"
            " requests waiting"
        )

    def _live_connection(self) -> Any:
        """A pool connection known to be alive (one round trip to ask). Pooled connections
        the server closed (a restart, a failover, an administrator) are handed back, and
        the pool drops them; used where a dead connection would cost more than the check:
        the commit connection, and the look after a lost answer. Reads instead retry on a
        broken connection (:meth:`_fetch`), so that they cost no extra round trip."""
        if self._closed:
            raise StoreError("the recorder is closed")
        for _ in range(self._config.pool_max):
            connection = self._pool.getconn(timeout=self._config.acquire_timeout_s)
            try:
                ConnectionPool.check_connection(connection)
            except psycopg.Error:
                self._pool.putconn(connection)
                continue
            return connection
        return self._pool.getconn(timeout=self._config.acquire_timeout_s)

    def _create_schema(self) -> None:
        """Create the store's tables, unless they exist: then nothing is changed (a role
        allowed only to read can open the store), and the partition layout stays the one
        chosen when the store was created (a different configuration is logged)."""
        config = self._config
        with self._connection() as connection:
            if all(connection.execute(sql.EXISTING).fetchone()):
                self._check_layout(connection)
                return
            with connection.transaction():
                connection.execute(sql.SCHEMA_LOCK)
                for statement in sql.schema(config.high_volume_categories, config.hash_partitions):
                    connection.execute(statement)

    def _check_layout(self, connection: Any) -> None:
        stored = dict(connection.execute(sql.PARTITIONS).fetchall())
        config = self._config
        for category in config.high_volume_categories:
            ways = stored.get(category)
            if ways is None:
                _log.warning(
                    "high_volume_categories: the store at %s has no partition of its own for"
                    " %r (its events go to the default partition); partitions are chosen"
                    " when a store is created",
                    self.url,
                    category,
                )
            elif ways != config.hash_partitions:
                _log.warning(
                    "hash_partitions: the store at %s splits %r %d ways, not %d; partitions"
                    " are chosen when a store is created",
                    self.url,
                    category,
                    ways,
                    config.hash_partitions,
                )

    @property
    def url(self) -> str:
        return redact(self._url)

    @property
    def codec(self) -> Codec:
        return self._codec

    @property
    def recovery(self) -> RecoveryReport:
        return self._recovery

    def pool_stats(self) -> dict[str, int]:
        """psycopg_pool statistics (connections, waiting requests, errors, timings)."""
        return dict(self._pool.get_stats())

    def _recover(self, tail_check: int, *, repair: bool) -> RecoveryReport:
        """Check the newest ``tail_check`` entries up to the head. Only entries up to the
        head read first are looked at: other processes may be committing meanwhile, and
        what they add after it is neither missing nor torn. A problem found is looked at
        again holding the head lock (no commit can land then) before anything is cut."""
        head = self.last_position()
        start = max(0, head - tail_check)
        tail = list(self.records(start, head - start))
        if check_tail(tail, start, head) is None:
            return RecoveryReport(checked=len(tail), head=head)
        with self._connection() as connection, connection.transaction():
            # the head row is locked only to cut: a report needs no lock, and a role
            # allowed only to read (events verify) may not take one
            head = connection.execute(sql.LOCK_HEAD if repair else sql.SELECT_HEAD).fetchone()[0]
            start = max(0, head - tail_check)
            rows = connection.execute(sql.SELECT_AFTER, (start, head - start)).fetchall()
            tail = [Record(*row) for row in rows]
            cut = verdict(check_tail(tail, start, head), len(tail), head, self.url, repair=repair)
            if isinstance(cut, RecoveryReport):
                return cut
            deleted = connection.execute("DELETE FROM events WHERE position >= %s", (cut,))
            connection.execute("DELETE FROM idempotency WHERE last_position >= %s", (cut,))
            connection.execute(sql.SET_HEAD, (cut - 1,))
        return truncated(len(tail), cut, deleted.rowcount, self.url)

    # -------------------------------------------------------------------- writes

    def commit(
        self, appends: Sequence[Append | Single], *, durability: Durability = Durability.DURABLE
    ) -> list[Outcome]:
        with self._lock:
            if self._unsettled is not None:
                landed = self._settle(appends)
                if landed is not None:
                    return landed
            try:
                connection = self._commit_connection()
                plan = self._fast_commit(connection, appends, durability)
                if plan is None:
                    plan = self._locked_commit(connection, appends, durability)
            except ValidationError:
                # A name the store does not take, refused by the planner before any write
                # was sent (a locked transaction rolled back on the way out): the
                # connection and what the planner caches are as sound as before.
                self._in_flight = None
                raise
            except psycopg.errors.UniqueViolation as error:
                self._in_flight = None
                self._planner.forget()
                self._release_commit_connection()
                raise ConcurrencyError(f"concurrent append: {error}") from error
            except Exception as error:  # psycopg errors, pool timeouts, OS errors
                self._planner.forget()
                session = self._session
                self._release_commit_connection()
                sent, self._in_flight = self._in_flight, None
                if sent is not None and not _refused(error):
                    # The write was sent and no answer came back: it may have committed.
                    self._unsettled = (appends, sent, session)
                    landed = self._settle(appends)
                    if landed is not None:
                        return landed
                reason = self._exhausted() if isinstance(error, PoolTimeout) else error
                raise StoreError(f"PostgreSQL commit failed: {reason}") from error
            self._in_flight = None
            self._planner.committed(plan)
        if plan.rows:
            self._signal.publish(plan.head)
        return plan.outcomes

    def _settle(self, appends: Sequence[Append | Single]) -> list[Outcome] | None:
        """Find out whether the commit whose answer was lost landed (called under the
        commit lock). Its outcomes when it did and ``appends`` is that same batch (the
        writer's retry passes the same list); None when it did not, so planning afresh is
        safe. When the server cannot be asked, the commit stays unsettled and this raises:
        every later commit asks again first, so a batch is never written twice."""
        assert self._unsettled is not None
        batch, plan, session = self._unsettled
        try:
            landed = self._landed(plan, session)
        except Exception as error:
            raise StoreError(
                "PostgreSQL commit failed, and whether it landed is checked before the next"
                f" commit: {_one_line(error)}"
            ) from error
        self._unsettled = None
        if not landed:
            return None
        self._signal.publish(plan.head)
        if batch is appends:
            return plan.outcomes
        _log.error(
            "a commit reported as failed had landed: positions %d-%d are stored",
            plan.rows[0][POSITION],
            plan.head,
        )
        return None

    def _landed(self, plan: Plan, session: Session | None) -> bool:
        """Whether ``plan``'s rows are in the log. The server session the write was sent
        to is ended first if it is still there: a write still on its way to it (or
        queued in it) would otherwise run after this look and land unseen. Then the head
        row is locked, so a transaction the server is still finishing (it committed
        after the connection broke, or it is rolling back) is waited for rather than
        missed."""
        first, last = plan.rows[0], plan.rows[-1]
        connection = self._live_connection()
        try:
            if session is not None:
                wait_ms = self._config.lock_timeout_ms
                ended = connection.execute(sql.END_SESSION, (wait_ms, *session)).fetchone()
                if ended is not None and not ended[0]:
                    raise StoreError(
                        f"the server session {session[0]} of the broken connection did not"
                        f" end within {wait_ms} ms"
                    )
            with connection.transaction():
                head = connection.execute(sql.LOCK_HEAD).fetchone()[0]
                if head < last[POSITION]:
                    return False
                wanted = [first[POSITION], last[POSITION]]
                found = dict(connection.execute(sql.SELECT_CHECKSUMS, (wanted,)).fetchall())
        finally:
            self._pool.putconn(connection)
        return found == {first[POSITION]: first[CHECKSUM], last[POSITION]: last[CHECKSUM]}

    def _commit_connection(self) -> Any:
        """The pool connection commits run on, kept between commits (called under the
        commit lock): checking one out and back in per commit cost more than planning."""
        if self._closed:
            raise StoreError("the recorder is closed")
        if self._committer is not None and _ended_while_idle(self._committer):
            self._committer.close()  # the pool discards a closed connection
            self._release_commit_connection()
        if self._committer is None:
            connection = self._live_connection()
            self._committer = connection
            self._commit_cursor = connection.cursor()
            pid, started, synchronous = connection.execute(sql.SESSION).fetchone()
            self._session = (pid, started)
            if synchronous == "off":
                # Set so for the database, the role or the server: a durable commit would
                # be acknowledged before its WAL is flushed, and lost in a server crash.
                # Only ``off`` is overruled (``local``, ``remote_write``, ``remote_apply``
                # all flush the WAL here first).
                connection.execute("SET synchronous_commit = on")
        return self._committer

    def _release_commit_connection(self) -> None:
        """Back to the pool (which discards it if it is broken); the next commit takes one."""
        connection, self._committer = self._committer, None
        self._commit_cursor = None
        self._session = None
        if connection is not None:
            self._pool.putconn(connection)

    @staticmethod
    def _versions(connection: Any, streams: Collection[str]) -> Mapping[str, StreamTip]:
        names = list(streams)
        categories = [category_of(s) for s in names]
        rows = connection.execute(sql.SELECT_VERSIONS, (categories, names)).fetchall()
        return {stream: (version, tip) for stream, version, tip in rows}

    @staticmethod
    def _keys(connection: Any, wanted: Collection[str]) -> Mapping[str, KeyRecord]:
        rows = connection.execute(sql.SELECT_KEYS, (list(wanted),)).fetchall()
        return {row[0]: KeyRecord(*row) for row in rows}

    def _plan(self, connection: Any, head: int, appends: Sequence[Append | Single]) -> Plan:
        return self._planner.plan(
            head,
            appends,
            lambda streams: self._versions(connection, streams),
            lambda keys: self._keys(connection, keys),
        )

    def _fast_commit(
        self, connection: Any, appends: Sequence[Append | Single], durability: Durability
    ) -> Plan | None:
        """One round trip when nobody else wrote since this recorder's last commit: plan
        from the cache and write with a statement that checks the head did not move.
        None when it did (or nothing is cached): take the locked path."""
        head = self._planner.head
        if head < 0:
            return None
        # Streams this planner has not seen are taken to be new (no query): the primary
        # key (category, stream, version) rejects version 1 of a stream that exists, the
        # statement rolls back as a whole, and the locked path below reloads and re-plans.
        plan = self._planner.plan(
            head, appends, _assume_new, lambda keys: self._keys(connection, keys)
        )
        if any(type(o) is Conflict and o.actual_version == 0 for o in plan.outcomes):
            # A stream taken to be new may exist: a conflict with version 0 proves nothing
            # (no row of that stream was planned, so the primary key cannot object). The
            # locked path loads the stream's real version and decides.
            self._planner.forget()
            return None
        if not plan.rows:
            if connection.execute(sql.SELECT_HEAD).fetchone()[0] == head:
                return plan
        else:
            self._in_flight = plan
            try:
                if self._write(connection, self._commit_cursor, plan, head, durability):
                    return plan
            except psycopg.errors.UniqueViolation:
                pass
            self._in_flight = None
        self._planner.forget()
        return None

    def _locked_commit(
        self, connection: Any, appends: Sequence[Append | Single], durability: Durability
    ) -> Plan:
        with connection.transaction():
            head = connection.execute(sql.LOCK_HEAD).fetchone()[0]
            plan = self._plan(connection, head, appends)
            if plan.rows:
                self._in_flight = plan
            if plan.rows and not self._write(
                connection, self._commit_cursor, plan, head, durability
            ):
                raise StoreError("the head moved while it was locked")
        return plan

    @staticmethod
    def _write(
        connection: Any, cursor: Any, plan: Plan, old_head: int, durability: Durability
    ) -> bool:
        rows, keys = plan.rows, plan.keys
        streams = [r[STREAM] for r in rows]
        params = {
            "old": old_head,
            "new": plan.head,
            "position": int_array([r[POSITION] for r in rows]),
            "category": text_array([category_of(s) for s in streams]),
            "stream": text_array(streams),
            "version": int_array([r[VERSION] for r in rows]),
            "type": text_array([r[TYPE] for r in rows]),
            "schema": int_array([r[SCHEMA] for r in rows]),
            "ts": int_array([r[TS] for r in rows]),
            "payload": bytea_array([r[PAYLOAD] for r in rows]),
            "checksum": int_array([r[CHECKSUM] for r in rows]),
        }
        if keys:
            params["key"] = text_array([k.key for k in keys])
            params["key_stream"] = text_array([k.stream for k in keys])
            params["first"] = int_array([k.first_position for k in keys])
            params["last"] = int_array([k.last_position for k in keys])
        statement = sql.FAST_APPEND if keys else sql.FAST_APPEND_NO_KEYS
        if durability != Durability.RELAXED:  # only the named opt-in skips the sync
            moved = cursor.execute(statement, params).fetchone()[0]
        else:
            with connection.transaction():
                cursor.execute("SET LOCAL synchronous_commit = off")
                moved = cursor.execute(statement, params).fetchone()[0]
        return bool(moved)

    # --------------------------------------------------------------------- reads

    def _fetch(self, query: str, params: tuple[object, ...]) -> list[tuple[Any, ...]]:
        """Rows of one read. A connection the server had closed is dropped by the pool and
        the read made again on the next one (reads repeat safely)."""
        attempts = self._config.pool_max + 1
        for attempt in range(1, attempts + 1):
            connection: Any = None
            try:
                with self._connection() as connection:
                    rows: list[tuple[Any, ...]] = connection.execute(query, params).fetchall()
                    return rows
            except PoolTimeout as error:
                raise StoreError(f"PostgreSQL read failed: {self._exhausted()}") from error
            except psycopg.OperationalError as error:
                if connection is not None and connection.broken and attempt < attempts:
                    continue
                raise StoreError(f"PostgreSQL read failed: {error}") from error
            except psycopg.Error as error:
                raise StoreError(f"PostgreSQL read failed: {error}") from error
        raise AssertionError("unreachable")

    def records(self, after: int = 0, limit: int | None = None) -> Iterator[Record]:
        for row in paged_rows(self._fetch_after, after, limit, _PAGE):
            yield Record(*row)

    def _fetch_after(self, after: int, page: int) -> list[tuple[Any, ...]]:
        return self._fetch(sql.SELECT_AFTER, (after, page))

    def read(self, after: int = 0, limit: int | None = None) -> Iterator[Entry]:
        decode = self._codec.decode
        for r in self.records(after, limit):
            yield Entry(
                r.position, r.stream, r.version, r.type, r.ts, decode(r.type, r.schema, r.payload)
            )

    def read_stream(self, stream: str, after_version: int = 0) -> Iterator[Entry]:
        if not searchable(stream):
            return  # stored nowhere (a NUL or a lone surrogate fails the query)
        decode = self._codec.decode
        category = category_of(stream)
        while True:
            rows = self._fetch(sql.SELECT_STREAM, (category, stream, after_version, _PAGE))
            for position, name, version, type_name, schema, ts, payload, _ in rows:
                yield Entry(
                    position, name, version, type_name, ts, decode(type_name, schema, payload)
                )
            if len(rows) < _PAGE:
                return
            after_version = rows[-1][2]

    def last_position(self) -> int:
        value = self._fetch(sql.SELECT_HEAD, ())[0][0]
        return int(value)

    def find_key(self, key: str) -> KeyRecord | None:
        if not searchable(key):
            return None  # stored nowhere (a NUL or a lone surrogate fails the query)
        rows = self._fetch(sql.SELECT_KEYS, ([key],))
        return KeyRecord(*rows[0]) if rows else None

    def stream_version(self, stream: str) -> int:
        if not searchable(stream):
            return 0  # stored nowhere (a NUL or a lone surrogate fails the query)
        value = self._fetch(sql.SELECT_VERSION, (category_of(stream), stream))[0][0]
        return int(value)

    def wait_for(self, after: int, timeout_s: float | None) -> int:
        return self._signal.wait(after, timeout_s)

    def maintain(self) -> None:
        """Nothing to do: the server checkpoints on its own."""

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._release_commit_connection()
            self._closed = True
            self._pool.close()
        if hasattr(self, "_signal"):
            self._signal.wake()
