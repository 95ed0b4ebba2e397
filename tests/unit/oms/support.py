"""An order manager wired to lists, plus execution-report builders (OMS tests)."""

from __future__ import annotations

from typing import Any

from spreadwire.core.clock import SimClock
from spreadwire.domain.commands import CancelOrder, ModifyOrder, SubmitOrder
from spreadwire.domain.enums import LiquiditySide, OrderSide, OrderType, ReportKind, TimeInForce
from spreadwire.domain.events import OrderEvent, TradingAlert
from spreadwire.domain.order import Order
from spreadwire.domain.reports import ExecutionReport
from spreadwire.domain.values import Price, Quantity
from spreadwire.oms.config import OmsConfig
from spreadwire.oms.manager import OrderManager
from tests.builders import make_instrument

START_NS = 1_000_000_000_000
SECOND = 1_000_000_000


class Harness:
    def __init__(
        self,
        config: OmsConfig | None = None,
        *,
        venue: dict[str, ExecutionReport | None] | None = None,
    ) -> None:
        self.clock = SimClock(START_NS)
        self.instruments = {
            i.instrument_id: i for i in (make_instrument("AAA"), make_instrument("BBB"))
        }
        self.sent: list[Any] = []
        self.published: list[object] = []
        self.venue = venue if venue is not None else {}
        self.oms = OrderManager(
            self.clock,
            self.instruments,
            send=self.sent.append,
            publish=self.published.append,
            query_order=self.venue.get,
            config=config,
        )
        self._ids = 0
        self._trades = 0

    def submit(
        self,
        side: OrderSide = OrderSide.BUY,
        quantity: str = "10",
        price: str | None = "100.00",
        *,
        instrument_id: str = "AAA.SIM",
        strategy_id: str = "S1",
        order_type: OrderType | None = None,
        trigger_price: str | None = None,
        time_in_force: TimeInForce = TimeInForce.GTC,
        expire_time_ns: int | None = None,
        client_order_id: str | None = None,
    ) -> Order:
        self._ids += 1
        if order_type is None:
            order_type = OrderType.LIMIT if price is not None else OrderType.MARKET
        cmd = SubmitOrder(
            strategy_id=strategy_id,
            instrument_id=instrument_id,
            client_order_id=client_order_id or f"O-{self._ids}",
            side=side,
            order_type=order_type,
            quantity=Quantity.parse(quantity),
            price=Price.parse(price) if price is not None else None,
            trigger_price=Price.parse(trigger_price) if trigger_price is not None else None,
            time_in_force=time_in_force,
            expire_time_ns=expire_time_ns,
            ts_init=self.clock.timestamp_ns(),
        )
        order = self.oms.submit(cmd)
        assert order is not None
        return order

    def report(
        self,
        order: Order,
        kind: ReportKind,
        *,
        cum: str | None = None,
        leaves: str | None = None,
        reason: str = "",
        quantity: str | None = None,
        price: str | None = None,
    ) -> ExecutionReport:
        filled = order.filled_qty.raw // 1_000_000_000
        cum_qty = Quantity.parse(cum) if cum is not None else Quantity.parse(str(filled))
        total = Quantity.parse(quantity) if quantity is not None else order.quantity
        leaves_qty = (
            Quantity.parse(leaves)
            if leaves is not None
            else Quantity(raw=max(0, total.raw - cum_qty.raw), precision=0)
        )
        report = ExecutionReport(
            kind=kind,
            instrument_id=order.instrument_id,
            client_order_id=order.client_order_id,
            venue_order_id=f"V-{order.client_order_id}",
            side=order.side,
            cum_qty=cum_qty,
            leaves_qty=leaves_qty,
            quantity=total,
            price=Price.parse(price) if price is not None else order.price,
            reason=reason,
            ts_event=self.clock.timestamp_ns(),
        )
        self.oms.on_report(report)
        return report

    def fill(
        self,
        order: Order,
        quantity: str,
        price: str = "100.00",
        *,
        trade_id: str | None = None,
        cum: str | None = None,
        leaves: str | None = None,
    ) -> ExecutionReport:
        self._trades += 1
        last = Quantity.parse(quantity)
        cum_raw = Quantity.parse(cum).raw if cum is not None else order.filled_qty.raw + last.raw
        leaves_raw = (
            Quantity.parse(leaves).raw
            if leaves is not None
            else max(0, order.quantity.raw - cum_raw)
        )
        report = ExecutionReport(
            kind=ReportKind.FILL,
            instrument_id=order.instrument_id,
            client_order_id=order.client_order_id,
            venue_order_id=f"V-{order.client_order_id}",
            side=order.side,
            cum_qty=Quantity(raw=cum_raw, precision=0),
            leaves_qty=Quantity(raw=leaves_raw, precision=0),
            last_qty=last,
            last_px=Price.parse(price),
            trade_id=trade_id or f"T-{self._trades}",
            liquidity_side=LiquiditySide.MAKER,
            quantity=order.quantity,
            ts_event=self.clock.timestamp_ns(),
        )
        self.oms.on_report(report)
        return report

    def cancel(self, order: Order) -> bool:
        return self.oms.cancel(
            CancelOrder(
                strategy_id=order.strategy_id,
                instrument_id=order.instrument_id,
                client_order_id=order.client_order_id,
                ts_init=self.clock.timestamp_ns(),
            )
        )

    def modify(self, order: Order, quantity: str | None = None, price: str | None = None) -> bool:
        return self.oms.modify(
            ModifyOrder(
                strategy_id=order.strategy_id,
                instrument_id=order.instrument_id,
                client_order_id=order.client_order_id,
                quantity=Quantity.parse(quantity) if quantity is not None else None,
                price=Price.parse(price) if price is not None else None,
                ts_init=self.clock.timestamp_ns(),
            )
        )

    def events(self, client_order_id: str | None = None) -> list[str]:
        return [
            type(e).__name__
            for e in self.published
            if isinstance(e, OrderEvent)
            and (client_order_id is None or e.client_order_id == client_order_id)
        ]

    def alerts(self) -> list[str]:
        return [e.code for e in self.published if isinstance(e, TradingAlert)]
