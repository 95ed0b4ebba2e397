"""A risk engine wired to lists instead of an OMS and a bus (shared by the risk tests)."""

from __future__ import annotations

from typing import Any

from spreadwire.core.clock import SimClock
from spreadwire.domain.commands import CancelOrder, SubmitOrder
from spreadwire.domain.enums import LiquiditySide, OrderSide, OrderType, TimeInForce
from spreadwire.domain.events import (
    OrderAccepted,
    OrderCanceled,
    OrderDenied,
    OrderFilled,
    OrderPartiallyFilled,
    TradingStateChanged,
)
from spreadwire.domain.values import Price, Quantity
from spreadwire.risk.config import RiskConfig
from spreadwire.risk.engine import RiskEngine
from tests.builders import make_instrument, make_quote

START_NS = 1_000_000_000_000
SECOND = 1_000_000_000
_TAKER = LiquiditySide.TAKER


class Harness:
    """``RiskEngine`` with two instruments (AAA.SIM, BBB.SIM) and a fresh quote on each."""

    def __init__(self, config: RiskConfig | None = None, *, quote: bool = True) -> None:
        self.clock = SimClock(START_NS)
        self.instruments = {
            i.instrument_id: i for i in (make_instrument("AAA"), make_instrument("BBB"))
        }
        self.forwarded: list[Any] = []
        self.published: list[object] = []
        self.engine = RiskEngine(
            config or RiskConfig(),
            self.clock,
            self.instruments,
            forward=self.forwarded.append,
            publish=self.published.append,
        )
        self._ids = 0
        if quote:
            self.quote("AAA.SIM", "100.00", "100.02")
            self.quote("BBB.SIM", "50.00", "50.02")

    def quote(self, instrument_id: str, bid: str, ask: str) -> None:
        now = self.clock.timestamp_ns()
        self.engine.on_quote(make_quote(instrument_id, bid=bid, ask=ask, ts_event=now))

    def order(
        self,
        side: OrderSide = OrderSide.BUY,
        quantity: str = "10",
        price: str | None = "100.00",
        *,
        instrument_id: str = "AAA.SIM",
        strategy_id: str = "S1",
        order_type: OrderType | None = None,
        client_order_id: str | None = None,
        trigger_price: str | None = None,
        reduce_only: bool = False,
        time_in_force: TimeInForce = TimeInForce.GTC,
        expire_time_ns: int | None = None,
    ) -> SubmitOrder:
        self._ids += 1
        if order_type is None:
            order_type = OrderType.LIMIT if price is not None else OrderType.MARKET
        return SubmitOrder(
            strategy_id=strategy_id,
            instrument_id=instrument_id,
            client_order_id=client_order_id or f"O-{self._ids}",
            side=side,
            order_type=order_type,
            quantity=Quantity.parse(quantity),
            price=Price.parse(price) if price is not None else None,
            trigger_price=Price.parse(trigger_price) if trigger_price is not None else None,
            reduce_only=reduce_only,
            time_in_force=time_in_force,
            expire_time_ns=expire_time_ns,
            ts_init=self.clock.timestamp_ns(),
        )

    def submit(self, *args: Any, **kwargs: Any) -> bool:
        return self.engine.execute(self.order(*args, **kwargs))

    def denials(self) -> list[str]:
        return [e.reason for e in self.published if isinstance(e, OrderDenied)]

    def last_denial(self) -> str:
        denials = self.denials()
        return denials[-1] if denials else ""

    def states(self) -> list[TradingStateChanged]:
        return [e for e in self.published if isinstance(e, TradingStateChanged)]

    def cancels(self) -> list[CancelOrder]:
        return [c for c in self.forwarded if isinstance(c, CancelOrder)]

    def fill(
        self,
        cmd: SubmitOrder,
        quantity: str | None = None,
        price: str | None = None,
        *,
        trade_id: str | None = None,
        final: bool | None = None,
    ) -> None:
        """Feed the engine a fill of ``cmd`` (whole order by default)."""
        now = self.clock.timestamp_ns()
        qty = Quantity.parse(quantity) if quantity is not None else cmd.quantity
        px = Price.parse(price) if price is not None else (cmd.price or Price.parse("100.01"))
        done = final if final is not None else qty.raw == cmd.quantity.raw
        event_type = OrderFilled if done else OrderPartiallyFilled
        self.engine.on_event(
            event_type(
                strategy_id=cmd.strategy_id,
                instrument_id=cmd.instrument_id,
                client_order_id=cmd.client_order_id,
                venue_order_id="V",
                trade_id=trade_id or f"T-{cmd.client_order_id}-{now}",
                side=cmd.side,
                last_qty=qty,
                last_px=px,
                cum_qty=qty,
                leaves_qty=Quantity(raw=cmd.quantity.raw - qty.raw, precision=0),
                liquidity_side=_TAKER,
                ts_event=now,
                ts_init=now,
            )
        )

    def accept(self, cmd: SubmitOrder) -> None:
        now = self.clock.timestamp_ns()
        self.engine.on_event(
            OrderAccepted(
                strategy_id=cmd.strategy_id,
                instrument_id=cmd.instrument_id,
                client_order_id=cmd.client_order_id,
                venue_order_id="V",
                ts_event=now,
                ts_init=now,
            )
        )

    def cancel(self, cmd: SubmitOrder) -> None:
        """The venue canceled ``cmd``: its reservation is released."""
        now = self.clock.timestamp_ns()
        self.engine.on_event(
            OrderCanceled(
                strategy_id=cmd.strategy_id,
                instrument_id=cmd.instrument_id,
                client_order_id=cmd.client_order_id,
                ts_event=now,
                ts_init=now,
            )
        )
