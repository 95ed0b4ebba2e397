"""PostgreSQL when things go wrong between the store and the server: an answer lost after
the write was sent, connections the server closed, a role that may only read, a URL with
its own session options, a store opened with another partition layout."""

from __future__ import annotations

import contextlib
import logging
import select
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from spreadwire.errors import StoreError
from spreadwire.eventstore.codec import Codec
from spreadwire.eventstore.compare import compare_read_models
from spreadwire.eventstore.memory import MemoryRecorder
from spreadwire.eventstore.projection import ProjectionRunner
from spreadwire.eventstore.readmodels import standard_projections
from spreadwire.eventstore.records import Append, Committed, NewEvent, Outcome
from spreadwire.eventstore.verify import verify_log
from spreadwire.eventstore.writer import EventWriter
from spreadwire.persistence.postgres import PostgresConfig, PostgresRecorder
from spreadwire.persistence.store import open_read_models, open_store
from tests.unit.eventstore.builders import halted, record_order_flow

pytestmark = pytest.mark.postgres


class CuttingProxy:
    """A TCP proxy to the PostgreSQL server that can lose one answer: once armed, the
    first client message holding ``marker`` is delivered to the server, the server's
    reply is dropped and the client's connection is closed. ``refusing`` turns new
    connections away (a server out of reach). ``holding`` arms a message that is late
    instead: the client's connection is closed at once and the message reaches the
    server only at :meth:`deliver` (bytes still in the network when the client gave up)."""

    def __init__(self, target: tuple[str, int]) -> None:
        self._target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.marker: bytes | None = None
        self.holding: bytes | None = None
        self.cuts = 0
        self.refusing = False
        self._closing = False
        self._held = threading.Event()
        self._release = threading.Event()
        self._delivered = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, url: str) -> str:
        parts = urlsplit(url)
        netloc = f"{parts.username}@127.0.0.1:{self.port}"
        return urlunsplit(parts._replace(netloc=netloc))

    def _accept(self) -> None:
        while not self._closing:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self.refusing:
                client.close()
                continue
            server = socket.create_connection(self._target)
            threading.Thread(target=self._pump, args=(client, server), daemon=True).start()

    def _pump(self, client: socket.socket, server: socket.socket) -> None:
        try:
            while True:
                ready, _, _ = select.select([client, server], [], [], 0.5)
                if self._closing:
                    return
                for source in ready:
                    data = source.recv(65_536)
                    if not data:
                        return
                    if source is server:
                        client.sendall(data)
                    elif self._from_client(client, server, data):
                        return
        except OSError:
            return
        finally:
            client.close()
            server.close()

    def _from_client(self, client: socket.socket, server: socket.socket, data: bytes) -> bool:
        """Pass ``data`` on to the server; True when the connection is to be cut."""
        if self.holding is not None and self.holding in data:
            self.holding = None
            self._late(client, server, data)
            return True
        if self.marker is not None and self.marker in data:
            self.marker = None
            server.sendall(data)
            time.sleep(0.3)  # the server has committed by now
            self.cuts += 1
            return True
        server.sendall(data)
        return False

    def _late(self, client: socket.socket, server: socket.socket, data: bytes) -> None:
        """Close the client's connection, then hand ``data`` to the server when released
        and wait for its answer (ReadyForQuery) or for it to close the connection."""
        client.close()
        self.cuts += 1
        self._held.set()
        self._release.wait()
        try:
            server.sendall(data)
            answer = b""
            while b"Z\x00\x00\x00\x05" not in answer:
                chunk = server.recv(65_536)
                if not chunk:
                    break
                answer += chunk
        except OSError:
            pass
        finally:
            self._delivered.set()

    def deliver(self) -> None:
        """Let the held message reach the server; return once the server has dealt with
        it (answered, or closed the connection)."""
        assert self._held.is_set(), "no message is held"
        self._release.set()
        self._delivered.wait()

    def close(self) -> None:
        self._closing = True
        self._release.set()
        self._listener.close()


@pytest.fixture
def proxy(postgres_url: str) -> Iterator[CuttingProxy]:
    parts = urlsplit(postgres_url)
    cutting = CuttingProxy((parts.hostname or "127.0.0.1", parts.port or 5432))
    yield cutting
    cutting.close()


def _events(count: int, tag: str) -> tuple[NewEvent, ...]:
    codec = Codec()
    encoded = [codec.encode(halted(f"{tag}-{n}")) for n in range(count)]
    return tuple(
        NewEvent(name, schema, n, payload) for n, (name, schema, payload) in enumerate(encoded)
    )


def _stored(url: str, stream: str) -> list[tuple[int, int]]:
    with psycopg.connect(url) as connection:
        rows: list[tuple[int, int]] = connection.execute(
            "SELECT position, version FROM events WHERE stream = %s ORDER BY position",
            (stream,),
        ).fetchall()
    return rows


def _terminate_others(url: str) -> int:
    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(url, autocommit=True) as admin:
        row = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        ).fetchone()
    return int(row[0]) if row else 0


@contextlib.contextmanager
def _role(url: str, prefix: str, *grants: str) -> Iterator[str]:
    """The URL of a new login role (``grants``: statements with ``{role}`` in them),
    dropped afterwards with what it was granted."""
    role = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {role} LOGIN")
        for grant in grants:
            admin.execute(grant.format(role=role))
    try:
        yield url.replace("postgres@", f"{role}@", 1)
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f"DROP OWNED BY {role}")
            admin.execute(f"DROP ROLE {role}")


_READ_ONLY = "GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}"
_NO_CREATE = "REVOKE CREATE ON SCHEMA public FROM {role}, PUBLIC"


def test_commit_whose_answer_is_lost_is_stored_once_and_reported_committed(
    postgres_url: str, proxy: CuttingProxy
) -> None:
    """The one-statement commit (the server commits it on its own) is found in the log
    and reported; one inside a transaction (the locked path, taken right after a failure)
    is rolled back by the server when the connection drops, and the writer's retry
    stores it. Either way it is stored once."""
    recorder = PostgresRecorder(proxy.url(postgres_url))
    try:
        with EventWriter(recorder) as writer:
            writer.append_durable(halted("warm"))
            proxy.marker = b"order-CUT-1"
            keyed = writer.submit(
                Append(stream="order-CUT-1", events=_events(2, "a"), idempotency_key="cut-1")
            )
            writer.append_durable(halted("between"))
            proxy.marker = b"order-CUT-2"
            guarded = writer.submit(
                Append(stream="order-CUT-2", events=_events(2, "b"), expected_version=0)
            )
            writer.append_durable(halted("between"))
            proxy.marker = b"order-CUT-3"
            plain = writer.submit(Append(stream="order-CUT-3", events=_events(3, "c")))
            settled_at_once = writer.stats().retries
            proxy.marker = b"order-CUT-4"  # right after a failure: the locked path
            locked = writer.submit(Append(stream="order-CUT-4", events=_events(2, "d")))
            retries = writer.stats().retries
        sound = verify_log(recorder).sound
    finally:
        recorder.close()

    assert proxy.cuts == 4
    assert settled_at_once == 0
    assert retries == 1
    assert keyed == Committed(2, 3, 2)
    assert guarded == Committed(5, 6, 2)
    assert plain == Committed(8, 10, 3)
    assert locked == Committed(11, 12, 2)
    assert _stored(postgres_url, "order-CUT-1") == [(2, 1), (3, 2)]
    assert _stored(postgres_url, "order-CUT-3") == [(8, 1), (9, 2), (10, 3)]
    assert _stored(postgres_url, "order-CUT-4") == [(11, 1), (12, 2)]
    assert sound


def test_commit_whose_statement_reaches_the_server_after_the_connection_broke_is_stored_once(
    postgres_url: str, proxy: CuttingProxy
) -> None:
    """The one-statement commit is sent, the connection breaks, and the statement is
    still on its way: the server runs it only after the recorder looked for the entries
    and found none. The recorder ends the server session of the broken connection before
    it looks, so a statement arriving late finds no one to run it: the commit is reported
    failed and is not in the log, and the writer's retry stores it once."""
    recorder = PostgresRecorder(proxy.url(postgres_url))
    batch = [Append(stream="order-HELD", events=_events(2, "held"))]
    try:
        recorder.commit([Append(stream="order-WARM", events=_events(1, "warm"))])
        proxy.holding = b"order-HELD"
        with pytest.raises(StoreError, match="PostgreSQL commit failed"):
            recorder.commit(batch)
        proxy.deliver()
        stored_late = _stored(postgres_url, "order-HELD")
        outcomes = recorder.commit(batch)
    finally:
        recorder.close()

    assert proxy.cuts == 1
    assert stored_late == []
    assert outcomes == [Committed(2, 3, 2)]
    assert _stored(postgres_url, "order-HELD") == [(2, 1), (3, 2)]


def test_commit_whose_answer_is_lost_while_the_server_is_out_of_reach_is_settled_later(
    postgres_url: str, proxy: CuttingProxy
) -> None:
    config = PostgresConfig(acquire_timeout_s=1.0, connect_timeout_s=1)
    recorder = PostgresRecorder(proxy.url(postgres_url), config=config)
    batch = [Append(stream="order-LATE", events=_events(2, "late"))]
    try:
        recorder.commit([Append(stream="order-WARM", events=_events(1, "warm"))])
        proxy.marker = b"order-LATE"
        proxy.refusing = True
        with pytest.raises(StoreError, match="whether it landed is checked before the next"):
            recorder.commit(batch)
        proxy.refusing = False
        # the writer's retries (the same batch); the pool may take a moment to reconnect
        outcomes: list[Outcome] | None = None
        for _ in range(30):
            try:
                outcomes = recorder.commit(batch)
                break
            except StoreError as error:
                assert "whether it landed is checked" in str(error)
        after = recorder.commit([Append(stream="order-NEXT", events=_events(1, "next"))])
    finally:
        recorder.close()

    assert outcomes == [Committed(2, 3, 2)]
    assert after == [Committed(4, 4, 1)]
    assert _stored(postgres_url, "order-LATE") == [(2, 1), (3, 2)]


def test_connections_closed_by_the_server_are_replaced_without_failing_a_call(
    postgres_url: str,
) -> None:
    recorder = PostgresRecorder(postgres_url, config=PostgresConfig(pool_min=4, pool_max=4))
    try:
        with EventWriter(recorder) as writer:
            writer.append_durable(halted("before"))
            killed = _terminate_others(postgres_url)
            heads = [recorder.last_position() for _ in range(6)]
            writer.append_durable(halted("after"))
            retries = writer.stats().retries
        reasons = [entry.message.reason for entry in recorder.read()]
    finally:
        recorder.close()

    assert killed >= 4
    assert heads == [1] * 6
    assert retries <= 1  # the commit's own connection is found dead by using it
    assert reasons == ["before", "after"]


def test_commit_connection_the_server_ended_while_idle_is_replaced_before_the_commit(
    postgres_url: str,
) -> None:
    """With the database's ``idle_session_timeout`` set, the server ends the kept commit
    connection in every quiet spell: the next commit goes out on a live connection
    instead of failing (a failed commit is retried, and its retry halts a node)."""
    name = urlsplit(postgres_url).path.lstrip("/")
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{name}" SET idle_session_timeout = 300')
    recorder = PostgresRecorder(postgres_url)
    try:
        recorder.commit([Append(stream="order-IDLE", events=_events(1, "before"))])
        time.sleep(0.8)
        outcomes = recorder.commit([Append(stream="order-IDLE", events=_events(1, "after"))])
    finally:
        recorder.close()

    assert outcomes == [Committed(2, 2, 2)]
    assert _stored(postgres_url, "order-IDLE") == [(1, 1), (2, 2)]


def test_commits_wait_for_another_writer_when_the_database_defaults_to_serializable(
    postgres_url: str,
) -> None:
    """The store's sessions run READ COMMITTED whatever the database's default: a commit
    that waited for another writer's head row goes on from its new head (under
    SERIALIZABLE it failed with "could not serialize access due to concurrent update",
    so writers in several processes used up their retries and stopped)."""
    name = urlsplit(postgres_url).path.lstrip("/")
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(
            f"ALTER DATABASE \"{name}\" SET default_transaction_isolation = 'serializable'"
        )
    recorder = PostgresRecorder(postgres_url)
    results: list[object] = []

    def commit(tag: str) -> None:
        try:
            results.append(recorder.commit([Append(stream="order-W", events=_events(1, tag))]))
        except StoreError as error:
            results.append(error)

    try:
        for path in ("locked", "one-statement"):  # the first commit takes the locked path
            with psycopg.connect(postgres_url) as other:
                other.execute("UPDATE event_head SET position = position WHERE id = 1")
                waiting = threading.Thread(target=commit, args=(path,))
                waiting.start()
                time.sleep(0.3)
            waiting.join()
    finally:
        recorder.close()

    assert results == [[Committed(1, 1, 1)], [Committed(2, 2, 2)]]


def test_role_that_may_only_read_opens_and_verifies_an_existing_store(postgres_url: str) -> None:
    recorder = record_order_flow(open_store(postgres_url))
    recorder.close()
    with _role(postgres_url, "sw_reader", _READ_ONLY) as url:
        reader = open_store(url)
        try:
            report = verify_log(reader)
        finally:
            reader.close()

    assert report.sound
    assert report.entries == 11


def test_role_that_may_not_create_the_store_gets_a_store_error(postgres_url: str) -> None:
    with (
        _role(postgres_url, "sw_nobody", _NO_CREATE) as url,
        pytest.raises(StoreError, match=r"cannot open the store .*permission denied"),
    ):
        open_store(url)


def test_url_session_options_are_kept_so_the_store_lives_in_the_named_schema(
    postgres_url: str,
) -> None:
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute("CREATE SCHEMA desk")
    recorder = open_store(f"{postgres_url}?options=-csearch_path%3Ddesk")
    try:
        recorder.commit([Append(stream="order-S", events=_events(1, "s"))])
        with recorder._pool.connection() as connection:  # type: ignore[attr-defined]
            timeout = connection.execute("SHOW statement_timeout").fetchone()
    finally:
        recorder.close()
    with psycopg.connect(postgres_url) as connection:
        where = connection.execute(
            "SELECT to_regclass('desk.events') IS NOT NULL, to_regclass('public.events')"
        ).fetchone()

    assert where == (True, None)
    assert timeout == ("5s",)


def test_store_opened_with_another_partition_layout_keeps_its_own_and_says_so(
    postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    PostgresRecorder(postgres_url, config=PostgresConfig(hash_partitions=4)).close()
    other = PostgresConfig(hash_partitions=16, high_volume_categories=("order", "pair"))

    with caplog.at_level(logging.WARNING, logger="spreadwire.persistence.postgres"):
        recorder = PostgresRecorder(postgres_url, config=other)
    try:
        recorder.commit([Append(stream="pair-1", events=_events(1, "p"))])
    finally:
        recorder.close()
    with psycopg.connect(postgres_url) as connection:
        ways = connection.execute(
            "SELECT count(*) FROM pg_inherits WHERE inhparent = 'events_order'::regclass"
        ).fetchone()

    assert ways == (4,)
    assert "hash_partitions: the store at" in caplog.text
    assert "splits 'order' 4 ways, not 16" in caplog.text
    assert "high_volume_categories: the store at" in caplog.text
    assert "no partition of its own for 'pair'" in caplog.text


def test_read_models_connection_closed_by_the_server_is_replaced_and_nothing_applies_twice(
    postgres_url: str,
) -> None:
    log = record_order_flow(MemoryRecorder())
    models = open_read_models(postgres_url)
    try:
        runner = ProjectionRunner(log, models, standard_projections(), batch=4)
        runner.catch_up(until=4)
        killed = _terminate_others(postgres_url)
        position = runner.catch_up()
        killed += _terminate_others(postgres_url)
        orders = models.rows("orders")
        scratch = open_read_models("memory://")
        differences = compare_read_models(log, models, scratch, standard_projections())
        scratch.close()
    finally:
        models.close()

    assert killed == 2
    assert position == 11
    assert set(orders) == {"O-1", "O-2"}
    assert differences == []


def test_read_models_role_that_may_only_read_opens_them(postgres_url: str) -> None:
    log = record_order_flow(MemoryRecorder())
    models = open_read_models(postgres_url)
    ProjectionRunner(log, models, standard_projections()).catch_up()
    models.close()
    with _role(postgres_url, "sw_reader", _READ_ONLY, _NO_CREATE) as url:
        reader = open_read_models(url)
        try:
            tracking = reader.tracking()
            orders = reader.rows("orders")
        finally:
            reader.close()

    assert set(tracking.values()) == {11}
    assert set(orders) == {"O-1", "O-2"}


def test_read_models_rebuild_swaps_tables_in_keeping_their_names(postgres_url: str) -> None:
    """Built aside, swapped in: no staging table stays behind, and the live tables' keys
    keep their own names (a second rebuild's staging tables would otherwise collide)."""
    log = record_order_flow(MemoryRecorder())
    models = open_read_models(postgres_url)
    try:
        models.staging().close()  # as an interrupted rebuild leaves them
        runner = ProjectionRunner(log, models, standard_projections(), batch=4)
        runner.rebuild()
        runner.rebuild()
        tracking, resets = models.marks()
    finally:
        models.close()
    with psycopg.connect(postgres_url) as connection:
        tables = {n for (n,) in connection.execute("SELECT tablename FROM pg_tables")}
        keys = {
            (table, name)
            for table, name in connection.execute(
                "SELECT conrelid::regclass::text, conname FROM pg_constraint WHERE contype = 'p'"
                " AND conrelid::regclass::text LIKE 'rm%'"
            )
        }

    expected = {f"rm_{t}" for p in standard_projections() for t in p.tables} | {"rm_tracking"}
    assert {t for t in tables if t.startswith("rm")} == expected
    assert keys == {(table, f"{table}_pkey") for table in expected}
    assert set(tracking.values()) == {11}
    assert resets == 2


def test_read_models_rebuild_that_lost_its_connection_takes_its_lock_again(
    postgres_url: str,
) -> None:
    """The one-rebuild lock is the staging session's: when the server ends that session
    the rebuild goes on over a new one, which holds the lock again (without it a second
    rebuild could start and drop the first one's tables under it)."""
    log = record_order_flow(MemoryRecorder())
    models = open_read_models(postgres_url)
    staging = models.staging()
    try:
        staging.apply(standard_projections(), list(log.read())[:4])
        killed = _terminate_others(postgres_url)
        staging.apply(standard_projections(), list(log.read())[4:], after=4)
        with pytest.raises(StoreError, match="another rebuild of them is running"):
            models.staging()
    finally:
        staging.close()
    models.staging().close()  # free again once the first one is done
    models.close()

    assert killed >= 2  # the staging session and the live store's


def test_role_that_may_only_read_verifies_a_store_without_read_models(
    postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """``events verify`` looks for read models without creating ``rm_tracking``."""
    from spreadwire.cli.main import main

    recorder = record_order_flow(open_store(postgres_url))
    recorder.close()
    with _role(postgres_url, "sw_reader", _READ_ONLY, _NO_CREATE) as url:
        code = main(["events", "verify", "--store", url])
    out = capsys.readouterr().out
    with psycopg.connect(postgres_url) as connection:
        created = connection.execute("SELECT to_regclass('rm_tracking')").fetchone()

    assert code == 0, out
    assert "read models: none at" in out
    assert created == (None,)


def test_role_that_may_only_read_verifies_a_store_with_a_damaged_tail(postgres_url: str) -> None:
    """Opening with ``repair=False`` reports a torn tail without locking the head row
    (FOR UPDATE needs UPDATE privilege)."""
    recorder = record_order_flow(open_store(postgres_url))
    recorder.close()
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute("UPDATE events SET checksum = checksum + 1 WHERE position = 11")
    with _role(postgres_url, "sw_reader", _READ_ONLY, _NO_CREATE) as url:
        reader = open_store(url, repair=False)
        try:
            report = verify_log(reader)
            recovery = reader.recovery
        finally:
            reader.close()

    assert recovery.torn_at == 11
    assert not report.sound
