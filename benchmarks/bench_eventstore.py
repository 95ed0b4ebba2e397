"""Event store throughput and latency, beside the ``eventsourcing`` library in the same run.

Measured (all durable unless named otherwise: SQLite WAL synchronous=FULL, PostgreSQL
synchronous_commit=on):

* SQLite, single-event callers through group commit: the saturated rate of one producer
  appending as fast as it can (``sqlite_durable_eps``), and an open-loop run offering
  50,000 events/s in 1 ms bursts (``sqlite_offered_eps``, ``sqlite_ack_p50_us``,
  ``sqlite_ack_p99_us``: append to acknowledgement). Reference: ``eventsourcing``'s
  ``SQLiteApplicationRecorder.insert_events`` with one event per call
  (``vs_eventsourcing_sqlite`` = ours / theirs).
* PostgreSQL with 4 writer threads, each waiting for its own durable acknowledgement
  (``postgres_4w_eps``), against ``eventsourcing``'s ``PostgresApplicationRecorder`` with
  4 threads (``vs_eventsourcing_postgres``). Skipped (null) when the server is down.
* Catch-up read of the SQLite log, decoded into domain messages (``catchup_eps``), and a
  full rebuild of the standard read models (``rebuild_eps``).
* Live tail: commit to subscriber wake-up in process (``tail_wake_p99_us``).
* The hand-off, the producer's side of ``append`` to an idle writer (p50, ns): the first
  append of a burst, which wakes the writer (``append_first_ns``), against the bare
  price of waking a thread blocked on a lock (``wake_reference_ns``;
  ``append_first_vs_wake`` = the first / the second), and each append of a burst of 50
  (``append_burst50_ns``).
* The floor: a raw 4 KB write + ``fdatasync`` on the same file system
  (``fdatasync_p50_us``, ``fdatasync_p99_us``), back to back; and the same disk at the
  offered load's cadence, one commit-sized write (44 KB) + ``fdatasync`` per millisecond
  with nothing else running (``fdatasync_paced_p50_us``, ``fdatasync_paced_p99_us``): a
  virtual disk is far slower for a flush that arrives alone than for one in a stream, and
  no store acknowledging each 1 ms burst durably can beat this p99. And the
  reference for the acknowledgement latency, under the same offered load in slices
  alternating with the store's (six of each): a writer thread with no CPU cost of its
  own that writes and ``fdatasync``s what is queued (``floor_ack_p50_us``, ``floor_ack_p99_us``;
  ``sqlite_ack_p99_vs_floor`` = ``sqlite_ack_p99_us`` / ``floor_ack_p99_us``).
* The other side of the same load, in a third slice after each pair: the store in the
  named relaxed mode (``synchronous=NORMAL``: no sync in a commit, only in checkpoints),
  so everything but the commit's sync (``sqlite_relaxed_ack_p50_us``,
  ``sqlite_relaxed_ack_p99_us``). The durable p99 cannot be below the larger of the floor
  and this.
* The writer, the planner and stream naming are compiled with mypyc (``setup.py``):
  ``sqlite_durable_eps_interpreted`` is the saturated SQLite run with the three run from
  their sources, in the same run (``compiled_vs_interpreted`` = ``sqlite_durable_eps`` /
  it).

    python benchmarks/bench_eventstore.py [--seconds 3] [--json]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import sys
import tempfile
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg

from interpreted import interpreted
from spreadwire.core.clock import perf_counter_ns
from spreadwire.core.histogram import LatencyHistogram
from spreadwire.domain.events import OrderAccepted
from spreadwire.eventstore.projection import ProjectionRunner
from spreadwire.eventstore.readmodels import standard_projections
from spreadwire.eventstore.recorder import Recorder
from spreadwire.eventstore.writer import EventWriter
from spreadwire.persistence import open_store
from spreadwire.persistence.store import open_read_models

POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
OFFERED_EPS = 50_000
STREAMS = 1_000


def messages(count: int) -> list[OrderAccepted]:
    return [
        OrderAccepted(
            strategy_id="bench",
            instrument_id="AAA.SIM",
            client_order_id=f"O-{n % STREAMS}",
            venue_order_id=f"V{n}",
            ts_event=n,
            ts_init=n,
        )
        for n in range(count)
    ]


def saturated(
    recorder: Recorder, batch: list[OrderAccepted], writer_class: Any = EventWriter
) -> float:
    """One producer appending as fast as it can; events/s until all are durable."""
    writer = writer_class(recorder)
    started = perf_counter_ns()
    for message in batch:
        writer.append(message)
    writer.flush()
    elapsed = perf_counter_ns() - started
    writer.close()
    return len(batch) / (elapsed / 1e9)


def offer(
    append: Callable[[OrderAccepted], object], batch: list[OrderAccepted], rate: int, seconds: float
) -> int:
    """Call ``append`` ``rate`` times a second in 1 ms bursts for ``seconds``; the count."""
    total = int(rate * seconds)
    tick = 1_000_000
    sent = 0
    started = perf_counter_ns()
    while sent < total:
        now = perf_counter_ns()
        due = min(total, int((now - started) * rate / 1e9) + 1)
        while sent < due:
            append(batch[sent % len(batch)])
            sent += 1
        wake = started + ((now - started) // tick + 1) * tick
        time.sleep(max(0.0, (wake - perf_counter_ns()) / 1e9))
    return total


def offered(
    recorder: Recorder,
    batch: list[OrderAccepted],
    rate: int,
    seconds: float,
    *,
    floor: SyncFloor | None = None,
    relaxed: Recorder | None = None,
    rounds: int = 6,
) -> dict[str, float]:
    """Offer ``rate`` events/s in 1 ms bursts for ``seconds``; achieved rate and ack latency.

    With a ``floor`` (and a ``relaxed`` store), the time is cut into ``rounds`` slices,
    each followed by a slice of the same length offered to the floor (and one to the
    relaxed store) instead, so that all see the same stretch of the host's weather (a
    slow window of the disk lasts seconds)."""
    writer = EventWriter(recorder)
    second = EventWriter(relaxed, durability="relaxed") if relaxed is not None else None
    slices = rounds if floor is not None or second is not None else 1
    total = 0
    busy = 0
    for _ in range(slices):
        started = perf_counter_ns()
        total += offer(writer.append, batch, rate, seconds / slices)
        writer.flush()
        busy += perf_counter_ns() - started
        if floor is not None:
            offer(floor.append, batch, rate, seconds / slices)
            floor.drain()
        if second is not None:
            offer(second.append, batch, rate, seconds / slices)
            second.flush()
    stats = writer.close()
    result = {
        "eps": total / (busy / 1e9),
        "p50_us": stats.ack_p50_ns / 1e3,
        "p99_us": stats.ack_p99_ns / 1e3,
        "max_us": stats.ack_max_ns / 1e3,
        "commits": stats.batches,
    }
    if second is not None:
        stats = second.close()
        result["relaxed_p50_us"] = stats.ack_p50_ns / 1e3
        result["relaxed_p99_us"] = stats.ack_p99_ns / 1e3
    return result


class SyncFloor:
    """The disk's own acknowledgement latency under the same offered load: one thread
    writes everything queued (4 KB per 5 events, about what a commit adds to the WAL,
    overwriting a 4 MB region in place as the restarted WAL does) and ``fdatasync``s it,
    then acknowledges it. No encoding, no SQLite, no Python work per event but a deque
    append, and the same hand-off as the event writer's (a doorbell rung once per wait):
    what a store with no CPU cost of its own would reach on this file system."""

    REGION = 4 << 20

    def __init__(self, path: Path) -> None:
        self.ack = LatencyHistogram("floor_ack")
        self._descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        os.pwrite(self._descriptor, bytes(self.REGION), 0)
        os.fsync(self._descriptor)
        self._queue: deque[int] = deque()
        self._bell = threading.Lock()
        self._bell.acquire()
        self._bell_lock = threading.Lock()
        self._waiting = False
        self._acked = threading.Condition()
        self._appended = 0
        self._acknowledged = 0
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="sync-floor")
        self._thread.start()

    def append(self, _message: object) -> None:
        self._queue.append(perf_counter_ns())
        self._appended += 1
        if self._waiting:
            self._ring()

    def _ring(self) -> None:
        with self._bell_lock:
            ring, self._waiting = self._waiting, False
        if ring:
            self._bell.release()

    def drain(self) -> None:
        """Return once everything appended so far is acknowledged."""
        target = self._appended
        with self._acked:
            self._acked.wait_for(lambda: self._acknowledged >= target)

    def _sleep(self) -> None:
        """Wait until something is queued or the floor is closing."""
        with self._bell_lock:
            self._waiting = True
            if self._queue or self._closing:
                self._waiting = False
                return
        self._bell.acquire()

    def _run(self) -> None:
        queue, record, offset = self._queue, self.ack.record, 0
        while True:
            self._sleep()
            if not queue:
                break
            stamps = [queue.popleft() for _ in range(len(queue))]
            block = bytes(4_096 * (len(stamps) // 5 + 1))
            if offset + len(block) > self.REGION:
                offset = 0
            os.pwrite(self._descriptor, block, offset)
            offset += len(block)
            os.fdatasync(self._descriptor)
            now = perf_counter_ns()
            for stamp in stamps:
                record(now - stamp)
            with self._acked:
                self._acknowledged += len(stamps)
                self._acked.notify_all()

    def close(self) -> None:
        self._closing = True
        self._ring()
        self._thread.join()
        os.close(self._descriptor)


def threaded(writers: int, seconds: float, call: Callable[[int, int], object]) -> float:
    """``writers`` threads calling ``call(thread, n)`` in a loop; completed calls/s."""
    counts = [0] * writers
    deadline = perf_counter_ns() + int(seconds * 1e9)

    def work(thread: int) -> None:
        n = 0
        while perf_counter_ns() < deadline:
            call(thread, n)
            n += 1
        counts[thread] = n

    threads = [threading.Thread(target=work, args=(t,)) for t in range(writers)]
    started = perf_counter_ns()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / ((perf_counter_ns() - started) / 1e9)


def ours_durable_threads(recorder: Recorder, writers: int, seconds: float) -> float:
    writer = EventWriter(recorder)
    batch = messages(10_000)
    rate = threaded(
        writers, seconds, lambda t, n: writer.append_durable(batch[(t * 997 + n) % 10_000])
    )
    writer.close()
    return rate


def eventsourcing_rate(recorder: Any, writers: int, seconds: float) -> float:
    from eventsourcing.persistence import StoredEvent

    state = bytes(150)

    def insert(thread: int, n: int) -> None:
        event = StoredEvent(
            originator_id=uuid.uuid4(), originator_version=1, topic="bench:Event", state=state
        )
        recorder.insert_events([event])

    return threaded(writers, seconds, insert)


def eventsourcing_sqlite(path: Path, seconds: float) -> float:
    from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteDatastore

    datastore = SQLiteDatastore(str(path))
    recorder = SQLiteApplicationRecorder(datastore)
    recorder.create_table()
    try:
        return eventsourcing_rate(recorder, 1, seconds)
    finally:
        datastore.close()


def eventsourcing_postgres(dbname: str, writers: int, seconds: float) -> float:
    from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore

    datastore = PostgresDatastore(
        dbname, "127.0.0.1", 5432, "postgres", "", pool_size=writers, max_overflow=0
    )
    recorder = PostgresApplicationRecorder(datastore)
    recorder.create_table()
    try:
        return eventsourcing_rate(recorder, writers, seconds)
    finally:
        datastore.close()


def catch_up(recorder: Recorder) -> float:
    started = perf_counter_ns()
    count = sum(1 for _ in recorder.read())
    return count / ((perf_counter_ns() - started) / 1e9)


def rebuild(recorder: Recorder) -> float:
    store = open_read_models("memory://")
    started = perf_counter_ns()
    position = ProjectionRunner(recorder, store, standard_projections()).rebuild()
    elapsed = perf_counter_ns() - started
    store.close()
    return position / (elapsed / 1e9)


def tail_wake(recorder: Recorder, samples: int) -> LatencyHistogram:
    """Commit (signal published) to a waiting subscriber running again."""
    histogram = LatencyHistogram("tail_wake")
    signal = recorder._signal  # type: ignore[attr-defined]
    position = recorder.last_position()
    ready = threading.Event()
    done = threading.Event()

    def follow() -> None:
        seen = position
        ready.set()
        while seen < position + samples:
            seen = recorder.wait_for(seen, 5.0)
            histogram.record(perf_counter_ns() - signal.published_ns)
        done.set()

    follower = threading.Thread(target=follow)
    follower.start()
    ready.wait()
    writer = EventWriter(recorder)
    for message in messages(samples):
        writer.append_durable(message)
        time.sleep(0.0002)
    done.wait(30)
    follower.join()
    writer.close()
    return histogram


def handoff(burst: int, rounds: int = 2_000) -> float:
    """The producer's cost per ``append`` (ns, p50 over ``rounds``) when a burst of
    ``burst`` messages reaches an idle writer (in-memory store): what the hot path pays
    to hand events over. The first append of a burst wakes the writer."""
    batch = messages(burst * 8)
    writer = EventWriter(open_store("memory://"))
    costs: list[float] = []
    for n in range(rounds):
        writer.flush()
        time.sleep(0.0002)  # the writer goes back to waiting
        start = (n % 8) * burst
        chunk = batch[start : start + burst]
        append = writer.append
        started = perf_counter_ns()
        for message in chunk:
            append(message)
        costs.append((perf_counter_ns() - started) / burst)
    writer.close()
    costs.sort()
    return costs[len(costs) // 2]


def wake_reference(rounds: int = 2_000) -> float:
    """The reference for a hand-off: waking a thread blocked on a lock, i.e. the
    operating system's price of one wake-up (ns, p50), with no queue or Python work."""
    bell, back = threading.Lock(), threading.Lock()
    bell.acquire()
    back.acquire()
    stop = False

    def wait() -> None:
        while True:
            bell.acquire()
            back.release()
            if stop:
                return

    waiter = threading.Thread(target=wait)
    waiter.start()
    costs: list[int] = []
    for n in range(rounds + 1):
        time.sleep(0.0002)
        stop = n == rounds
        started = perf_counter_ns()
        bell.release()
        costs.append(perf_counter_ns() - started)
        back.acquire()
    waiter.join()
    costs.sort()
    return float(costs[len(costs) // 2])


def fsync_reference(folder: Path, samples: int = 1_000) -> LatencyHistogram:
    """The floor: one 4 KB write plus fdatasync on the same file system, per sample."""
    histogram = LatencyHistogram("fdatasync")
    descriptor = os.open(folder / "fsync.probe", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        block = bytes(4_096)
        for _ in range(samples):
            os.write(descriptor, block)
            started = perf_counter_ns()
            os.fdatasync(descriptor)
            histogram.record(perf_counter_ns() - started)
    finally:
        os.close(descriptor)
    return histogram


def paced_fsync_reference(
    folder: Path, samples: int = 2_000, interval_s: float = 0.001, size: int = 45_056
) -> LatencyHistogram:
    """The disk alone at the offered load's cadence: one write of a commit's size (what
    the floor writes for a 50-event burst) plus ``fdatasync``, issued once per ``interval_s``
    from one thread with nothing else running. Back to back (``fsync_reference``) a virtual
    disk answers far faster than when each flush arrives alone, as a commit per burst does;
    this is the latency no store acknowledging each burst durably can beat."""
    histogram = LatencyHistogram("fdatasync_paced")
    descriptor = os.open(folder / "paced.probe", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        os.pwrite(descriptor, bytes(SyncFloor.REGION), 0)
        os.fsync(descriptor)
        block, offset = bytes(size), 0
        for _ in range(samples):
            if offset + size > SyncFloor.REGION:
                offset = 0
            started = perf_counter_ns()
            os.pwrite(descriptor, block, offset)
            os.fdatasync(descriptor)
            histogram.record(perf_counter_ns() - started)
            offset += size
            time.sleep(interval_s)
    finally:
        os.close(descriptor)
    return histogram


def postgres_database() -> str | None:
    name = f"sw_bench_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(POSTGRES_ADMIN, autocommit=True, connect_timeout=3) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError:
        return None
    return name


def drop_database(name: str) -> None:
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def interpreted_store(url: str) -> tuple[Any, Any]:
    """A store whose planner, and an ``EventWriter`` class whose stream naming, run from
    their sources (the compiled modules interpreted, for the same-run comparison)."""
    writer = interpreted("spreadwire.eventstore.writer")
    writer.stream_of = interpreted("spreadwire.eventstore.streams").stream_of
    store = open_store(url)
    store._planner = interpreted("spreadwire.eventstore.planner").BatchPlanner()  # type: ignore[attr-defined]
    return store, writer.EventWriter


def bench_sqlite(folder: Path, seconds: float, results: dict[str, Any]) -> None:
    batch = messages(200_000)
    gc.collect()
    gc.freeze()
    # The reference right before ours (nothing of ours open or running meanwhile), so the
    # ratio compares two rates taken seconds apart, not at both ends of the SQLite phase.
    results["eventsourcing_sqlite_eps"] = eventsourcing_sqlite(folder / "es.db", seconds)
    store = open_store(f"sqlite:///{folder / 'saturated.db'}")
    results["sqlite_durable_eps"] = saturated(store, batch)
    results["catchup_eps"] = catch_up(store)
    results["rebuild_eps"] = rebuild(store)
    store.close()
    store, writer_class = interpreted_store(f"sqlite:///{folder / 'interpreted.db'}")
    results["sqlite_durable_eps_interpreted"] = saturated(store, batch, writer_class)
    store.close()
    store = open_store(f"sqlite:///{folder / 'offered.db'}")
    # The reference for the acknowledgement latency, in alternate slices of the same
    # stretch of time: the bare disk under the same load.
    relaxed = open_store(f"sqlite:///{folder / 'offered-relaxed.db'}")
    floor = SyncFloor(folder / "floor.probe")
    run = offered(store, batch, OFFERED_EPS, seconds, floor=floor, relaxed=relaxed)
    floor.close()
    relaxed.close()
    store.close()
    results["sqlite_offered_eps"] = run["eps"]
    results["sqlite_ack_p50_us"] = run["p50_us"]
    results["sqlite_ack_p99_us"] = run["p99_us"]
    results["sqlite_ack_max_us"] = run["max_us"]
    floor_ack = floor.ack
    results["floor_ack_p50_us"] = floor_ack.percentile(0.5) / 1e3
    results["floor_ack_p99_us"] = floor_ack.percentile(0.99) / 1e3
    results["sqlite_ack_p99_vs_floor"] = run["p99_us"] / results["floor_ack_p99_us"]
    results["sqlite_relaxed_ack_p50_us"] = run["relaxed_p50_us"]
    results["sqlite_relaxed_ack_p99_us"] = run["relaxed_p99_us"]
    store = open_store(f"sqlite:///{folder / 'offered10k.db'}")
    run = offered(store, batch, 10_000, seconds)
    store.close()
    results["sqlite_ack_p50_us_at_10k"] = run["p50_us"]
    results["sqlite_ack_p99_us_at_10k"] = run["p99_us"]
    floor = fsync_reference(folder)
    results["fdatasync_p50_us"] = floor.percentile(0.5) / 1e3
    results["fdatasync_p99_us"] = floor.percentile(0.99) / 1e3
    paced = paced_fsync_reference(folder)
    results["fdatasync_paced_p50_us"] = paced.percentile(0.5) / 1e3
    results["fdatasync_paced_p99_us"] = paced.percentile(0.99) / 1e3
    store = open_store(f"sqlite:///{folder / 'relaxed.db'}")
    writer = EventWriter(store, durability="relaxed")
    started = perf_counter_ns()
    for message in batch[:100_000]:
        writer.append(message)
    writer.flush()
    results["sqlite_relaxed_eps"] = 100_000 / ((perf_counter_ns() - started) / 1e9)
    writer.close()
    results["tail_wake_p99_us"] = tail_wake(store, 2_000).percentile(0.99) / 1e3
    store.close()
    results["memory_eps"] = saturated(open_store("memory://"), batch)
    results["vs_eventsourcing_sqlite"] = (
        results["sqlite_durable_eps"] / results["eventsourcing_sqlite_eps"]
    )
    results["compiled_vs_interpreted"] = (
        results["sqlite_durable_eps"] / results["sqlite_durable_eps_interpreted"]
    )


def bench_postgres(seconds: float, results: dict[str, Any]) -> None:
    ours = postgres_database()
    if ours is None:
        results["postgres"] = "unavailable"
        return
    theirs = postgres_database()
    assert theirs is not None
    try:
        store = open_store(f"postgresql://postgres@127.0.0.1:5432/{ours}")
        results["postgres_4w_eps"] = ours_durable_threads(store, 4, seconds)
        results["postgres_catchup_eps"] = catch_up(store)
        store.close()
        results["eventsourcing_postgres_4w_eps"] = eventsourcing_postgres(theirs, 4, seconds)
        results["vs_eventsourcing_postgres"] = (
            results["postgres_4w_eps"] / results["eventsourcing_postgres_4w_eps"]
        )
    finally:
        drop_database(ours)
        drop_database(theirs)


def machine() -> str:
    model = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{model}, {os.cpu_count()} CPUs, Python {platform.python_version()}"


def cpu_times() -> list[int]:
    """The machine's aggregate CPU tick counters (/proc/stat), empty when unavailable."""
    stat = Path("/proc/stat")
    if not stat.exists():
        return []
    return [int(v) for v in stat.read_text().splitlines()[0].split()[1:]]


def steal_percent(before: list[int], after: list[int]) -> float | None:
    """Share of CPU time the hypervisor gave to other guests between two samples: how
    busy the host was while this benchmark ran (absolute figures drop with it)."""
    if len(before) < 8 or len(after) < 8:
        return None
    total = sum(after) - sum(before)
    return 100.0 * (after[7] - before[7]) / total if total else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="length of each timed run")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    results: dict[str, Any] = {"machine": machine()}
    before = cpu_times()
    with tempfile.TemporaryDirectory(prefix="bench-eventstore-") as folder:
        bench_sqlite(Path(folder), args.seconds, results)
    bench_postgres(args.seconds, results)
    results["append_first_ns"] = handoff(1)
    results["wake_reference_ns"] = wake_reference()
    results["append_first_vs_wake"] = results["append_first_ns"] / results["wake_reference_ns"]
    results["append_burst50_ns"] = handoff(50)
    results["cpu_steal_pct"] = steal_percent(before, cpu_times())
    results["load_average_1m"] = os.getloadavg()[0]
    if args.json:
        print(
            json.dumps({k: round(v, 2) if isinstance(v, float) else v for k, v in results.items()})
        )
    else:
        for key, value in results.items():
            shown = f"{value:,.1f}" if isinstance(value, float) else value
            print(f"{key:<32} {shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
