from __future__ import annotations

import os
import shutil
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from spreadwire.domain.enums import OrderSide
from spreadwire.domain.market import QuoteTick, TradeTick
from spreadwire.domain.values import Price, Quantity
from spreadwire.errors import StoreError
from spreadwire.persistence.ticks import NS_PER_DAY, TickHistory, TickWriter, utc_ns

DAY = utc_ns("2024-05-01T00:00:00")


def trade(instrument: str, ts: int, price: str, size: str, n: int) -> TradeTick:
    return TradeTick(
        instrument_id=instrument,
        price=Price.parse(price),
        size=Quantity.parse(size),
        aggressor_side=OrderSide.BUY,
        trade_id=f"T{n}",
        ts_event=ts,
        ts_init=ts,
    )


@pytest.fixture
def history(tmp_path: Path) -> TickHistory:
    writer = TickWriter(tmp_path, batch_rows=4)
    ticks = [
        trade("AAA.SIM", DAY - 10, "99.5", "1", 0),
        trade("AAA.SIM", DAY, "100.25", "2", 1),
        trade("BBB.SIM", DAY + 5, "10.01", "3", 2),
        trade("AAA.SIM", DAY + 10, "100.75", "1", 3),
        trade("AAA.SIM", DAY + NS_PER_DAY + 1, "101", "5", 4),
        trade("BBB.SIM", DAY + NS_PER_DAY + 2, "10.02", "7", 5),
    ]
    writer.record_many(ticks)
    writer.record(
        QuoteTick(
            instrument_id="AAA.SIM",
            bid_price=Price.parse("100.2"),
            ask_price=Price.parse("100.3"),
            bid_size=Quantity.parse("1"),
            ask_size=Quantity.parse("2"),
            ts_event=DAY,
            ts_init=DAY,
        )
    )
    writer.close()
    return TickHistory(tmp_path)


def test_tick_writer_partitions_files_by_kind_day_and_instrument(
    history: TickHistory, tmp_path: Path
) -> None:
    folders = sorted(p.parent.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.parquet"))

    assert folders == [
        "quotes/date=2024-05-01/instrument_id=AAA.SIM",
        "trades/date=2024-04-30/instrument_id=AAA.SIM",
        "trades/date=2024-05-01/instrument_id=AAA.SIM",
        "trades/date=2024-05-01/instrument_id=BBB.SIM",
        "trades/date=2024-05-02/instrument_id=AAA.SIM",
        "trades/date=2024-05-02/instrument_id=BBB.SIM",
    ]


def test_tick_history_time_slice_is_start_inclusive_end_exclusive(history: TickHistory) -> None:
    table = history.trades("AAA.SIM", DAY, DAY + 10)

    assert table.column("trade_id").to_pylist() == ["T1"]
    assert table.column("price_raw").to_pylist() == [Price.parse("100.25").raw]


def test_tick_history_time_slice_spans_days_in_time_order(history: TickHistory) -> None:
    table = history.trades("AAA.SIM", DAY - 100, DAY + 2 * NS_PER_DAY)

    assert table.column("trade_id").to_pylist() == ["T0", "T1", "T3", "T4"]


def test_tick_history_vwap_is_exact_per_instrument(history: TickHistory) -> None:
    rows = history.vwap(DAY, DAY + 2 * NS_PER_DAY)

    expected_aaa = (Fraction("100.25") * 2 + Fraction("100.75") + Fraction(101) * 5) / 8
    assert [r.instrument_id for r in rows] == ["AAA.SIM", "BBB.SIM"]
    assert Decimal(rows[0].vwap) == Decimal(expected_aaa.numerator) / expected_aaa.denominator
    assert (rows[0].volume, rows[0].trades) == ("8", 3)
    assert history.vwap(DAY, DAY + 2 * NS_PER_DAY, "BBB.SIM")[0].volume == "10"


def test_tick_history_empty_root_answers_nothing(tmp_path: Path) -> None:
    history = TickHistory(tmp_path)

    assert history.trades("AAA.SIM", 0, 10).num_rows == 0
    assert history.vwap(0, 10) == []


def test_tick_writer_buffers_until_the_batch_is_full(tmp_path: Path) -> None:
    writer = TickWriter(tmp_path, batch_rows=3)
    writer.record(trade("AAA.SIM", DAY, "1", "1", 0))
    writer.record(trade("AAA.SIM", DAY + 1, "1", "1", 1))

    assert writer.stats().files == 0
    writer.record(trade("AAA.SIM", DAY + 2, "1", "1", 2))
    assert (writer.stats().files, writer.stats().written_rows) == (1, 3)


def test_utc_ns_accepts_iso_and_integer_nanoseconds() -> None:
    assert utc_ns("1970-01-01T00:00:01") == 1_000_000_000
    assert utc_ns("1970-01-01T01:00:00+01:00") == 0
    assert utc_ns("42") == 42


@pytest.mark.parametrize(
    "instrument",
    ["X=1.SIM", "a*b?[c]", "BTC/USD.SIM", "A%2FB.SIM", "A\\B.SIM", "2024-01-01", "007", "A\x00B"],
)
def test_tick_history_any_instrument_id_reads_back_as_itself(
    tmp_path: Path, instrument: str
) -> None:
    writer = TickWriter(tmp_path)
    writer.record_many(
        [trade(instrument, DAY + 1, "10", "1", 0), trade("AAA.SIM", DAY, "5", "1", 1)]
    )
    writer.close()
    history = TickHistory(tmp_path)

    rows = history.trades(instrument, DAY, DAY + NS_PER_DAY).to_pylist()
    vwaps = {row.instrument_id: row.vwap for row in history.vwap(DAY, DAY + NS_PER_DAY)}

    assert [row["trade_id"] for row in rows] == ["T0"]
    assert history.count_trades(instrument, DAY, DAY + NS_PER_DAY) == 1
    assert vwaps == {instrument: "10.0000", "AAA.SIM": "5.0000"}


def test_tick_history_root_with_quote_and_brackets_is_read(tmp_path: Path) -> None:
    root = tmp_path / "desk's [1] ticks"
    writer = TickWriter(root)
    writer.record(trade("AAA.SIM", DAY, "10", "2", 0))
    writer.close()

    history = TickHistory(root)
    assert history.count_trades("AAA.SIM", DAY, DAY + 1) == 1
    assert [(v.instrument_id, v.vwap) for v in history.vwap(DAY, DAY + 1)] == [
        ("AAA.SIM", "10.0000")
    ]


def test_tick_history_reads_only_the_days_asked_for(tmp_path: Path) -> None:
    writer = TickWriter(tmp_path)
    writer.record_many([trade("AAA.SIM", DAY + n * NS_PER_DAY, "10", "1", n) for n in range(5)])
    writer.close()
    broken = tmp_path / "trades" / "date=2020-01-01" / "instrument_id=AAA.SIM" / "part-0.parquet"
    broken.parent.mkdir(parents=True)
    broken.write_bytes(b"not parquet")
    history = TickHistory(tmp_path)

    files = history.files("trades", DAY + NS_PER_DAY, DAY + 3 * NS_PER_DAY)

    assert len(files) == 2
    assert history.count_trades("AAA.SIM", DAY, DAY + 5 * NS_PER_DAY) == 5
    with pytest.raises(StoreError, match="cannot read tick history under"):
        history.vwap(utc_ns("2020-01-01"), DAY)


def test_tick_history_limit_returns_the_first_trades_in_time_order(history: TickHistory) -> None:
    rows = history.trades("AAA.SIM", DAY - 10, DAY + 2 * NS_PER_DAY, limit=2).to_pylist()

    assert [row["trade_id"] for row in rows] == ["T0", "T1"]


def test_tick_history_unreadable_folder_is_an_error_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = TickWriter(tmp_path)
    writer.record(trade("AAA.SIM", DAY, "10", "1", 0))
    writer.close()
    folder = tmp_path / "trades" / "date=2024-05-01"
    scandir = os.scandir

    def refuse(path: Any) -> Any:  # what a folder without read permission does
        if Path(path) == folder:
            raise PermissionError(13, "Permission denied", str(path))
        return scandir(path)

    monkeypatch.setattr(os, "scandir", refuse)

    with pytest.raises(StoreError, match=r"cannot read tick history folder .*date=2024-05-01"):
        TickHistory(tmp_path).vwap(DAY, DAY + 1)


def test_tick_writer_failed_partition_keeps_every_row_for_the_next_flush(tmp_path: Path) -> None:
    writer = TickWriter(tmp_path)
    writer.record(trade("AAA.SIM", DAY, "10", "1", 0))
    writer.record(trade("BBB.SIM", DAY, "10", "1", 1))
    blocker = tmp_path / "trades"
    blocker.write_text("a file where the folder goes")

    with pytest.raises(StoreError, match="cannot write tick history"):
        writer.flush()
    assert writer.stats().buffered == 2

    blocker.unlink()
    writer.flush()
    assert writer.stats().written_rows == 2
    assert writer.stats().buffered == 0


def test_tick_writer_syncs_a_file_before_naming_it_and_its_folders_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file written is on disk under its name once ``flush`` returns: a power cut must
    not leave a named but empty part file, which would fail every query of its day."""
    events: list[tuple[str, str]] = []
    fsync, rename = os.fsync, os.rename

    def logged_fsync(descriptor: int) -> None:
        events.append(("fsync", os.readlink(f"/proc/self/fd/{descriptor}")))
        fsync(descriptor)

    def logged_rename(source: Any, target: Any, **kwargs: Any) -> None:
        events.append(("rename", str(Path(target).resolve())))
        rename(source, target, **kwargs)

    monkeypatch.setattr(os, "fsync", logged_fsync)
    monkeypatch.setattr(os, "rename", logged_rename)
    root = tmp_path.resolve() / "ticks"
    writer = TickWriter(root)
    writer.record(trade("AAA.SIM", DAY, "10", "1", 0))

    writer.flush()

    (path,) = root.rglob("part-*.parquet")
    folder = path.parent
    synced_file = events.index(("fsync", str(folder / f".{path.name}.tmp")))
    named = events.index(("rename", str(path)))
    assert synced_file < named < events.index(("fsync", str(folder)))
    for created in (folder.parent, folder.parent.parent, root):  # new folders' entries
        assert ("fsync", str(created.parent)) in events


def test_tick_history_small_prices_print_as_plain_decimals(tmp_path: Path) -> None:
    writer = TickWriter(tmp_path)
    writer.record(trade("TINY", DAY, "0.000000002", "0.000000003", 0))
    writer.close()

    (row,) = TickHistory(tmp_path).vwap(DAY, DAY + 1)

    assert (row.vwap, row.volume) == ("0.0000000020000", "0.000000003")


def test_utc_ns_keeps_nanoseconds_and_refuses_more_digits() -> None:
    assert utc_ns("2024-01-02T23:59:59.999999999") == utc_ns("2024-01-03") - 1
    assert utc_ns("2024-01-02T00:00:00.5+01:00") == utc_ns("2024-01-01T23:00:00") + 500_000_000
    assert utc_ns("1969-12-31T23:59:59.000000001Z") == -999_999_999
    assert utc_ns("20240501T000000.5") == utc_ns("2024-05-01") + 500_000_000
    with pytest.raises(ValueError, match="more than nine digits"):
        utc_ns("2024-01-02T00:00:00.0000000001")


@pytest.mark.parametrize(
    "text", ["2024-01-02t00:00:00.5", "2024-01-02_00:00:00.5", "20240102t000000.5"]
)
def test_utc_ns_keeps_the_fraction_after_any_date_time_separator(text: str) -> None:
    """``datetime.fromisoformat`` takes any one character between date and time."""
    assert utc_ns(text) == utc_ns("2024-01-02") + 500_000_000


@pytest.mark.parametrize(
    "text", ["2024-01-02T00:00:00.5.5", "2024-01-02T00:00.5", "2024-01-02T00:00:00+01:00:00.5"]
)
def test_utc_ns_refuses_a_fraction_it_would_cut(text: str) -> None:
    with pytest.raises(ValueError, match="fraction of a second"):
        utc_ns(text)


def test_tick_history_reads_an_unencoded_folder_of_an_older_tree(tmp_path: Path) -> None:
    writer = TickWriter(tmp_path)
    writer.record(trade("sp ace", DAY, "10", "1", 0))
    writer.close()
    encoded = next((tmp_path / "trades").rglob("instrument_id=*"))
    encoded.rename(encoded.with_name("instrument_id=sp ace"))  # as written before encoding
    history = TickHistory(tmp_path)

    assert history.count_trades("sp ace", DAY, DAY + 1) == 1
    assert [row.instrument_id for row in history.vwap(DAY, DAY + 1)] == ["sp ace"]


def test_tick_history_reads_an_older_trees_folder_for_an_id_now_encoded(tmp_path: Path) -> None:
    writer = TickWriter(tmp_path)
    writer.record(trade("EUR:USD.SIM", DAY, "1.1", "1", 0))
    writer.close()
    encoded = next((tmp_path / "trades").rglob("instrument_id=*"))
    encoded.rename(encoded.with_name("instrument_id=EUR:USD.SIM"))

    assert TickHistory(tmp_path).count_trades("EUR:USD.SIM", DAY, DAY + 1) == 1


def test_tick_history_under_a_folder_that_looks_like_a_partition(tmp_path: Path) -> None:
    """The instrument comes from the partition folder below the root, not from a
    ``key=value`` folder the root happens to sit in."""
    root = tmp_path / "instrument_id=desk" / "date=2020-01-01" / "ticks"
    writer = TickWriter(root)
    writer.record(trade("AAA.SIM", DAY, "10", "1", 0))
    writer.record(trade("BBB.SIM", DAY, "20", "2", 1))
    writer.close()
    history = TickHistory(root)

    assert [row.instrument_id for row in history.vwap(DAY, DAY + 1)] == ["AAA.SIM", "BBB.SIM"]
    assert history.count_trades("BBB.SIM", DAY, DAY + 1) == 1
    assert history.trades("AAA.SIM", DAY, DAY + 1).num_rows == 1
    assert history.last_ts() is not None


@pytest.mark.parametrize("name", ["desk*", "desk?", "desk[!x]"])
def test_tick_history_root_with_glob_characters_reads_only_its_own_files(
    tmp_path: Path, name: str
) -> None:
    """DuckDB takes a file name as a pattern: a root named ``desk*`` must not also read
    a copy of the history in ``desk-copy`` beside it."""
    root = tmp_path / name
    writer = TickWriter(root)
    writer.record(trade("AAA.SIM", DAY, "10", "2", 0))
    writer.close()
    shutil.copytree(root, tmp_path / "desk-copy")
    shutil.copytree(root, tmp_path / "deskX")
    history = TickHistory(root)

    assert history.count_trades("AAA.SIM", DAY, DAY + 1) == 1
    assert history.trades("AAA.SIM", DAY, DAY + 1).num_rows == 1
    assert [(v.instrument_id, v.volume, v.trades) for v in history.vwap(DAY, DAY + 1)] == [
        ("AAA.SIM", "2", 1)
    ]


def test_tick_history_relative_root_starting_with_a_tilde_is_not_the_home_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    writer = TickWriter("~ticks")
    writer.record(trade("AAA.SIM", DAY, "10", "2", 0))
    writer.close()
    history = TickHistory("~ticks")

    assert history.count_trades("AAA.SIM", DAY, DAY + 1) == 1
    assert [v.trades for v in history.vwap(DAY, DAY + 1)] == [1]
    assert history.last_ts() == DAY
