"""``spreadwire data``: market-data history in Parquet, queried with DuckDB.

* ``data query --root DIR --instrument ID --start T --end T``: the trades of one
  instrument in a time slice (T: ISO 8601, UTC when naive, or integer ns).
* ``data query --root DIR --vwap --start T --end T [--instrument ID]``: VWAP per
  instrument over the slice.
* ``data synth --root DIR``: write a synthetic trade tape (to try the queries).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
from pathlib import Path
from typing import Any

import msgspec

from spreadwire.cli.args import bounded_int
from spreadwire.domain.enums import OrderSide
from spreadwire.domain.market import TradeTick
from spreadwire.domain.values import Price, Quantity
from spreadwire.errors import ConfigError
from spreadwire.persistence.ticks import TickHistory, TickWriter, utc_ns

#: Tick timestamps are int64 ns since the epoch:
#: 1677-09-21T00:12:43.145224192Z .. 2262-04-11T23:47:16.854775807Z.
TIME_MIN_NS = -(2**63)
TIME_MAX_NS = 2**63 - 1


def _time(text: str) -> int:
    try:
        value = utc_ns(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected an ISO 8601 time or integer ns, got {text!r}"
        ) from None
    if not TIME_MIN_NS <= value <= TIME_MAX_NS:
        raise argparse.ArgumentTypeError(
            "must be within the int64 ns range of tick timestamps (1677-09-21T00:12:43.145224192Z"
            f" .. 2262-04-11T23:47:16.854775807Z), got {text!r}"
        )
    return value


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("data", help="market-data history (Parquet + DuckDB)")
    actions = parser.add_subparsers(dest="data_command", metavar="ACTION", required=True)
    query = actions.add_parser("query", help="time-slice or VWAP query over the history")
    query.add_argument("--root", type=Path, required=True, help="history directory")
    query.add_argument("--start", type=_time, required=True, help="slice start (inclusive)")
    query.add_argument("--end", type=_time, required=True, help="slice end (exclusive)")
    query.add_argument("--instrument", default=None, help="instrument id")
    query.add_argument("--vwap", action="store_true", help="VWAP per instrument")
    query.add_argument("--limit", type=bounded_int(1, 10_000_000), default=20, help="rows shown")
    query.add_argument("--json", action="store_true", help="print JSON lines")
    query.set_defaults(handler=run_query)
    synth = actions.add_parser("synth", help="write a synthetic trade tape")
    synth.add_argument("--root", type=Path, required=True, help="history directory")
    synth.add_argument("--start", type=_time, default=utc_ns("2024-01-02T09:00:00"))
    synth.add_argument("--instruments", type=bounded_int(1, 1_000), default=4)
    synth.add_argument("--rows", type=bounded_int(1, 100_000_000), default=100_000)
    synth.add_argument("--seed", type=bounded_int(0, 2**32 - 1), default=7)
    synth.set_defaults(handler=run_synth)


def _check_history_root(root: Path) -> None:
    """``root`` must be a tick history: a directory with ``trades/`` or ``quotes/``."""
    if not root.is_dir():
        raise ConfigError(f"--root: {root} is not a directory")
    if not (root / "trades").is_dir() and not (root / "quotes").is_dir():
        hint = f"; did you mean {root / 'ticks'}?" if (root / "ticks").is_dir() else ""
        raise ConfigError(
            f"--root: {root} holds no tick history (no trades/ or quotes/ in it){hint}"
        )


def run_query(args: argparse.Namespace) -> int:
    if args.end <= args.start:
        raise ConfigError("--end: must be after --start")
    if not args.vwap and args.instrument is None:
        raise ConfigError("--instrument: required for a time slice (or use --vwap)")
    _check_history_root(Path(args.root))
    history = TickHistory(args.root)
    out = sys.stdout
    try:
        if args.vwap:
            rows = history.vwap(args.start, args.end, args.instrument)
            if not rows and not args.json:  # as a slice says it (JSON lines: no line)
                out.write("0 trades\n")
            for row in rows:
                line = (
                    msgspec.json.encode(row).decode()
                    if args.json
                    else (
                        f"{row.instrument_id:<16} vwap {row.vwap:>16} volume {row.volume:>14}"
                        f" trades {row.trades}"
                    )
                )
                out.write(line + "\n")
            return 0
        count = history.count_trades(args.instrument, args.start, args.end)
        out.write(f"{count} trades\n")
        table = history.trades(args.instrument, args.start, args.end, limit=args.limit)
        for row in table.to_pylist():
            out.write(msgspec.json.encode(row).decode() + "\n")
    finally:
        history.close()
    return 0


def _check_synth_root(root: Path) -> None:
    """``root`` must be a directory that can be made, holding no trades yet (a second
    tape written into it would double every trade)."""
    if root.exists() and not root.is_dir():
        raise ConfigError(f"--root: {root} is not a directory")
    if (root / "trades").is_dir() and any((root / "trades").iterdir()):
        raise ConfigError(f"--root: {root} already holds trades; name a new directory")
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ConfigError(f"--root: cannot create {root}: {error.strerror}") from error
    if not os.access(root, os.W_OK | os.X_OK):
        raise ConfigError(f"--root: {root} is not writable")


def run_synth(args: argparse.Namespace) -> int:
    _check_synth_root(Path(args.root))
    # the tape advances up to 20 ms a trade: it must end within int64 ns
    if args.start > TIME_MAX_NS - args.rows * 20_000_000:
        raise ConfigError(f"--start: a tape of {args.rows} trades from there passes 2262-04-11")
    rng = random.Random(args.seed)
    writer = TickWriter(args.root)
    prices = [100_000 + 1_000 * n for n in range(args.instruments)]  # in 0.01 ticks
    ts = args.start
    for n in range(args.rows):
        index = n % args.instruments
        prices[index] = max(1, prices[index] + rng.choice((-1, 0, 0, 1)))
        ts += rng.randint(1_000_000, 20_000_000)
        writer.record(
            TradeTick(
                instrument_id=f"SYN{index}.SIM",
                price=Price.from_raw(prices[index] * 10_000_000, 2),
                size=Quantity.from_raw(rng.randint(1, 50) * 1_000_000_000, 0),
                aggressor_side=OrderSide.BUY if rng.random() < 0.5 else OrderSide.SELL,
                trade_id=f"T{n}",
                ts_event=ts,
                ts_init=ts,
            )
        )
    writer.close()
    stats = writer.stats()
    sys.stdout.write(
        f"wrote {stats.written_rows} trades in {stats.files} files under {args.root}\n"
    )
    return 0
