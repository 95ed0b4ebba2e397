"""Market-data history: ticks buffered into Arrow batches, written to Parquet partitioned
by day and instrument, queried with DuckDB.

Layout (Hive partitioning, one immutable file per flush and partition)::

    <root>/trades/date=2024-05-01/instrument_id=AAA.SIM/part-<first ts>-<n>.parquet
    <root>/quotes/date=2024-05-01/instrument_id=AAA.SIM/part-<first ts>-<n>.parquet

Prices and sizes are stored exactly as raw fixed-point int64 (scale 1e9) with their
precision; VWAP is computed in DuckDB's 128-bit HUGEINT, so it is exact before the final
division. Ticks are never inserted row by row: :class:`TickWriter` buffers them and
writes a batch of at least ``batch_rows`` rows (or on ``flush``/``close``).
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from pathlib import Path
from typing import Any, final

import duckdb
import msgspec
import pyarrow as pa
import pyarrow.parquet as pq

from spreadwire.domain.market import QuoteTick, TradeTick
from spreadwire.errors import StoreError

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
            self._write(key, self._buffers.pop(key))

    def record_many(self, ticks: Iterable[TradeTick | QuoteTick]) -> None:
        for tick in ticks:
            self.record(tick)

    def flush(self) -> None:
        """Write every buffered row."""
        buffers, self._buffers = self._buffers, {}
        for key, rows in buffers.items():
            self._write(key, rows)

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
        folder = self._root / kind / f"date={day.isoformat()}" / f"instrument_id={instrument_id}"
        folder.mkdir(parents=True, exist_ok=True)
        name = f"part-{rows[0][0]}-{self._token}-{next(self._counter)}.parquet"
        try:
            pq.write_table(table, folder / f".{name}.tmp", compression=self._compression)
            (folder / f".{name}.tmp").rename(folder / name)
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


def _days(start_ns: int, end_ns: int) -> list[str]:
    first, last = day_of(start_ns), day_of(max(start_ns, end_ns - 1))
    return [(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]


@final
class TickHistory:
    """DuckDB queries over the Parquet history under ``root``."""

    __slots__ = ("_connection", "_root")

    def __init__(self, root: str | Path) -> None:
        self._root = Path(root)
        self._connection = duckdb.connect()

    def _source(self, kind: str) -> str:
        pattern = self._root / kind / "**" / "*.parquet"
        return f"read_parquet('{pattern.as_posix()}', hive_partitioning = true)"

    def _has(self, kind: str) -> bool:
        return any((self._root / kind).glob("**/*.parquet"))

    def trades(self, instrument_id: str, start_ns: int, end_ns: int) -> pa.Table:
        """Trades of one instrument with ``start_ns <= ts_event < end_ns``, in time order."""
        if not self._has("trades"):
            return TRADE_SCHEMA.empty_table()
        sql = (
            f"SELECT * EXCLUDE (date, instrument_id) FROM {self._source('trades')}"
            " WHERE instrument_id = ? AND date::VARCHAR IN (SELECT unnest(?))"
            " AND ts_event >= ? AND ts_event < ? ORDER BY ts_event, trade_id"
        )
        params = [instrument_id, _days(start_ns, end_ns), start_ns, end_ns]
        return self._connection.sql(sql, params=params).to_arrow_table()

    def vwap(self, start_ns: int, end_ns: int, instrument_id: str | None = None) -> list[Vwap]:
        """Volume-weighted average price per instrument over ``[start_ns, end_ns)``."""
        if not self._has("trades"):
            return []
        sql = (
            "SELECT instrument_id, sum(price_raw::HUGEINT * size_raw) AS notional,"
            " sum(size_raw::HUGEINT) AS volume, count(*) AS trades,"
            " max(price_precision) AS pp, max(size_precision) AS sp"
            f" FROM {self._source('trades')}"
            " WHERE date::VARCHAR IN (SELECT unnest(?)) AND ts_event >= ? AND ts_event < ?"
            " AND (? IS NULL OR instrument_id = ?)"
            " GROUP BY instrument_id ORDER BY instrument_id"
        )
        params = [_days(start_ns, end_ns), start_ns, end_ns, instrument_id, instrument_id]
        rows = self._connection.execute(sql, params).fetchall()
        return [_vwap_row(row) for row in rows if row[2]]

    def last_ts(self) -> int | None:
        """The newest ``ts_init`` recorded (trades and quotes), None when there is none."""
        newest: int | None = None
        for kind in ("trades", "quotes"):
            if not self._has(kind):
                continue
            query = f"SELECT max(ts_init) FROM {self._source(kind)}"
            row = self._connection.execute(query).fetchone()
            if row is not None and row[0] is not None:
                newest = int(row[0]) if newest is None else max(newest, int(row[0]))
        return newest

    def close(self) -> None:
        self._connection.close()


def _exact(numerator: int, denominator: int, decimals: int) -> str:
    """``numerator / denominator`` rounded half-even to ``decimals`` places."""
    with localcontext() as context:
        context.prec = 60
        value = Decimal(numerator) / Decimal(denominator)
        return str(value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_EVEN))


def _vwap_row(row: tuple[Any, ...]) -> Vwap:
    instrument_id, notional, volume, trades, price_precision, size_precision = row
    scale = 1_000_000_000
    return Vwap(
        instrument_id=instrument_id,
        vwap=_exact(int(notional), int(volume) * scale, int(price_precision) + 4),
        volume=_exact(int(volume), scale, int(size_precision)),
        trades=int(trades),
    )


def utc_ns(text: str) -> int:
    """Nanoseconds since the epoch from an int or an ISO 8601 time (naive = UTC)."""
    if text.lstrip("-").isdigit():
        return int(text)
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000
