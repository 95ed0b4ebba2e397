"""An order manager and a risk engine wired as the node wires them, with the stored log
as a list: commands are recorded before the risk gate sees them, every published event
after, and every event reaches the risk engine (restart tests)."""

from __future__ import annotations

from typing import Any

from spreadwire.core.clock import SimClock
from spreadwire.domain.commands import CancelOrder, ModifyOrder, SubmitOrder
from spreadwire.domain.enums import LiquiditySide, OrderSide, OrderType, ReportKind, TimeInForce
from spreadwire.domain.order import Order
from spreadwire.domain.reports import ExecutionReport
from spreadwire.domain.values import Price, Quantity
from spreadwire.oms.config import OmsConfig
from spreadwire.oms.manager import OrderManager
from spreadwire.risk.config import RiskConfig
from spreadwire.risk.engine import RiskEngine
from tests.builders import make_instrument, make_quote

START_NS = 1_000_000_000_000
SECOND = 1_000_000_000
UNIT = 10**9


class Wired:
    def __init__(
        self,
        *,
        oms_config: OmsConfig | None = None,
        risk_config: RiskConfig | None = None,
        start_ns: int = START_NS,
    ) -> None:
        self.clock = SimClock(start_ns)
        self.instruments = {
            i.instrument_id: i for i in (make_instrument("AAA"), make_instrument("BBB"))
        }
        self.log: list[object] = []
        self.sent: list[Any] = []
        self.venue: dict[str, ExecutionReport | None] = {}
        self.oms = OrderManager(
            self.clock,
            self.instruments,
            send=self.sent.append,
            publish=self._publish,
            query_order=self.venue.get,
            route=self.command,
            config=oms_config,
        )
        self.risk = RiskEngine(
            risk_config or RiskConfig(),
            self.clock,
            self.instruments,
            forward=self.oms.execute,
            publish=self._publish,
        )
        self._trades = 0

    def _publish(self, event: object) -> None:
        self.log.append(event)
        self.risk.on_event(event)

    def restore(self, log: list[object]) -> None:
        """The node's start-up sequence, up to (not including) the reconciliation."""
        for message in log:
            self.oms.restore(message)
            self.risk.restore(message)

    # -- inputs

    def command(self, command: object) -> bool:
        self.log.append(command)
        return self.risk.execute(command)

    def quote(
        self, instrument_id: str = "AAA.SIM", bid: str = "100.00", ask: str = "100.02"
    ) -> None:
        quote = make_quote(instrument_id, bid=bid, ask=ask, ts_event=self.clock.timestamp_ns())
        self.risk.on_quote(quote)
        self.oms.on_quote(quote)

    def submit(
        self,
        client_order_id: str,
        side: OrderSide = OrderSide.BUY,
        quantity: str = "10",
        price: str | None = "100.00",
        *,
        strategy_id: str = "S1",
        instrument_id: str = "AAA.SIM",
        order_type: OrderType = OrderType.LIMIT,
        trigger_price: str | None = None,
        time_in_force: TimeInForce = TimeInForce.GTC,
        expire_time_ns: int | None = None,
    ) -> bool:
        return self.command(
            SubmitOrder(
                strategy_id=strategy_id,
                instrument_id=instrument_id,
                client_order_id=client_order_id,
                side=side,
                order_type=order_type,
                quantity=Quantity.parse(quantity),
                price=Price.parse(price) if price is not None else None,
                trigger_price=Price.parse(trigger_price) if trigger_price is not None else None,
                time_in_force=time_in_force,
                expire_time_ns=expire_time_ns,
                ts_init=self.clock.timestamp_ns(),
            )
        )

    def cancel(self, client_order_id: str) -> bool:
        order = self.order(client_order_id)
        return self.command(
            CancelOrder(
                strategy_id=order.strategy_id,
                instrument_id=order.instrument_id,
                client_order_id=client_order_id,
                ts_init=self.clock.timestamp_ns(),
            )
        )

    def modify(
        self, client_order_id: str, quantity: str | None = None, price: str | None = None
    ) -> bool:
        order = self.order(client_order_id)
        return self.command(
            ModifyOrder(
                strategy_id=order.strategy_id,
                instrument_id=order.instrument_id,
                client_order_id=client_order_id,
                quantity=Quantity.parse(quantity) if quantity is not None else None,
                price=Price.parse(price) if price is not None else None,
                ts_init=self.clock.timestamp_ns(),
            )
        )

    # -- venue

    def order(self, client_order_id: str) -> Order:
        order = self.oms.order(client_order_id)
        assert order is not None
        return order

    def report(
        self,
        client_order_id: str,
        kind: ReportKind,
        *,
        quantity: int | None = None,
        price: str | None = None,
        reason: str = "",
        cum: int | None = None,
        leaves: int | None = None,
    ) -> ExecutionReport:
        """A report for the order as the venue sees it (whole units)."""
        order = self.order(client_order_id)
        total = quantity * UNIT if quantity is not None else order.quantity.raw
        cum_raw = cum * UNIT if cum is not None else order.filled_qty.raw
        leaves_raw = leaves * UNIT if leaves is not None else max(0, total - cum_raw)
        return ExecutionReport(
            kind=kind,
            instrument_id=order.instrument_id,
            client_order_id=client_order_id,
            venue_order_id=f"V-{client_order_id}",
            side=order.side,
            cum_qty=Quantity(raw=cum_raw, precision=0),
            leaves_qty=Quantity(raw=leaves_raw, precision=0),
            quantity=Quantity(raw=total, precision=0),
            price=Price.parse(price) if price is not None else order.price,
            reason=reason,
            ts_event=self.clock.timestamp_ns(),
        )

    def answer(self, client_order_id: str, kind: ReportKind, **fields: Any) -> None:
        self.oms.on_report(self.report(client_order_id, kind, **fields))

    def fill(self, client_order_id: str, quantity: int, price: str = "100.00") -> None:
        order = self.order(client_order_id)
        self._trades += 1
        cum = order.filled_qty.raw + quantity * UNIT
        self.oms.on_report(
            ExecutionReport(
                kind=ReportKind.FILL,
                instrument_id=order.instrument_id,
                client_order_id=client_order_id,
                venue_order_id=f"V-{client_order_id}",
                side=order.side,
                cum_qty=Quantity(raw=cum, precision=0),
                leaves_qty=Quantity(raw=max(0, order.quantity.raw - cum), precision=0),
                quantity=order.quantity,
                last_qty=Quantity(raw=quantity * UNIT, precision=0),
                last_px=Price.parse(price),
                trade_id=f"T-{self._trades}",
                liquidity_side=LiquiditySide.MAKER,
                ts_event=self.clock.timestamp_ns(),
            )
        )

    def venue_status(self, client_order_id: str, status: str, *, cum: int, leaves: int) -> None:
        """What ``query_order`` answers for the order (its STATUS report)."""
        self.venue[client_order_id] = self.report(
            client_order_id,
            ReportKind.STATUS,
            reason=status,
            cum=cum,
            leaves=leaves,
            quantity=cum + leaves if leaves else None,
        )


def snapshot(node: Wired) -> dict[str, object]:
    """Everything a restart must bring back, comparable with ``==``."""
    oms = node.oms
    risk = node.risk
    kill = risk.kill_switch
    return {
        "orders": {
            o.client_order_id: (
                o.status,
                o.filled_qty.raw,
                o.quantity.raw,
                o.price,
                o.trigger_price,
                o.venue_order_id,
                frozenset(o.trade_ids),
            )
            for o in oms.orders()
        },
        "open": [o.client_order_id for o in oms.open_orders()],
        "in_flight": sorted(oms.in_flight()),
        "positions": {
            (p.strategy_id, p.instrument_id): (p.quantity_raw, p.realized, p.cost_basis)
            for p in oms.positions()
        },
        "risk_open": sorted(risk.open_orders()),
        "risk_positions": {
            key: risk.position_raw(*key)
            for key in [(s, i) for s in ("S1", "S2") for i in ("AAA.SIM", "BBB.SIM")]
        },
        "trading_state": risk.trading_state,
        "trips": risk.breaker_trips,
        "kill": (kill.all, sorted(kill.strategies), sorted(kill.instruments), kill.history),
    }
