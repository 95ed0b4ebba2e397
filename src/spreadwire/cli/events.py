"""``spreadwire events``: inspect and verify the event log.

* ``events last --store URL``: print the highest stored global position.
* ``events verify --store URL [--read-models URL]``: check positions, stream versions,
  per-entry checksums and the torn tail, then that the read models equal a rebuild;
  exit 0 when sound, 1 with the differences listed.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from spreadwire.cli.args import store_url
from spreadwire.errors import ConfigError
from spreadwire.eventstore.compare import compare_read_models
from spreadwire.eventstore.readmodels import standard_projections
from spreadwire.eventstore.recorder import Recorder
from spreadwire.eventstore.verify import verify_log
from spreadwire.persistence.store import (
    default_read_models_url,
    open_read_models,
    open_store,
    sqlite_path,
)


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


def open_existing(url: str, *, repair: bool = True) -> Recorder:
    """Open a store that must already exist (a SQLite file is not created by accident)."""
    if url.startswith("sqlite:") and not sqlite_path(url).exists():
        raise ConfigError(f"--store: no event store at {sqlite_path(url)}")
    return open_store(url, repair=repair)


def run_last(args: argparse.Namespace) -> int:
    recorder = open_existing(args.store)
    try:
        print(recorder.last_position())
    finally:
        recorder.close()
    return 0


def _read_models_exist(url: str) -> bool:
    if url.startswith("memory://"):
        return False
    if url.startswith("sqlite:"):
        return sqlite_path(url).exists()
    store = open_read_models(url)
    try:
        return bool(store.tracking())
    finally:
        store.close()


def _check_read_models(recorder: Recorder, url: str) -> list[str]:
    live = open_read_models(url)
    scratch = open_read_models("memory://")
    try:
        return compare_read_models(recorder, live, scratch, standard_projections())
    finally:
        live.close()
        scratch.close()


def run_verify(args: argparse.Namespace) -> int:
    recorder = open_existing(args.store, repair=False)
    try:
        report = verify_log(recorder)
        out = sys.stdout
        out.write(
            f"log: {report.entries} entries, {report.streams} streams, head {report.head},"
            f" {report.problems} problems\n"
        )
        for line in report.details:
            out.write(f"  {line}\n")
        differences: list[str] = []
        url = args.read_models or default_read_models_url(args.store)
        if args.skip_read_models:
            out.write("read models: skipped\n")
        elif not _read_models_exist(url):
            out.write(f"read models: none at {url}, nothing to compare\n")
        else:
            differences = _check_read_models(recorder, url)
            out.write(f"read models: {len(differences)} differences from a rebuild\n")
            for line in differences:
                out.write(f"  {line}\n")
    finally:
        recorder.close()
    sound = report.sound and not differences
    out.write("sound\n" if sound else "NOT sound\n")
    return 0 if sound else 1
