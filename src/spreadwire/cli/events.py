"""``spreadwire events``: inspect and verify the event log.

* ``events last --store URL``: print the highest stored global position.
* ``events verify --store URL [--read-models URL]``: check positions, stream versions,
  per-entry checksums, payloads, SQLite's links to each stream's previous entry and the
  torn tail, then that the read models equal a rebuild; exit 0 when sound, 1 with the
  differences listed.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from spreadwire.cli.args import store_url
from spreadwire.cli.meter import Meter
from spreadwire.cli.stores import existing_read_models, open_models, open_recorder
from spreadwire.eventstore.compare import MAX_LISTED, compare_read_models, read_model_lag
from spreadwire.eventstore.projection import ReadModelStore
from spreadwire.eventstore.readmodels import standard_projections
from spreadwire.eventstore.recorder import Recorder
from spreadwire.eventstore.verify import verify_log
from spreadwire.persistence.store import default_read_models_url


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("events", help="inspect and verify the event log")
    commands = parser.add_subparsers(dest="events_command", metavar="ACTION", required=True)
    last = commands.add_parser("last", help="print the highest stored global position")
    last.add_argument("--store", type=store_url, required=True, help="event store URL")
    last.set_defaults(handler=run_last)
    verify = commands.add_parser(
        "verify", help="check the log and that the read models equal a rebuild"
    )
    verify.add_argument("--store", type=store_url, required=True, help="event store URL")
    verify.add_argument(
        "--read-models",
        type=store_url,
        default=None,
        help="read-model store URL (default: beside the log); 'none' is not accepted,"
        " use --skip-read-models",
    )
    verify.add_argument("--skip-read-models", action="store_true", help="check the log only")
    verify.set_defaults(handler=run_verify)


def run_last(args: argparse.Namespace) -> int:
    recorder = open_recorder(args.store)
    try:
        print(recorder.last_position())
    finally:
        recorder.close()
    return 0


def _check_read_models(
    recorder: Recorder, live: ReadModelStore, option: str, meter: Meter
) -> tuple[list[str], int]:
    """The differences from a rebuild, and how far the read models are behind the log."""
    scratch = open_models("memory://", option)

    def progress(name: str, position: int, tracked: int) -> None:
        meter.update(f"rebuilding {name} to compare", position, tracked)

    try:
        differences = compare_read_models(recorder, live, scratch, standard_projections(), progress)
        return differences, read_model_lag(recorder, live)
    finally:
        scratch.close()


def _write_differences(out: TextIO, differences: list[str], lag: int) -> None:
    """The total number of differences, the first ``MAX_LISTED`` of them, and the lag."""
    behind = (
        f" (they have not applied the last {lag} entries of the log yet: spreadwire"
        " projections catch-up)"
        if lag
        else ""
    )
    out.write(f"read models: {len(differences)} differences from a rebuild{behind}\n")
    for line in differences[:MAX_LISTED]:
        out.write(f"  {line}\n")
    if len(differences) > MAX_LISTED:
        out.write(f"  ... {len(differences) - MAX_LISTED} more\n")


def run_verify(args: argparse.Namespace) -> int:
    recorder = open_recorder(args.store, repair=False)
    meter = Meter()
    try:
        report = verify_log(recorder, meter.stage("checking the log", recorder.last_position()))
        out = sys.stdout
        out.write(
            f"log: {report.entries} entries, {report.streams} streams, head {report.head},"
            f" {report.problems} problems\n"
        )
        for line in report.details:
            out.write(f"  {line}\n")
        differences: list[str] = []
        url = args.read_models or default_read_models_url(args.store)
        option = "--read-models" if args.read_models else "--store"
        live = None if args.skip_read_models else existing_read_models(url, option)
        if args.skip_read_models:
            out.write("read models: skipped\n")
        elif live is None:
            out.write(f"read models: none at {url}, nothing to compare\n")
        else:
            try:
                differences, lag = _check_read_models(recorder, live, option, meter)
            finally:
                live.close()
            _write_differences(out, differences, lag)
    finally:
        meter.close()
        recorder.close()
    sound = report.sound and not differences
    out.write("sound\n" if sound else "NOT sound\n")
    return 0 if sound else 1
