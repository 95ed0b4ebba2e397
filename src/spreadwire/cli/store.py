"""``spreadwire store stress``: append from N threads and print every acknowledged position.

Each writer thread appends one event at a time through the group-commit writer and,
as soon as the commit covering it returns, prints the event's global position on its own
line (stdout is line buffered). A harness may kill the process with SIGKILL at any
moment: every position already printed must be in the store after reopening.
"""

from __future__ import annotations

import argparse
import sys
import threading
from typing import Any

from spreadwire.cli.args import bounded_int, positive_float, store_url
from spreadwire.cli.stores import open_recorder
from spreadwire.core.clock import LiveClock, perf_counter_ns
from spreadwire.domain.events import OrderAccepted
from spreadwire.errors import ConfigError
from spreadwire.eventstore.records import Durability
from spreadwire.eventstore.writer import EventWriter

STRESS_STRATEGY = "stress"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("store", help="event store tools")
    actions = parser.add_subparsers(dest="store_command", metavar="ACTION", required=True)
    stress = actions.add_parser(
        "stress", help="append from N writers, printing each acknowledged global position"
    )
    stress.add_argument("--store", type=store_url, required=True, help="event store URL")
    stress.add_argument("--writers", type=bounded_int(1, 256), default=4, help="threads")
    stress.add_argument(
        "--seconds", type=positive_float(86_400), default=10.0, help="how long to run"
    )
    stress.add_argument(
        "--durability",
        choices=[d.value for d in Durability],
        default=Durability.DURABLE.value,
        help="acknowledge after fsync (durable, default) or after the OS has it (relaxed)",
    )
    stress.set_defaults(handler=run_stress)


def stress_event(writer_id: int, sequence: int, ts: int) -> OrderAccepted:
    """The event writer ``writer_id`` appends as its ``sequence``-th (checkable later)."""
    return OrderAccepted(
        strategy_id=STRESS_STRATEGY,
        instrument_id="STRESS.SIM",
        client_order_id=f"stress-{writer_id}",
        venue_order_id=str(sequence),
        ts_event=ts,
        ts_init=ts,
    )


def run_stress(args: argparse.Namespace) -> int:
    if args.store.startswith("memory://"):
        raise ConfigError(
            f"--store: {args.store} keeps nothing once the process ends, so no printed"
            " position could be found again; name a sqlite:/// or postgresql:// store"
        )
    durability = Durability(args.durability)
    out = sys.stdout
    if hasattr(out, "reconfigure"):
        out.reconfigure(line_buffering=True)
    clock = LiveClock()
    recorder = open_recorder(args.store, must_exist=False)
    if durability is Durability.RELAXED:
        sys.stderr.write(
            "stress: relaxed durability: a position is printed once the operating system"
            " has it (it survives a process crash, not a power cut)\n"
        )
    writer = EventWriter(recorder, clock=clock, durability=durability)
    deadline = perf_counter_ns() + int(args.seconds * 1e9)
    lock = threading.Lock()
    counts = [0] * args.writers
    errors: list[BaseException] = []
    stop = threading.Event()

    def work(writer_id: int) -> None:
        sequence = 0
        try:
            while perf_counter_ns() < deadline and not errors and not stop.is_set():
                position = writer.append_durable(
                    stress_event(writer_id, sequence, clock.timestamp_ns())
                )
                with lock:
                    out.write(f"{position}\n")
                sequence += 1
        except Exception as error:  # a store failure, a closed pipe: reported below
            errors.append(error)
        finally:
            counts[writer_id] = sequence

    threads = [threading.Thread(target=work, args=(n,)) for n in range(args.writers)]
    for thread in threads:
        thread.start()
    interrupted = _join(threads, stop)
    stats = writer.close()
    recorder.close()
    sys.stderr.write(
        f"stress: {sum(counts)} acknowledged ({durability}), {stats.batches} commits,"
        f" ack p50 {stats.ack_p50_ns / 1e3:.0f} us p99 {stats.ack_p99_ns / 1e3:.0f} us\n"
    )
    if interrupted:
        raise KeyboardInterrupt
    if errors:
        raise errors[0]
    return 0


def _join(threads: list[threading.Thread], stop: threading.Event) -> bool:
    """Wait for the writer threads; True if Ctrl-C stopped them. Ctrl-C reaches only this
    thread: the writers went on appending (and the process did not exit) until --seconds
    ran out. Each stops after the append it is waiting for, which it prints."""
    try:
        for thread in threads:
            thread.join()
    except KeyboardInterrupt:
        stop.set()
        for thread in threads:
            thread.join()
        return True
    return False
