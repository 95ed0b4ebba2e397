"""``spreadwire data query``: what a user reads for a slice or VWAP with no trades."""

from __future__ import annotations

from pathlib import Path

import pytest

from spreadwire.cli.main import main
from spreadwire.domain.enums import OrderSide
from spreadwire.domain.market import TradeTick
from spreadwire.domain.values import Price, Quantity
from spreadwire.persistence.ticks import TickWriter, utc_ns

DAY = utc_ns("2024-05-01T00:00:00")


def _query(root: Path, *args: str) -> list[str]:
    return [
        "data",
        "query",
        "--root",
        str(root),
        "--start",
        str(DAY),
        "--end",
        str(DAY + 10),
        *args,
    ]


def test_data_query_vwap_without_trades_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    writer = TickWriter(tmp_path)
    writer.record(
        TradeTick(
            instrument_id="AAA.SIM",
            price=Price.parse("10"),
            size=Quantity.parse("1"),
            aggressor_side=OrderSide.BUY,
            trade_id="T0",
            ts_event=DAY,
            ts_init=DAY,
        )
    )
    writer.close()

    missing = main(_query(tmp_path, "--vwap", "--instrument", "BBB.SIM"))
    text = capsys.readouterr().out
    found = main(_query(tmp_path, "--vwap", "--instrument", "AAA.SIM", "--json"))
    json = capsys.readouterr().out
    as_json = main(_query(tmp_path, "--vwap", "--instrument", "BBB.SIM", "--json"))

    assert (missing, found, as_json) == (0, 0, 0)
    assert text == "0 trades\n"
    assert json.startswith('{"instrument_id":"AAA.SIM"')
    assert capsys.readouterr().out == ""  # JSON lines: no trades is no line
