"""Builders for the venue tests: an exchange on a SimClock that records what it emits."""

from __future__ import annotations

from typing import final

from spreadwire.core.clock import SimClock
from spreadwire.domain.commands import CancelOrder, ModifyOrder, SubmitOrder
from spreadwire.domain.enums import OrderSide, OrderType, ReportKind, TimeInForce
from spreadwire.domain.instrument import Instrument
from spreadwire.domain.market import BookDelta, TradeTick
from spreadwire.domain.reports import ExecutionReport
from spreadwire.domain.values import Money, Price, Quantity
from spreadwire.venue.exchange import SimulatedExchange

INSTRUMENT_ID = "AAA.SIM"
SCALE = 1_000_000_000


def instrument(symbol: str = "AAA", *, tradable: bool = True) -> Instrument:
    return Instrument(
        symbol=symbol,
        price_precision=2,
        size_precision=0,
        tick_size=Price.parse("0.01"),
        lot_size=Quantity.parse("1"),
        min_notional=Money.parse("1", "USD"),
        tradable=tradable,
    )


def px(text: str) -> Price:
    return Price.parse(text, 2)


def qty(text: str) -> Quantity:
    return Quantity.parse(text, 0)


def raw(text: str) -> int:
    """A raw fixed-point int from a decimal string."""
    return Price.parse(text).raw


@final
class Recorder:
    """An exchange with every report, delta and trade it emits kept in lists."""

    def __init__(self, *instruments: Instrument) -> None:
        self.clock = SimClock(1_000)
        self.reports: list[ExecutionReport] = []
        self.deltas: list[BookDelta] = []
        self.trades: list[TradeTick] = []
        self.exchange = SimulatedExchange(
            instruments or (instrument(),),
            self.clock,
            on_report=self.reports.append,
            on_delta=self.deltas.append,
            on_trade=self.trades.append,
        )
        self._count = 0

    def kinds(self) -> list[ReportKind]:
        return [r.kind for r in self.reports]

    def submit(
        self,
        side: OrderSide,
        quantity: str,
        price: str | None = None,
        *,
        client_order_id: str | None = None,
        owner: str = "node",
        tif: TimeInForce = TimeInForce.GTC,
        post_only: bool = False,
        order_type: OrderType | None = None,
        instrument_id: str = INSTRUMENT_ID,
    ) -> str:
        self._count += 1
        cid = client_order_id or f"{owner}-{self._count}"
        kind = order_type or (OrderType.MARKET if price is None else OrderType.LIMIT)
        self.exchange.submit(
            SubmitOrder(
                strategy_id="s1",
                instrument_id=instrument_id,
                client_order_id=cid,
                side=side,
                order_type=kind,
                quantity=Quantity.parse(quantity),
                price=None if price is None else Price.parse(price),
                time_in_force=tif,
                post_only=post_only,
                ts_init=self.clock.timestamp_ns(),
            ),
            owner,
        )
        return cid

    def cancel(self, cid: str, owner: str = "node") -> None:
        self.exchange.cancel(
            CancelOrder(
                strategy_id="s1",
                instrument_id=INSTRUMENT_ID,
                client_order_id=cid,
                ts_init=self.clock.timestamp_ns(),
            ),
            owner,
        )

    def modify(self, cid: str, *, quantity: str | None = None, price: str | None = None) -> None:
        self.exchange.modify(
            ModifyOrder(
                strategy_id="s1",
                instrument_id=INSTRUMENT_ID,
                client_order_id=cid,
                quantity=None if quantity is None else Quantity.parse(quantity),
                price=None if price is None else Price.parse(price),
                ts_init=self.clock.timestamp_ns(),
            )
        )

    def reports_for(self, cid: str) -> list[ExecutionReport]:
        return [r for r in self.reports if r.client_order_id == cid]
