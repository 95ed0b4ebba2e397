"""The group-commit event writer: the hot path's only way into the event store.

``append`` is synchronous and cheap: it stamps the message and puts it on a bounded
queue (blocking only when the queue is full: backpressure, never a drop). One writer
thread drains everything queued (up to ``max_batch``) into a single transaction, so one
durable commit covers every caller that was waiting, and acknowledges them together.

Acknowledgement: ``flush()`` returns when everything appended before it is committed;
``append_durable`` and ``submit`` block until their own commit and return where it went.
A failed commit is retried a few times (the batch is re-planned from the store), then
the writer stops and every later call raises :class:`~spreadwire.errors.StoreError`.

A stream name the store cannot take (:func:`~spreadwire.eventstore.records.check_name`) is
refused with a :class:`~spreadwire.errors.ValidationError` where it can be: an explicit
stream at ``append``, an :class:`Append` when it is made. A stream derived from the message
is checked by the store's planner, once per stream it has not seen; the batch it refuses is
committed again without the events named so, which alone are refused: one bad name never
stops the writer for every caller.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Sequence
from typing import Any, final

import msgspec

from spreadwire.core.clock import Clock, LiveClock, perf_counter_ns
from spreadwire.core.histogram import LatencyHistogram
from spreadwire.errors import StoreError, ValidationError
from spreadwire.eventstore.recorder import Recorder
from spreadwire.eventstore.records import (
    Append,
    Committed,
    Durability,
    Outcome,
    Single,
    check_name,
)
from spreadwire.eventstore.streams import stream_of
from spreadwire.eventstore.writerconfig import WriterConfig, WriterStats

_log = logging.getLogger("spreadwire.eventstore.writer")


@final
class _Slot:
    """Where the writer leaves one durable caller's outcome.

    ``done`` is a plain lock taken at creation and released by the writer: waiting and
    waking are one C call each (a ``threading.Event`` runs a Condition in Python).
    """

    __slots__ = ("done", "error", "outcome")

    def __init__(self) -> None:
        self.done = threading.Lock()
        self.done.acquire()
        self.outcome: Outcome | None = None
        self.error: BaseException | None = None


# A queued item: (message or Append, stream or None, ts, enqueued perf ns, slot or None).
_Item = tuple[Any, str | None, int, int, _Slot | None]


@final
class EventWriter:
    """Single writer thread doing group commit into a :class:`Recorder`."""

    def __init__(
        self,
        recorder: Recorder,
        *,
        clock: Clock | None = None,
        capacity: int = 65_536,
        max_batch: int = 1_024,
        durability: Durability | str = Durability.DURABLE,
        config: WriterConfig | None = None,
        name: str = "event-writer",
    ) -> None:
        self._config = config or WriterConfig(
            capacity=capacity, max_batch=max_batch, durability=Durability(durability)
        )
        self._recorder = recorder
        self._codec = recorder.codec
        self._metas = self._codec.metas
        self._clock = clock or LiveClock()
        self._timestamp = self._clock.timestamp_ns
        self._queue: deque[_Item] = deque()
        self._put_lock = threading.Lock()
        #: The writer's doorbell: held while not rung. The writer blocks acquiring it; the
        #: producer that sees the writer waiting (``_wake_at``) clears that and releases
        #: it. One C call each way, and one thread wake-up (a Condition's notify costs two:
        #: the waiter then blocks again on the Condition's own lock, still held).
        self._doorbell = threading.Lock()
        self._doorbell.acquire()
        self._bell_lock = threading.Lock()
        self._space = threading.Condition(threading.Lock())
        self._done = threading.Condition(threading.Lock())
        #: Queue depth at which a producer rings the doorbell (0: the writer is not
        #: waiting; 1 when idle; the number of durable callers while it lingers for them).
        #: Set by the writer and cleared by the producer that rings, both under
        #: ``_bell_lock``: the doorbell is rung at most once per wait.
        self._wake_at = 0
        #: Threads inside append_durable/submit (they append again soon after their ack).
        self._callers = 0
        self._callers_lock = threading.Lock()
        self._space_waiters = 0
        self._closing = False
        #: Set when the writer thread has ended (closed or failed): nothing is busy then.
        self._stopped = False
        self._failure: BaseException | None = None
        self._tickets = 0
        self._processed = 0
        self._committed = 0
        self._batches = 0
        self._largest = 0
        self._peak = 0
        self._waits = 0
        self._retries = 0
        self._refused = 0
        #: Set while a failed commit is being retried (its callers are not acknowledged;
        #: a node stops trading when it sees this), cleared when a commit succeeds.
        self.retrying = False
        self._last_position = recorder.last_position()
        self._ack = LatencyHistogram("event_store_ack")
        self._retry_sleep = threading.Event()
        self._encoder = msgspec.msgpack.Encoder()
        self._worker = threading.Thread(target=self._run, name=name, daemon=True)
        self._worker.start()

    # ----------------------------------------------------------------- producers

    def append(self, message: object, stream: str | None = None) -> None:
        """Hand ``message`` to the writer; blocks only while the queue is full. An explicit
        ``stream`` is checked here (a derived one costs nothing here: see the module)."""
        self._check_type(message)
        if stream is not None:
            check_name("stream", stream)
        self._put((message, stream, self._timestamp(), perf_counter_ns(), None))

    def append_durable(
        self, message: object, stream: str | None = None, timeout_s: float | None = None
    ) -> int:
        """Append ``message`` and wait for the commit covering it; return its position."""
        self._check_type(message)
        if stream is not None:
            check_name("stream", stream)
        slot = _Slot()
        self._enter()
        try:
            self._put((message, stream, self._timestamp(), perf_counter_ns(), slot))
            outcome = self._await(slot, timeout_s)
        finally:
            self._leave()
        assert isinstance(outcome, Committed)
        return outcome.first_position

    def submit(self, append: Append, timeout_s: float | None = None) -> Outcome:
        """Commit a prepared :class:`Append` (expected version, idempotency key) through
        the group commit and return its outcome once committed."""
        slot = _Slot()
        self._enter()
        try:
            self._put((append, None, 0, perf_counter_ns(), slot))
            return self._await(slot, timeout_s)
        finally:
            self._leave()

    def _check_type(self, message: object) -> None:
        """Refuse a message the store cannot record before it is queued."""
        if type(message) not in self._metas:
            self._codec.meta(type(message))  # raises the StoreError naming the type

    def _enter(self) -> None:
        with self._callers_lock:
            self._callers += 1

    def _leave(self) -> None:
        with self._callers_lock:
            self._callers -= 1

    def _put(self, item: _Item) -> None:
        queue = self._queue
        with self._put_lock:
            if self._failure is not None or self._closing:
                self._raise_stopped()
            if len(queue) >= self._config.capacity:
                self._wait_for_space()
            queue.append(item)
            self._tickets += 1
            depth = len(queue)
            if depth > self._peak:
                self._peak = depth
        if self._wake_at:
            self._ring()

    def _ring(self) -> None:
        """Wake the writer if it waits for no more items than are queued."""
        with self._bell_lock:
            wake_at = self._wake_at
            ring = wake_at != 0 and len(self._queue) >= wake_at
            if ring:
                self._wake_at = 0
        if ring:
            self._doorbell.release()

    def _wait_for_space(self) -> None:
        self._waits += 1
        capacity = self._config.capacity
        with self._space:
            self._space_waiters += 1
            try:
                while len(self._queue) >= capacity and self._failure is None:
                    self._space.wait()
            finally:
                self._space_waiters -= 1
        if self._failure is not None:
            self._raise_stopped()

    def _await(self, slot: _Slot, timeout_s: float | None) -> Outcome:
        if not slot.done.acquire(timeout=-1 if timeout_s is None else max(0.0, timeout_s)):
            raise StoreError(f"no acknowledgement within {timeout_s} s")
        error = slot.error
        if isinstance(error, ValidationError):  # this caller's own stream was refused
            raise ValidationError(error.field, error.message) from error
        if error is not None:
            raise StoreError(f"append failed: {error}") from error
        assert slot.outcome is not None
        return slot.outcome

    def _raise_stopped(self) -> None:
        if self._failure is not None:
            raise StoreError(f"the event writer stopped: {self._failure}") from self._failure
        raise StoreError("the event writer is closed")

    def flush(self, timeout_s: float | None = None) -> None:
        """Return when everything appended so far is committed; raise if it cannot be."""
        with self._put_lock:
            target = self._tickets
        with self._done:
            ok = self._done.wait_for(
                lambda: self._processed >= target or self._failure is not None, timeout_s
            )
        if self._failure is not None:
            self._raise_stopped()
        if not ok:
            raise StoreError(f"flush did not complete within {timeout_s} s")

    def close(self, timeout_s: float | None = None) -> WriterStats:
        """Commit what is queued, stop the writer thread and return the final statistics."""
        with self._put_lock:
            self._closing = True
        with self._bell_lock:
            ring = self._wake_at != 0
            self._wake_at = 0
        if ring:
            self._doorbell.release()
        self._retry_sleep.set()
        self._worker.join(timeout_s)
        return self.stats()

    def __enter__(self) -> EventWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------- writer

    def _run(self) -> None:
        try:
            while True:
                batch = self._take()
                if not batch:
                    return
                try:
                    self._write(batch)
                except BaseException as error:
                    self._fail(batch, error)
                    return
                if not self._queue and not self._callers:
                    self._maintain()
        finally:
            self._stopped = True

    def _maintain(self) -> None:
        """Idle after an acknowledged batch, with no durable caller waiting to append
        again: the recorder's housekeeping runs now, behind no acknowledgement. Whatever
        goes wrong there is logged and the writer carries on (housekeeping must never stop
        the commits); the next commit reports a store that really broke."""
        try:
            self._recorder.maintain()
        except Exception as error:
            _log.warning("event store maintenance failed: %s", error)

    def _take(self) -> list[_Item]:
        queue = self._queue
        while self._sleep(1, -1.0):
            pass
        if self._callers > len(queue) and self._config.linger_ns:
            self._linger()
        count = min(len(queue), self._config.max_batch)
        batch = [queue.popleft() for _ in range(count)]
        if self._space_waiters:
            with self._space:
                self._space.notify_all()
        return batch

    def _linger(self) -> None:
        """Callers blocked on their acknowledgement are about to append again: wait a
        moment for them, so one commit covers them all (like PostgreSQL's commit_delay)."""
        deadline = perf_counter_ns() + self._config.linger_ns
        while True:
            remaining = deadline - perf_counter_ns()
            if remaining <= 0 or not self._sleep(self._callers, remaining / 1e9):
                return

    def _sleep(self, wanted: int, timeout_s: float) -> bool:
        """Wait until ``wanted`` items are queued (or the writer is closing) or
        ``timeout_s`` passed (-1: no limit). False at once if that is so already;
        True after waiting (the caller looks again).

        ``_wake_at`` is set before the queue is looked at, and a producer looks at
        ``_wake_at`` after it appended: whatever that look missed is rung for. Not
        under ``_put_lock``, which a producer holds while it waits for space.
        """
        with self._bell_lock:
            self._wake_at = wanted
            if len(self._queue) >= wanted or self._closing:
                self._wake_at = 0
                return False
        if self._doorbell.acquire(timeout=timeout_s):
            return True
        with self._bell_lock:
            rung = self._wake_at == 0
            self._wake_at = 0
        if rung:
            # rung between the timeout and the lock: take the ring back, so that the
            # doorbell is held again for the next wait
            self._doorbell.acquire()
        return True

    def _encode(self, batch: Sequence[_Item]) -> list[Append | Single]:
        """A message becomes a :data:`Single` (no per-event Structs), encoded straight
        into a ``bytearray``; a submitted :class:`Append` is passed on as it is."""
        encode_into = self._encoder.encode_into
        metas = self._metas
        appends: list[Append | Single] = []
        add = appends.append
        for message, stream, ts, _, _ in batch:
            meta = metas.get(type(message))
            if meta is None:
                assert isinstance(message, Append)
                add(message)
                continue
            payload = bytearray()
            encode_into(message, payload)
            add((stream or stream_of(message), meta[0], meta[1], ts, payload))
        return appends

    def _write(self, batch: list[_Item]) -> None:
        taken = len(batch)
        appends = self._encode(batch)
        try:
            outcomes = self._commit_with_retry(appends)
        except ValidationError:
            # The store refused a name before writing anything: commit the rest without
            # the items named so.
            batch, appends = self._refuse(batch, appends)
            try:
                outcomes = self._commit_with_retry(appends) if appends else []
            except ValidationError as error:
                # Refused again, for a reason not known here: the writer stops as for
                # any other error. As a StoreError: the callers still waiting asked for
                # nothing wrong, and a ValidationError would blame their input (a 422).
                raise StoreError(f"the event store refused a batch: {error}") from error
        now = perf_counter_ns()
        for (_, _, _, _, slot), outcome in zip(batch, outcomes, strict=True):
            if slot is not None:
                slot.outcome = outcome
                slot.done.release()
        record = self._ack.record
        for item in batch:
            record(now - item[3])
        for outcome in reversed(outcomes):
            if isinstance(outcome, Committed):
                self._last_position = max(self._last_position, outcome.last_position)
                break
        self._batches += 1
        self._largest = max(self._largest, taken)
        self._committed += len(batch)
        with self._done:
            self._processed += taken
            self._done.notify_all()

    def _refuse(
        self, batch: list[_Item], appends: list[Append | Single]
    ) -> tuple[list[_Item], list[Append | Single]]:
        """The items of ``batch`` whose stream name or idempotency key the store does not
        take are refused: a durable caller gets the :class:`ValidationError`, an append
        that nobody waits for is logged and counted (``WriterStats.refused``). Returns
        the rest, to commit."""
        kept: list[_Item] = []
        kept_appends: list[Append | Single] = []
        for item, append in zip(batch, appends, strict=True):
            try:
                if isinstance(append, tuple):
                    check_name("stream", append[0])
                else:
                    check_name("stream", append.stream)
                    if append.idempotency_key is not None:
                        check_name("idempotency_key", append.idempotency_key)
            except ValidationError as error:
                self._refused += 1
                slot = item[4]
                if slot is not None:
                    slot.error = error
                    slot.done.release()
                else:
                    _log.error(
                        "the event store refused %s for stream %.60r: %s",
                        type(item[0]).__name__,
                        append[0] if isinstance(append, tuple) else append.stream,
                        error,
                    )
                continue
            kept.append(item)
            kept_appends.append(append)
        return kept, kept_appends

    def _commit_with_retry(self, appends: list[Append | Single]) -> list[Outcome]:
        attempt = 0
        while True:
            try:
                outcomes = self._recorder.commit(appends, durability=self._config.durability)
            except StoreError as error:
                self.retrying = True
                if attempt >= self._config.retries:
                    raise
                attempt += 1
                self._retries += 1
                _log.warning("event store commit failed (attempt %d): %s", attempt, error)
                self._retry_sleep.wait(self._config.retry_backoff_ns * attempt / 1e9)
                continue
            self.retrying = False
            return outcomes

    def _fail(self, batch: list[_Item], error: BaseException) -> None:
        _log.error("event writer stopped: %s", error)
        # First under ``_space``, not ``_put_lock``: a producer waiting for space holds
        # ``_put_lock`` until it sees the failure (or space), so taking that lock first
        # would wait for it forever.
        with self._space:
            self._failure = error
            self._space.notify_all()
        with self._put_lock:
            pending = batch + list(self._queue)
            self._queue.clear()
        for _, _, _, _, slot in pending:
            # Not a slot answered already (a caller refused by ``_refuse``): its caller
            # may hold the lock again and be about to read its own error.
            if slot is not None and slot.error is None and slot.outcome is None:
                slot.error = error
                slot.done.release()
        with self._done:
            self._done.notify_all()

    # ------------------------------------------------------------------ statistics

    @property
    def failure(self) -> BaseException | None:
        """Why the writer stopped (None while it runs): the commit error it gave up on."""
        return self._failure

    @property
    def last_position(self) -> int:
        """The highest position this writer has seen committed."""
        return self._last_position

    def stats(self) -> WriterStats:
        return WriterStats(
            appended=self._tickets,
            committed=self._committed,
            batches=self._batches,
            largest_batch=self._largest,
            queue_depth=len(self._queue),
            queue_peak=self._peak,
            capacity=self._config.capacity,
            backpressure_waits=self._waits,
            retries=self._retries,
            refused=self._refused,
            ack_p50_ns=self._ack.percentile(0.5),
            ack_p99_ns=self._ack.percentile(0.99),
            ack_max_ns=self._ack.max,
            last_position=self._last_position,
            durability=str(self._config.durability),
            failed=self._failure is not None,
        )

    def busy(self) -> bool:
        """Whether the writer thread has work: something queued, or a batch or the
        store's housekeeping in progress (a hint, read without a lock)."""
        return not self._stopped and (self._wake_at != 1 or bool(self._queue))

    def ack_histogram(self) -> LatencyHistogram:
        """Append-to-acknowledgement latency of every committed item."""
        return self._ack
