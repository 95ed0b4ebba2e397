from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

import pytest

from spreadwire.core.clock import SimClock
from spreadwire.domain.enums import TradingState
from spreadwire.domain.events import TradingStateChanged
from spreadwire.errors import StoreError, ValidationError
from spreadwire.eventstore.codec import Codec
from spreadwire.eventstore.memory import MemoryRecorder
from spreadwire.eventstore.recorder import encode_append
from spreadwire.eventstore.records import (
    Append,
    Committed,
    Conflict,
    Duplicate,
    Durability,
    Outcome,
    Single,
)
from spreadwire.eventstore.writer import EventWriter
from spreadwire.eventstore.writerconfig import WriterConfig
from tests.builders import make_accepted


def halted() -> TradingStateChanged:
    return TradingStateChanged(
        state=TradingState.HALTED, previous=TradingState.ACTIVE, reason="r", ts_event=1, ts_init=1
    )


class GatedRecorder:
    """A memory recorder whose commits wait for a gate (to hold the writer busy)."""

    def __init__(self) -> None:
        self.inner = MemoryRecorder()
        self.gate = threading.Event()
        self.entered = threading.Event()
        self.fail_with: Exception | None = None
        self.durabilities: list[Durability] = []

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def commit(
        self, appends: Sequence[Append | Single], *, durability: Durability = Durability.DURABLE
    ) -> list[Outcome]:
        self.entered.set()
        self.gate.wait()
        self.durabilities.append(durability)
        if self.fail_with is not None:
            raise self.fail_with
        return self.inner.commit(appends, durability=durability)


def test_writer_appended_messages_are_committed_in_order_after_flush() -> None:
    recorder = MemoryRecorder()
    with EventWriter(recorder, clock=SimClock(5)) as writer:
        for i in range(1_000):
            writer.append(make_accepted(str(i % 10), i))
        writer.append(halted())
        writer.flush()

        stats = writer.stats()
    entries = list(recorder.read())
    assert [e.position for e in entries] == list(range(1, 1_002))
    assert [e.message.ts_event for e in entries[:-1]] == list(range(1_000))
    assert entries[0].stream == "order-0"
    assert entries[-1].stream == "trading"
    assert entries[0].ts == 5
    assert stats.appended == stats.committed == 1_001
    assert stats.last_position == 1_001
    assert stats.failed is False


def test_writer_explicit_stream_overrides_the_derived_one() -> None:
    recorder = MemoryRecorder()
    with EventWriter(recorder) as writer:
        writer.append(halted(), stream="risk-desk")
        writer.flush()

    assert [e.stream for e in recorder.read()] == ["risk-desk"]


def test_writer_append_durable_returns_the_committed_position() -> None:
    recorder = MemoryRecorder()
    with EventWriter(recorder) as writer:
        writer.append(halted())
        position = writer.append_durable(make_accepted("7"))

    assert position == 2
    assert recorder.stream_version("order-7") == 1


def test_writer_submit_reports_conflicts_and_duplicates_per_append() -> None:
    recorder = MemoryRecorder()
    codec = recorder.codec
    with EventWriter(recorder) as writer:
        first = writer.submit(
            encode_append(codec, "order-1", [make_accepted("1")], 1, idempotency_key="k")
        )
        repeat = writer.submit(
            encode_append(codec, "order-1", [make_accepted("1")], 1, idempotency_key="k")
        )
        stale = writer.submit(
            encode_append(codec, "order-1", [make_accepted("1")], 1, expected_version=0)
        )

    assert first == Committed(1, 1, 1)
    assert repeat == Duplicate(1, 1)
    assert stale == Conflict("order-1", 0, 1)


def test_writer_full_queue_blocks_the_producer_and_drops_nothing() -> None:
    recorder = GatedRecorder()
    writer = EventWriter(recorder, capacity=2, max_batch=1)  # type: ignore[arg-type]
    writer.append(make_accepted("a"))
    recorder.entered.wait()
    writer.append(make_accepted("b"))
    writer.append(make_accepted("c"))
    blocked_done = threading.Event()

    def produce() -> None:
        writer.append(make_accepted("d"))
        blocked_done.set()

    producer = threading.Thread(target=produce)
    producer.start()
    was_blocked = not blocked_done.wait(0.05)
    recorder.gate.set()
    producer.join()
    writer.close()

    assert was_blocked
    assert [e.message.client_order_id for e in recorder.inner.read()] == ["a", "b", "c", "d"]
    assert writer.stats().backpressure_waits == 1
    assert writer.stats().queue_peak == 2


def test_writer_relaxed_durability_is_passed_to_every_commit() -> None:
    recorder = GatedRecorder()
    recorder.gate.set()
    with EventWriter(recorder, durability="relaxed") as writer:  # type: ignore[arg-type]
        writer.append(halted())

    assert recorder.durabilities == [Durability.RELAXED]
    assert writer.stats().durability == "relaxed"


def test_writer_persistent_store_failure_stops_the_writer_and_surfaces_an_error() -> None:
    recorder = GatedRecorder()
    recorder.fail_with = StoreError("disk gone")
    recorder.gate.set()
    config = WriterConfig(retries=2, retry_backoff_ns=1_000)
    writer = EventWriter(recorder, config=config)  # type: ignore[arg-type]

    writer.append(halted())
    with pytest.raises(StoreError, match="disk gone"):
        writer.flush()
    with pytest.raises(StoreError, match="stopped"):
        writer.append(halted())
    writer.close()

    assert writer.stats().failed
    assert writer.stats().retries == 2


def test_writer_transient_store_failure_is_retried_and_commits() -> None:
    recorder = GatedRecorder()
    recorder.fail_with = StoreError("busy")
    writer = EventWriter(recorder, config=WriterConfig(retry_backoff_ns=1_000))  # type: ignore[arg-type]
    writer.append(halted())
    recorder.entered.wait()
    recorder.gate.set()
    recorder.fail_with = None
    writer.flush()
    writer.close()

    assert recorder.inner.last_position() == 1
    assert writer.stats().failed is False


def test_writer_unregistered_message_is_refused_at_append() -> None:
    with EventWriter(MemoryRecorder()) as writer, pytest.raises(StoreError):
        writer.append(object())


def test_writer_explicit_stream_the_store_cannot_take_is_refused_at_append() -> None:
    recorder = MemoryRecorder()
    with EventWriter(recorder) as writer:
        with pytest.raises(ValidationError, match="1024 bytes") as long:
            writer.append(halted(), stream="risk-" + "x" * 1_100)
        with pytest.raises(ValidationError, match="NUL") as nul:
            writer.append_durable(halted(), stream="risk-\x00")
        position = writer.append_durable(halted(), stream="risk-desk")

        stats = writer.stats()
    assert long.value.field == nul.value.field == "stream"
    assert position == 1
    assert stats.appended == stats.committed == 1
    assert stats.failed is False


def test_writer_derived_stream_the_store_cannot_take_is_refused_alone_and_the_writer_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A client order id no store may use as a stream name (the domain's ids are checked
    # where they enter; this one was not): its event is refused, the rest of its batch
    # commits, and the writer keeps serving everyone.
    recorder = GatedRecorder()
    writer = EventWriter(recorder)  # type: ignore[arg-type]
    refused: list[BaseException] = []

    def durable() -> None:
        try:
            writer.append_durable(make_accepted("a\x00b"))
        except ValidationError as error:
            refused.append(error)

    writer.append(make_accepted("0"))
    recorder.entered.wait()  # the writer holds a batch of one; the next batch queues
    writer.append(make_accepted("1"))
    writer.append(make_accepted("y" * 2_000))
    caller = threading.Thread(target=durable)
    caller.start()
    assert _until(lambda: writer.stats().queue_depth == 3)
    writer.append(make_accepted("2"))
    recorder.gate.set()
    caller.join(5)
    writer.flush(timeout_s=5)
    position = writer.append_durable(make_accepted("3"))
    stats = writer.close()

    assert [e.stream for e in recorder.inner.read()] == [f"order-{n}" for n in range(4)]
    assert position == 4
    assert [(type(e), getattr(e, "field", None)) for e in refused] == [(ValidationError, "stream")]
    assert stats.failed is False
    assert stats.refused == 2
    assert stats.committed == 4
    assert "refused OrderAccepted for stream 'order-yyy" in caplog.text


def test_writer_stopped_by_a_refusal_it_cannot_place_gives_every_caller_a_store_error() -> None:
    # The store refuses the batch with a ValidationError for a reason the writer does not
    # check (every name here is fine): the batch is committed once more, refused again,
    # and the writer stops. A waiting caller's input was not the problem, so it must get
    # the StoreError of a stopped writer (the node halts on it; the REST API answers 503),
    # not a ValidationError blaming its request (a 4xx).
    recorder = GatedRecorder()
    recorder.fail_with = ValidationError("type", "refused for a reason the writer cannot see")
    writer = EventWriter(recorder)  # type: ignore[arg-type]
    errors: list[BaseException] = []

    def durable() -> None:
        try:
            writer.submit(encode_append(recorder.inner.codec, "order-2", [make_accepted("2")], 1))
        except Exception as error:
            errors.append(error)

    writer.append(make_accepted("0"))
    recorder.entered.wait()  # the writer holds a batch of one; the durable caller queues
    caller = threading.Thread(target=durable)
    caller.start()
    assert _until(lambda: writer.stats().queue_depth == 1)
    recorder.gate.set()
    caller.join(5)
    with pytest.raises(StoreError) as flushed:
        writer.flush(timeout_s=5)
    with pytest.raises(StoreError) as durable_after:
        writer.append_durable(make_accepted("3"), timeout_s=5)
    stats = writer.close()

    assert [type(e) for e in errors] == [StoreError]
    assert "the event writer stopped" in str(flushed.value)
    assert "the event writer stopped" in str(durable_after.value)
    assert isinstance(writer.failure, StoreError)
    assert len(recorder.durabilities) == 2  # the batch, then it again: no loop
    assert stats.failed is True
    assert stats.refused == 0


def test_writer_close_commits_what_is_queued_and_refuses_more() -> None:
    recorder = MemoryRecorder(Codec())
    writer = EventWriter(recorder)
    for i in range(100):
        writer.append(make_accepted(str(i)))
    stats = writer.close()

    assert stats.committed == 100
    assert recorder.last_position() == 100
    with pytest.raises(StoreError, match="closed"):
        writer.append(halted())


def test_writer_many_producer_threads_all_get_distinct_durable_positions() -> None:
    recorder = MemoryRecorder()
    positions: list[int] = []
    lock = threading.Lock()

    with EventWriter(recorder) as writer:

        def produce(n: int) -> None:
            for i in range(200):
                position = writer.append_durable(make_accepted(f"{n}-{i}"))
                with lock:
                    positions.append(position)

        threads = [threading.Thread(target=produce, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert sorted(positions) == list(range(1, 801))


class MaintainedRecorder:
    """A memory recorder that counts (or fails) the writer's idle housekeeping."""

    def __init__(self, fail: Exception | None = None) -> None:
        self.inner = MemoryRecorder()
        self.fail = fail
        self.maintained = 0
        self.idle = threading.Event()

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def maintain(self) -> None:
        self.maintained += 1
        self.idle.set()
        if self.fail is not None:
            raise self.fail


def test_writer_runs_the_recorders_housekeeping_when_idle() -> None:
    recorder = MaintainedRecorder()
    with EventWriter(recorder, clock=SimClock(5)) as writer:  # type: ignore[arg-type]
        for burst in range(3):
            recorder.idle.clear()
            writer.append(make_accepted("1", 2 * burst))
            writer.append(make_accepted("2", 2 * burst + 1))
            writer.flush()
            assert recorder.idle.wait(5.0), f"no housekeeping after burst {burst}"
    assert recorder.maintained >= 3
    assert recorder.inner.last_position() == 6


@pytest.mark.parametrize(
    "failure", [StoreError("disk is slow today"), OSError("disk is slow today")]
)
def test_writer_logs_a_failed_housekeeping_and_keeps_committing(
    failure: Exception, caplog: pytest.LogCaptureFixture
) -> None:
    recorder = MaintainedRecorder(fail=failure)
    with EventWriter(recorder, clock=SimClock(5)) as writer:  # type: ignore[arg-type]
        writer.append(make_accepted("1", 1))
        writer.flush()
        assert recorder.idle.wait(5.0)
        position = writer.append_durable(make_accepted("1", 2))
        stats = writer.stats()
    assert position == 2
    assert stats.failed is False
    assert "event store maintenance failed: disk is slow today" in caplog.text


def _until(condition: Callable[[], bool], timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.001)
    return True


def test_writer_busy_while_a_batch_is_committing_and_not_once_idle() -> None:
    recorder = GatedRecorder()
    writer = EventWriter(recorder)  # type: ignore[arg-type]
    assert _until(lambda: not writer.busy()), "a new writer with nothing queued is idle"

    writer.append(make_accepted("a"))
    recorder.entered.wait()
    busy_in_commit = writer.busy()
    writer.append(make_accepted("b"))
    busy_with_queue = writer.busy()
    recorder.gate.set()
    writer.flush()

    assert busy_in_commit
    assert busy_with_queue
    assert _until(lambda: not writer.busy()), "the writer stays busy after its last batch"
    writer.close()


@pytest.mark.parametrize("linger_ns", [0, 200_000, 50_000_000])
def test_writer_wake_ups_lose_nothing_with_mixed_producers_and_a_tiny_queue(
    linger_ns: int,
) -> None:
    """Fire-and-forget and durable producers at once, against a queue of 3 (producers
    block for space while the writer sleeps and lingers): every message is committed,
    each producer's in its order, and nobody hangs. Rounds separated by flushes make the
    writer go idle and be woken again many times."""
    recorder = MemoryRecorder()
    config = WriterConfig(capacity=3, max_batch=2, linger_ns=linger_ns)
    writer = EventWriter(recorder, config=config)
    rounds, per_round = 20, 15

    def plain(n: int) -> None:
        for r in range(rounds):
            for i in range(per_round):
                writer.append(make_accepted(f"p{n}-{r:02}-{i:02}"))
            writer.flush()

    def durable(n: int) -> None:
        for r in range(rounds):
            for i in range(per_round):
                writer.append_durable(make_accepted(f"d{n}-{r:02}-{i:02}"))

    threads = [threading.Thread(target=plain, args=(n,)) for n in range(3)]
    threads += [threading.Thread(target=durable, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    hung = [thread.name for thread in threads if thread.is_alive()]
    stats = writer.close(timeout_s=60)
    ids = [entry.message.client_order_id for entry in recorder.read()]

    assert hung == []
    assert stats.committed == stats.appended == 6 * rounds * per_round
    assert len(ids) == len(set(ids)) == 6 * rounds * per_round
    for prefix in ("p0", "p1", "p2", "d0", "d1", "d2"):
        mine = [i for i in ids if i.startswith(prefix + "-")]
        assert mine == sorted(mine), f"{prefix}'s messages were reordered"
        assert len(mine) == rounds * per_round


def test_writer_close_wakes_an_idle_writer_and_a_lingering_one() -> None:
    recorder = MemoryRecorder()
    idle = EventWriter(recorder)
    assert _until(lambda: not idle.busy()), "the writer never went idle"
    idle.close(timeout_s=30)
    # two durable callers about to append, one item queued: the writer lingers (up to a
    # minute) for the second; close must cut that short
    lingering = EventWriter(recorder, config=WriterConfig(linger_ns=60_000_000_000))
    lingering._enter()
    lingering._enter()
    lingering.append(make_accepted("a"))
    lingering.close(timeout_s=30)
    lingering._leave()
    lingering._leave()

    assert not idle._worker.is_alive()
    assert not lingering._worker.is_alive()
    assert [e.message.client_order_id for e in recorder.read()] == ["a"]


def test_writer_failure_releases_a_producer_blocked_on_a_full_queue() -> None:
    """The writer gives up while a producer waits for space (holding the put lock):
    the producer, the durable caller of the failed batch and flush all get the error;
    nobody hangs and the writer thread ends."""
    recorder = GatedRecorder()
    recorder.fail_with = StoreError("disk gone")
    config = WriterConfig(capacity=1, max_batch=1, retries=0)
    writer = EventWriter(recorder, config=config)  # type: ignore[arg-type]
    errors: dict[str, str] = {}

    def call(name: str, action: Callable[[], object]) -> threading.Thread:
        def run() -> None:
            try:
                action()
                errors[name] = "returned"
            except StoreError as error:
                errors[name] = str(error)

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        return thread

    durable = call("durable", lambda: writer.append_durable(make_accepted("a")))
    recorder.entered.wait()
    writer.append(make_accepted("b"))  # the queue is full now
    blocked = call("blocked", lambda: writer.append(make_accepted("c")))
    assert _until(lambda: writer.stats().backpressure_waits == 1)
    recorder.gate.set()
    durable.join(10)
    blocked.join(10)
    writer._worker.join(10)

    assert not durable.is_alive() and not blocked.is_alive(), "a caller hangs"
    assert not writer._worker.is_alive(), "the writer thread hangs in _fail"
    assert errors == {
        "durable": "append failed: disk gone",
        "blocked": "the event writer stopped: disk gone",
    }
    assert writer.stats().failed
    with pytest.raises(StoreError, match="disk gone"):
        writer.flush(timeout_s=5)


@pytest.mark.parametrize(
    ("setting", "message"),
    [({"capacity": 0}, "capacity must be >= 1"), ({"max_batch": 0}, "max_batch must be >= 1")],
)
def test_writer_refuses_a_capacity_or_batch_of_zero_instead_of_hanging(
    setting: dict[str, int], message: str
) -> None:
    """The Meta bounds of WriterConfig were checked only when decoding: a capacity of 0
    blocked every append for ever, a max_batch of 0 ended the writer thread at once and
    left every durable caller waiting."""
    with pytest.raises(ValueError, match=message):
        EventWriter(MemoryRecorder(), **setting)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=message):
        WriterConfig(**setting)  # type: ignore[arg-type]


def test_writer_is_not_busy_once_its_thread_has_ended() -> None:
    """``busy`` read ``_wake_at`` (0 once the thread is gone): a closed or failed writer
    stayed busy for ever, and the spinning driver slept on every turn after it."""
    closed = EventWriter(MemoryRecorder())
    closed.close(timeout_s=30)
    recorder = GatedRecorder()
    recorder.fail_with = StoreError("disk gone")
    recorder.gate.set()
    failed = EventWriter(recorder, config=WriterConfig(retries=0))  # type: ignore[arg-type]
    failed.append(halted())
    failed._worker.join(30)

    assert failed.failure is not None
    assert not closed.busy()
    assert not failed.busy()
