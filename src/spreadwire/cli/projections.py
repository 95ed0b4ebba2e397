"""``spreadwire projections``: build the read models from the log.

* ``projections rebuild --store URL [--read-models URL]``: rebuild the read models from
  position 0 up to the head, aside, and swap them in when complete.
* ``projections catch-up --store URL [--read-models URL]``: apply what is new (exit 1
  when a read model is ahead of the log).
* ``projections status --store URL [--read-models URL]``: tracking positions vs the head
  (read only; exit 1 when a read model is ahead of the log).
"""

from __future__ import annotations

import argparse
from typing import Any

from spreadwire.cli.args import store_url
from spreadwire.cli.meter import Meter
from spreadwire.cli.stores import existing_read_models, open_models, open_recorder
from spreadwire.core.clock import perf_counter_ns
from spreadwire.eventstore.projection import ProjectionRunner, ReadModelStore
from spreadwire.eventstore.readmodels import standard_projections
from spreadwire.eventstore.recorder import Recorder
from spreadwire.persistence.store import default_read_models_url, redact


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("projections", help="build the read models from the log")
    actions = parser.add_subparsers(dest="projections_command", metavar="ACTION", required=True)
    for name, handler, text in (
        ("rebuild", run_rebuild, "rebuild the read models from the log and swap them in"),
        ("catch-up", run_catch_up, "apply the entries the read models have not seen"),
        ("status", run_status, "print each projection's tracking position and the head"),
    ):
        action = actions.add_parser(name, help=text)
        action.add_argument("--store", type=store_url, required=True, help="event store URL")
        action.add_argument(
            "--read-models",
            type=store_url,
            default=None,
            help="read-model store URL (default: beside a SQLite log, else the same database)",
        )
        action.set_defaults(handler=handler)


def _open(args: argparse.Namespace) -> tuple[Recorder, ReadModelStore]:
    """The log (which must exist) and the read models (created when needed)."""
    recorder = open_recorder(args.store)
    try:
        if args.read_models:
            return recorder, open_models(args.read_models, "--read-models")
        return recorder, open_models(default_read_models_url(args.store), "--store")
    except BaseException:
        recorder.close()
        raise


def _run(args: argparse.Namespace, *, rebuild: bool) -> int:
    recorder, store = _open(args)
    try:
        runner = ProjectionRunner(recorder, store, standard_projections())
        started = perf_counter_ns()
        before = 0 if rebuild else runner.position()
        head = recorder.last_position()
        with Meter() as meter:
            step = meter.stage("applying", head)
            # a rebuild goes up to the head read when it began: chasing the entries a node
            # keeps appending, it never ended while they came faster than it applied them
            # (the node's runner goes on from the rebuilt positions after the swap)
            position = (
                runner.rebuild(head, progress=step) if rebuild else runner.catch_up(progress=step)
            )
        if not rebuild:
            # read models ahead of the log apply nothing, and "caught up to position 3,147"
            # beside a log of 374 entries said all was well (status says so, exit 1)
            head = recorder.last_position()
            ahead = _ahead(store.tracking(), head)
            if ahead is not None:
                print(f"head {head}\n{ahead}")
                return 1
        seconds = (perf_counter_ns() - started) / 1e9
        applied = position - before
        rate = applied / seconds if seconds > 0 else 0.0
        verb = "rebuilt" if rebuild else "caught up"
        print(
            f"{verb} {len(standard_projections())} projections to position {position}"
            f" ({applied} entries in {seconds:.2f} s, {rate:,.0f}/s) in {store.url}"
        )
    finally:
        store.close()
        recorder.close()
    return 0


def run_rebuild(args: argparse.Namespace) -> int:
    return _run(args, rebuild=True)


def run_catch_up(args: argparse.Namespace) -> int:
    return _run(args, rebuild=False)


def run_status(args: argparse.Namespace) -> int:
    """Each projection's position against the head; nothing is created or changed.

    Exit 0 when the read models are at or behind the log (or there are none yet), 1 when
    one is ahead of it: built from another log, or from this one before it lost its tail.
    """
    recorder = open_recorder(args.store)
    try:
        head = recorder.last_position()
        option = "--read-models" if args.read_models else "--store"
        url = args.read_models or default_read_models_url(args.store)
        store = existing_read_models(url, option)
        print(f"head {head}")
        if store is None:
            print(f"no read models at {redact(url)}: `spreadwire projections rebuild` builds them")
            return 0
        try:
            tracking = store.tracking()
        finally:
            store.close()
    finally:
        recorder.close()
    for projection in standard_projections():
        position = tracking.get(projection.name, 0)
        state = (
            f"ahead of the log by {position - head}"
            if position > head
            else f"behind {head - position}"
        )
        print(f"{projection.name:<12} {position:>12}  {state}")
    ahead = _ahead(tracking, head)
    if ahead is not None:
        print(ahead)
        return 1
    return 0


def _ahead(tracking: dict[str, int], head: int) -> str | None:
    """The line naming the standard projections past the log's head; None when none is."""
    names = [p.name for p in standard_projections() if tracking.get(p.name, 0) > head]
    if not names:
        return None
    return (
        f"{', '.join(names)}: past the log's head, so built from another log or from"
        " entries this one no longer holds; `spreadwire projections rebuild` rebuilds them"
    )
