"""Market-data history: ticks buffered into Arrow batches, written to Parquet partitioned
by day and instrument, queried with DuckDB.

Layout (Hive partitioning, one immutable file per flush and partition)::

    <root>/trades/date=2024-05-01/instrument_id=AAA.SIM/part-<first ts>-<n>.parquet
    <root>/quotes/date=2024-05-01/instrument_id=AAA.SIM/part-<first ts>-<n>.parquet

The instrument id is percent-encoded in its folder name (``BTC/USD`` becomes
``instrument_id=BTC%2FUSD``; letters, digits and ``.-_~`` stay as they are), so any id
makes one folder and reads back as itself: DuckDB decodes Hive values. A query lists the
folders of the days and instruments it asks for and hands DuckDB exactly those files, so
its cost follows the slice, not the whole history, and a file it cannot read is an error
naming it rather than a silently smaller answer.

A file is synced before it takes its name (``.part-*.tmp`` until then, which queries skip)
and its folder after, so what a flush wrote survives a power cut, and a write cut short
leaves no named file that every query of its day would fail on.

Prices and sizes are stored exactly as raw fixed-point int64 (scale 1e9) with their
precision; VWAP is computed in DuckDB's 128-bit HUGEINT, so it is exact before the final
division. Ticks are never inserted row by row: :class:`TickWriter` buffers them and
writes a batch of at least ``batch_rows`` rows (or on ``flush``/``close``).
"""

from __future__ import annotations

import itertools
import os
import re
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from pathlib import Path
from typing import Any, TypeVar, final
from urllib.parse import quote, unquote

import duckdb
import msgspec
import pyarrow as pa
import pyarrow.parquet as pq

from spreadwire.domain.market import QuoteTick, TradeTick
from spreadwire.errors import StoreError

T = TypeVar("T")

NS_PER_DAY = 86_400 * 1_000_000_000
_EPOCH = date(1970, 1, 1)

TRADE_SCHEMA = pa.schema(
    [
        ("ts_event", pa.int64()),
        ("ts_init", pa.int64()),
        ("price_raw", pa.int64()),
        ("price_precision", pa.int8()),
        ("size_raw", pa.int64()),
        ("size_precision", pa.int8()),
        ("aggressor_side", pa.string()),
        ("trade_id", pa.string()),
    ]
)
QUOTE_SCHEMA = pa.schema(
    [
        ("ts_event", pa.int64()),
        ("ts_init", pa.int64()),
        ("bid_raw", pa.int64()),
        ("ask_raw", pa.int64()),
        ("price_precision", pa.int8()),
        ("bid_size_raw", pa.int64()),
        ("ask_size_raw", pa.int64()),
        ("size_precision", pa.int8()),
    ]
)


def day_of(ts_ns: int) -> date:
    return _EPOCH + timedelta(days=ts_ns // NS_PER_DAY)


def _trade_row(tick: TradeTick) -> tuple[Any, ...]:
    return (
        tick.ts_event,
        tick.ts_init,
        tick.price.raw,
        tick.price.precision,
        tick.size.raw,
        tick.size.precision,
        str(tick.aggressor_side),
        tick.trade_id,
    )


def _quote_row(tick: QuoteTick) -> tuple[Any, ...]:
    return (
        tick.ts_event,
        tick.ts_init,
        tick.bid_price.raw,
        tick.ask_price.raw,
        max(tick.bid_price.precision, tick.ask_price.precision),
        tick.bid_size.raw,
        tick.ask_size.raw,
        max(tick.bid_size.precision, tick.ask_size.precision),
    )


def _sync_folder(folder: Path) -> None:
    """Make the entries of ``folder`` (a file renamed into it, a folder made) durable."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _make_folders(folder: Path) -> None:
    """Create ``folder`` and its missing parents, each synced into its own parent (a file
    synced into a folder the disk never recorded would be lost with it)."""
    missing: list[Path] = []
    while not folder.is_dir():
        missing.append(folder)
        folder = folder.parent
    for created in reversed(missing):
        created.mkdir(exist_ok=True)
        _sync_folder(created.parent)


class TickWriterStats(msgspec.Struct, frozen=True, kw_only=True):
    buffered: int
    written_rows: int
    files: int


@final
class TickWriter:
    """Buffers trade and quote ticks and writes them as Parquet in Arrow batches."""

    __slots__ = (
        "_batch_rows",
        "_buffers",
        "_compression",
        "_counter",
        "_files",
        "_root",
        "_rows",
        "_token",
    )

    def __init__(self, root: str | Path, *, batch_rows: int = 10_000, compression: str = "zstd"):
        self._root = Path(root)
        self._batch_rows = batch_rows
        self._compression = compression
        self._buffers: dict[tuple[str, date, str], list[tuple[Any, ...]]] = {}
        self._counter = itertools.count()
        self._token = uuid.uuid4().hex[:8]
        self._rows = 0
        self._files = 0

    def record(self, tick: TradeTick | QuoteTick) -> None:
        if isinstance(tick, TradeTick):
            key = ("trades", day_of(tick.ts_event), tick.instrument_id)
            row = _trade_row(tick)
        else:
            key = ("quotes", day_of(tick.ts_event), tick.instrument_id)
            row = _quote_row(tick)
        buffer = self._buffers.setdefault(key, [])
        buffer.append(row)
        if len(buffer) >= self._batch_rows:
            self._write(key, buffer)
            del self._buffers[key]

    def record_many(self, ticks: Iterable[TradeTick | QuoteTick]) -> None:
        for tick in ticks:
            self.record(tick)

    def flush(self) -> None:
        """Write every buffered row. A partition whose write fails keeps its rows, as do
        those not written yet, so a later flush can still write them."""
        for key in list(self._buffers):
            self._write(key, self._buffers[key])
            del self._buffers[key]

    def _write(self, key: tuple[str, date, str], rows: list[tuple[Any, ...]]) -> None:
        kind, day, instrument_id = key
        schema = TRADE_SCHEMA if kind == "trades" else QUOTE_SCHEMA
        columns = list(zip(*rows, strict=True))
        table = pa.Table.from_arrays(
            [
                pa.array(column, type=field.type)
                for column, field in zip(columns, schema, strict=True)
            ],
            schema=schema,
        )
        folder = self._root / kind / f"date={day.isoformat()}" / partition(instrument_id)
        name = f"part-{rows[0][0]}-{self._token}-{next(self._counter)}.parquet"
        temporary = folder / f".{name}.tmp"
        try:
            _make_folders(folder)
            with open(temporary, "wb") as handle:
                pq.write_table(table, handle, compression=self._compression)
                handle.flush()
                os.fsync(handle.fileno())
            temporary.rename(folder / name)
            _sync_folder(folder)
        except OSError as error:
            raise StoreError(f"cannot write tick history under {folder}: {error}") from error
        self._rows += len(rows)
        self._files += 1

    def stats(self) -> TickWriterStats:
        return TickWriterStats(
            buffered=sum(len(b) for b in self._buffers.values()),
            written_rows=self._rows,
            files=self._files,
        )

    def close(self) -> None:
        self.flush()


class Vwap(msgspec.Struct, frozen=True, kw_only=True):
    instrument_id: str
    vwap: str
    volume: str
    trades: int


def partition(instrument_id: str) -> str:
    """The folder name of an instrument's partition (percent-encoded, see the module notes)."""
    return "instrument_id=" + quote(instrument_id, safe="")


def _folder_names(instrument_id: str) -> list[str]:
    """The partition folder of ``instrument_id``, and the unencoded name a tree written
    before percent-encoding used for it (an id with a space, say), if that differs and
    could be a folder name."""
    encoded = partition(instrument_id)
    legacy = f"instrument_id={instrument_id}"
    if legacy == encoded or any(c in instrument_id for c in "/%\0"):
        return [encoded]
    return [encoded, legacy]


#: How DuckDB reads the files: no Hive columns (it would take ``key=value`` folders from
#: the whole path, above the root too, and guess their types); a query that needs the
#: instrument gets it from the partition folder, as :meth:`TickHistory.located` names it.
_READ = "read_parquet(?, filename = true, hive_partitioning = false)"

#: What DuckDB takes for a glob in a file name.
_GLOB = re.compile(r"[*?\[]")


def _literal(path: str) -> str:
    """``path`` as a DuckDB file name that matches that one file: DuckDB globs every name
    it is given (a root ``desk*`` would read ``desk-copy`` too) and takes a leading ``~``
    for the home folder, so the path is made absolute and each glob character is put in
    brackets (``*`` becomes ``[*]``); DuckDB reports the file under its own name."""
    return _GLOB.sub(r"[\g<0>]", str(Path(path).absolute()))


def _instrument(folder_name: str) -> str:
    """The instrument of a partition folder, from its name (see :func:`partition`)."""
    return unquote(folder_name.removeprefix("instrument_id="))


def _entries(folder: Path) -> list[os.DirEntry[str]]:
    """The entries of ``folder`` in name order; an unreadable folder is an error."""
    try:
        with os.scandir(folder) as found:
            return sorted(found, key=lambda entry: entry.name)
    except FileNotFoundError:
        return []
    except OSError as error:
        raise StoreError(f"cannot read tick history folder {folder}: {error.strerror}") from error


@final
class TickHistory:
    """DuckDB queries over the Parquet history under ``root``."""

    __slots__ = ("_connection", "_root")

    def __init__(self, root: str | Path) -> None:
        self._root = Path(root)
        self._connection = duckdb.connect()

    def files(
        self,
        kind: str,
        start_ns: int | None = None,
        end_ns: int | None = None,
        instrument_id: str | None = None,
    ) -> list[str]:
        """The Parquet files of ``kind`` (``trades`` or ``quotes``) holding the days of
        ``[start_ns, end_ns)`` (every day without them), of one instrument or all."""
        return [path for path, _ in self.located(kind, start_ns, end_ns, instrument_id)]

    def located(
        self,
        kind: str,
        start_ns: int | None = None,
        end_ns: int | None = None,
        instrument_id: str | None = None,
    ) -> list[tuple[str, str]]:
        """:meth:`files` with the instrument of each: ``(path, instrument_id)``, the id
        decoded from the partition folder's name."""
        first = last = None
        if start_ns is not None and end_ns is not None:
            first, last = day_of(start_ns), day_of(max(start_ns, end_ns - 1))
        files: list[tuple[str, str]] = []
        for day_folder in _entries(self._root / kind):
            if not day_folder.name.startswith("date=") or not day_folder.is_dir():
                continue
            try:
                day = date.fromisoformat(day_folder.name[5:])
            except ValueError:
                continue
            if first is not None and last is not None and not first <= day <= last:
                continue
            folders = (
                [Path(day_folder.path) / name for name in _folder_names(instrument_id)]
                if instrument_id is not None
                else [
                    Path(entry.path)
                    for entry in _entries(Path(day_folder.path))
                    if entry.name.startswith("instrument_id=") and entry.is_dir()
                ]
            )
            for folder in folders:
                instrument = _instrument(folder.name)
                files.extend(
                    (entry.path, instrument)
                    for entry in _entries(folder)
                    if entry.name.endswith(".parquet") and not entry.name.startswith(".")
                )
        return files

    def _rows(self, sql: str, files: list[str], params: list[Any]) -> list[tuple[Any, ...]]:
        return self._run(sql, files, params, duckdb.DuckDBPyRelation.fetchall)

    def _run(
        self,
        sql: str,
        files: list[str],
        params: list[Any],
        result: Callable[[duckdb.DuckDBPyRelation], T],
    ) -> T:
        """``result`` of ``sql`` over ``files`` (its first parameter); a DuckDB error, in
        the query or while reading the files, is a :class:`StoreError`."""
        try:
            patterns = [_literal(path) for path in files]
            return result(self._connection.sql(sql, params=[patterns, *params]))
        except duckdb.Error as error:
            raise StoreError(f"cannot read tick history under {self._root}: {error}") from error

    def count_trades(self, instrument_id: str, start_ns: int, end_ns: int) -> int:
        """How many trades of one instrument have ``start_ns <= ts_event < end_ns``."""
        files = self.files("trades", start_ns, end_ns, instrument_id)
        if not files:
            return 0
        sql = f"SELECT count(*) FROM {_READ} WHERE ts_event >= ? AND ts_event < ?"
        row = self._rows(sql, files, [start_ns, end_ns])
        return int(row[0][0])

    def trades(
        self, instrument_id: str, start_ns: int, end_ns: int, limit: int | None = None
    ) -> pa.Table:
        """Trades of one instrument with ``start_ns <= ts_event < end_ns``, in time order
        (the first ``limit`` of them when given)."""
        files = self.files("trades", start_ns, end_ns, instrument_id)
        if not files:
            return TRADE_SCHEMA.empty_table()
        sql = (
            f"SELECT {', '.join(TRADE_SCHEMA.names)} FROM {_READ}"
            " WHERE ts_event >= ? AND ts_event < ? ORDER BY ts_event, trade_id"
            + (" LIMIT ?" if limit is not None else "")
        )
        params: list[Any] = [start_ns, end_ns] + ([limit] if limit is not None else [])
        return self._run(sql, files, params, duckdb.DuckDBPyRelation.to_arrow_table)

    def vwap(self, start_ns: int, end_ns: int, instrument_id: str | None = None) -> list[Vwap]:
        """Volume-weighted average price per instrument over ``[start_ns, end_ns)``."""
        files = self.files("trades", start_ns, end_ns, instrument_id)
        if not files:
            return []
        sql = (
            "SELECT filename, sum(price_raw::HUGEINT * size_raw), sum(size_raw::HUGEINT),"
            f" count(*), max(price_precision), max(size_precision) FROM {_READ}"
            " WHERE ts_event >= ? AND ts_event < ? GROUP BY filename"
        )
        # summed per file by DuckDB, per instrument here (exact integers either way); the
        # instrument of a file is its partition folder's, as :meth:`located` names it
        totals: dict[str, list[int]] = {}
        for filename, notional, volume, trades, pp, sp in self._rows(
            sql, files, [start_ns, end_ns]
        ):
            instrument = _instrument(Path(filename).parent.name)
            total = totals.setdefault(instrument, [0, 0, 0, 0, 0])
            total[0] += int(notional)
            total[1] += int(volume)
            total[2] += int(trades)
            total[3] = max(total[3], int(pp))
            total[4] = max(total[4], int(sp))
        return [
            _vwap_row((instrument, *total))
            for instrument, total in sorted(totals.items())
            if total[1]
        ]

    def last_ts(self) -> int | None:
        """The newest ``ts_init`` recorded (trades and quotes), None when there is none."""
        newest: int | None = None
        for kind in ("trades", "quotes"):
            files = self.files(kind)
            if not files:
                continue
            rows = self._rows(f"SELECT max(ts_init) FROM {_READ}", files, [])
            if rows and rows[0][0] is not None:
                value = int(rows[0][0])
                newest = value if newest is None else max(newest, value)
        return newest

    def close(self) -> None:
        self._connection.close()


def _exact(numerator: int, denominator: int, decimals: int) -> str:
    """``numerator / denominator`` rounded half-even to ``decimals`` places."""
    with localcontext() as context:
        context.prec = 60
        value = Decimal(numerator) / Decimal(denominator)
        rounded = value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_EVEN)
        return format(rounded, "f")  # never the exponent form (1.5E-9)


def _vwap_row(row: tuple[Any, ...]) -> Vwap:
    instrument_id, notional, volume, trades, price_precision, size_precision = row
    scale = 1_000_000_000
    return Vwap(
        instrument_id=instrument_id,
        vwap=_exact(int(notional), int(volume) * scale, int(price_precision) + 4),
        volume=_exact(int(volume), scale, int(size_precision)),
        trades=int(trades),
    )


#: The fraction of a second in an ISO 8601 time: its digits, and what follows them. The
#: time comes after a date's last digit and one separator, which ``fromisoformat`` lets be
#: any character (``T``, ``t``, a space...); a UTC offset's seconds come after ``+``/``-``.
_FRACTION = re.compile(r"(\d[^\d:+-]\d\d:?\d\d:?\d\d)[.,](\d+)")


def utc_ns(text: str) -> int:
    """Nanoseconds since the epoch from an int or an ISO 8601 time (naive = UTC). Up to
    nine digits of a second are kept exactly; more are refused rather than cut."""
    if text.lstrip("-").isdigit():
        return int(text)
    nanos = 0
    given = text
    found = _FRACTION.search(text)
    if found is not None:
        digits = found.group(2)
        if len(digits) > 9:
            raise ValueError(f"more than nine digits of a second in {text!r}")
        nanos = int(digits.ljust(9, "0"))
        text = text[: found.start(2) - 1] + text[found.end(2) :]
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    if delta.microseconds:  # a fraction the pattern did not take: refused, not cut
        raise ValueError(f"cannot read the fraction of a second in {given!r}")
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + nanos
