"""PostgreSQL specifics: partitions, pool statistics, timeouts."""

from __future__ import annotations

import random

import psycopg
import pytest

from spreadwire.errors import ConfigError, StoreError, ValidationError
from spreadwire.eventstore.codec import Codec
from spreadwire.eventstore.records import Append, Durability, NewEvent
from spreadwire.eventstore.tail import record_is_sound
from spreadwire.eventstore.writer import EventWriter
from spreadwire.persistence.postgres import PostgresConfig, PostgresRecorder, session_kwargs
from spreadwire.persistence.store import redact
from tests.unit.eventstore.builders import accepted, halted, record_order_flow

pytestmark = pytest.mark.postgres


def _event(reason: str) -> NewEvent:
    name, schema, payload = Codec().encode(halted(reason))
    return NewEvent(name, schema, 1, payload)


def test_store_postgres_order_streams_land_in_hash_partitions(postgres_url: str) -> None:
    recorder = record_order_flow(
        PostgresRecorder(postgres_url, config=PostgresConfig(hash_partitions=4))
    )
    recorder.close()

    with psycopg.connect(postgres_url) as connection:
        rows: list[tuple[str, int]] = connection.execute(
            "SELECT tableoid::regclass::text, count(*) FROM events GROUP BY 1 ORDER BY 1"
        ).fetchall()
        partitions = connection.execute(
            "SELECT count(*) FROM pg_inherits WHERE inhparent = 'events_order'::regclass"
        ).fetchone()

    assert partitions == (4,)
    assert sum(n for name, n in rows if name.startswith("events_order_")) == 10
    assert dict(rows)["events_other"] == 1


def test_store_postgres_pool_statistics_count_connections(postgres_url: str) -> None:
    recorder = PostgresRecorder(postgres_url)
    try:
        recorder.commit([])
        stats = recorder.pool_stats()
    finally:
        recorder.close()

    assert stats["pool_size"] >= 1
    assert stats["requests_num"] >= 1


def test_store_postgres_statement_timeout_is_applied_to_every_connection(
    postgres_url: str,
) -> None:
    recorder = PostgresRecorder(postgres_url, config=PostgresConfig(statement_timeout_ms=1234))
    try:
        with recorder._pool.connection() as connection:
            value = connection.execute("SHOW statement_timeout").fetchone()
    finally:
        recorder.close()

    assert value == ("1234ms",)


def test_store_postgres_unreachable_server_raises_store_error_without_password() -> None:
    url = "postgresql://someone:secret@127.0.0.1:1/none"
    config = PostgresConfig(connect_timeout_s=1, acquire_timeout_s=1.0)

    with pytest.raises(StoreError) as error:
        PostgresRecorder(url, config=config)

    assert "secret" not in str(error.value)
    assert redact(url) == "postgresql://someone@127.0.0.1:1/none"


def test_store_postgres_url_it_cannot_read_is_reported_without_its_password() -> None:
    """libpq quotes the token it cannot decode, here the password itself."""
    url = "postgresql://someone:se%zzcret@127.0.0.1:5432/db"

    with pytest.raises(StoreError, match="percent-encoded") as error:
        session_kwargs(url, "", 1)

    assert "zzcret" not in str(error.value)


def test_store_postgres_pool_out_of_connections_is_an_error_naming_the_pool_and_its_limits(
    postgres_url: str,
) -> None:
    config = PostgresConfig(pool_max=2, acquire_timeout_s=0.5)
    recorder = PostgresRecorder(postgres_url, config=config)
    try:
        recorder.commit([])  # the commit connection is kept: one left for reads
        with recorder._pool.connection(), pytest.raises(StoreError) as error:
            recorder.last_position()
    finally:
        recorder.close()

    message = str(error.value)
    assert "pool 'event-store'" in message
    assert "within 0.5 s (acquire_timeout_s): 2 of pool_max 2 open, 0 free" in message


def test_store_postgres_durable_commits_sync_when_the_database_says_synchronous_commit_off(
    postgres_url: str,
) -> None:
    """``ALTER DATABASE ... SET synchronous_commit = off`` must not make a durable commit
    one acknowledged before its WAL is flushed."""
    name = postgres_url.rsplit("/", 1)[1]
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    recorder = PostgresRecorder(postgres_url)
    try:
        recorder.commit([Append(stream="order-1", events=(_event("a"),))])
        recorder.commit(
            [Append(stream="order-1", events=(_event("b"),))], durability=Durability.RELAXED
        )
        setting = recorder._committer.execute("SHOW synchronous_commit").fetchone()
    finally:
        recorder.close()

    assert setting == ("on",)


def test_store_postgres_relaxed_and_durable_commits_share_one_sequence(postgres_url: str) -> None:
    recorder = PostgresRecorder(postgres_url)
    try:
        with EventWriter(recorder, durability="relaxed") as writer:
            writer.append(halted("relaxed"))
        with EventWriter(recorder) as writer:
            writer.append(halted("durable"))
        reasons = [(e.position, e.message.reason) for e in recorder.read()]
    finally:
        recorder.close()

    assert reasons == [(1, "relaxed"), (2, "durable")]


def test_store_postgres_stream_written_by_another_recorder_gets_the_next_version(
    postgres_url: str,
) -> None:
    first = PostgresRecorder(postgres_url)
    second = PostgresRecorder(postgres_url)
    try:
        with EventWriter(first) as writer:
            for n in range(3):
                writer.append(halted(f"first-{n}"), stream="shared")
        with EventWriter(second) as writer:
            writer.append_durable(halted("warm"), stream="other")  # cached: "other" only
            writer.append_durable(halted("second"), stream="shared")  # assumed new: re-planned
            retries = writer.stats().retries
        versions = [(e.version, e.message.reason) for e in second.read_stream("shared")]
        head = second.last_position()
    finally:
        first.close()
        second.close()

    assert versions == [(1, "first-0"), (2, "first-1"), (3, "first-2"), (4, "second")]
    assert head == 5
    assert retries == 0


def test_store_postgres_odd_stream_names_and_payload_bytes_round_trip(postgres_url: str) -> None:
    names = ['quote"d', "back\\slash", "comma,brace{}", "spaces and ü", "NULL", ""]
    recorder = PostgresRecorder(postgres_url)
    try:
        with EventWriter(recorder) as writer:
            for name in names:
                writer.append(halted(name), stream=f"odd-{name}")
        entries = list(recorder.read())
        records = list(recorder.records())
    finally:
        recorder.close()

    assert [(e.stream, e.message.reason) for e in entries] == [(f"odd-{n}", n) for n in names]
    assert all(record_is_sound(r) for r in records)


def test_store_postgres_writer_refuses_a_client_order_id_past_the_index_limit_and_goes_on(
    postgres_url: str,
) -> None:
    # 3,000 bytes the server cannot compress: its btree key would exceed 2,704 bytes, which
    # failed every retry of the batch and stopped the writer; now the planner refuses the
    # name first and the batch's other events commit.
    too_long = random.Random(3).randbytes(1_500).hex()
    recorder = PostgresRecorder(postgres_url)
    try:
        with EventWriter(recorder) as writer:
            writer.append(accepted("O-1"))
            writer.append(accepted(too_long))
            writer.append(accepted("O-2"))
            writer.flush()
            with pytest.raises(ValidationError, match="1024 bytes") as refused:
                writer.append_durable(accepted(too_long))
            position = writer.append_durable(accepted("O-3"))
            stats = writer.stats()
        streams = [e.stream for e in recorder.read()]
    finally:
        recorder.close()

    assert refused.value.field == "stream"
    assert streams == ["order-O-1", "order-O-2", "order-O-3"]
    assert position == 3
    assert (stats.failed, stats.refused, stats.retries) == (False, 2, 0)


@pytest.mark.parametrize("categories", [("other",), ("order", "order_0")])
def test_store_postgres_high_volume_category_sharing_a_table_name_is_a_config_error(
    postgres_url: str, categories: tuple[str, ...]
) -> None:
    """``events_other`` is the default partition and ``events_order_0`` a hash partition
    of ``order``: such a category would leave the store impossible to create."""
    with pytest.raises(ConfigError, match=r"high_volume_categories: .* table name"):
        PostgresRecorder(postgres_url, config=PostgresConfig(high_volume_categories=categories))


def test_store_postgres_pool_of_one_connection_is_a_config_error(postgres_url: str) -> None:
    """Commits keep their connection between commits: a pool of one left no connection
    for reads, and every read after the first commit waited out ``acquire_timeout_s``."""
    config = PostgresConfig(pool_min=1, pool_max=1, acquire_timeout_s=1.0)

    with pytest.raises(ConfigError, match="pool_max: 1 is too few"):
        PostgresRecorder(postgres_url, config=config)
