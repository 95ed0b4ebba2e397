"""The risk gate under random orders, fills, cancels and quotes: no order is accepted
past a limit, and the fast path agrees with the ordered checks."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from spreadwire.core.clock import SimClock
from spreadwire.domain.commands import SubmitOrder
from spreadwire.domain.enums import LiquiditySide, OrderSide, OrderType
from spreadwire.domain.events import OrderCanceled, OrderFilled, OrderPartiallyFilled
from spreadwire.domain.values import Price, Quantity
from spreadwire.risk.config import BreakerConfig, RateLimit, RiskConfig
from spreadwire.risk.engine import RiskEngine
from spreadwire.risk.exposure import WorkingOrder
from spreadwire.risk.gate import Gate
from tests.builders import make_instrument, make_quote

SECOND = 1_000_000_000
START = 1_000 * SECOND
S = 10**9
CONFIG = RiskConfig(
    max_order_quantity="25",
    max_order_notional="2500",
    collar_bps=300,
    max_open_orders=6,
    strategy_max_open_orders=4,
    order_rate=RateLimit(limit=8, interval_ns=SECOND),
    strategy_order_rate=RateLimit(limit=4, interval_ns=SECOND),
    max_position="40",
    strategy_notional_budget="4000",
    max_gross_exposure="6000",
    max_net_exposure="2500",
    daily_loss_limit="0",
    max_drawdown="0",
    starting_balance="1000000",
    breaker=BreakerConfig(deny_reject=None, price_band=None, stale_after_ns=0),
)
Step = tuple[str, int, int, int]
ops = st.sampled_from(("submit", "submit", "submit", "fill", "fill", "cancel", "quote", "wait"))
steps = st.lists(
    st.tuples(
        ops,
        st.integers(min_value=0, max_value=63),
        st.integers(min_value=1, max_value=30),
        st.integers(min_value=-200, max_value=200),
    ),
    min_size=10,
    max_size=80,
)


def _third_decimal(offset: int) -> str:
    if offset % 7 == 0:
        return "5"
    return "0" if offset % 3 == 0 else ""


class World:
    def __init__(self) -> None:
        self.clock = SimClock(START)
        self.instruments = {
            i.instrument_id: i for i in (make_instrument("AAA"), make_instrument("BBB"))
        }
        self.forwarded: list[object] = []
        self.engine = RiskEngine(
            CONFIG,
            self.clock,
            self.instruments,
            forward=self.forwarded.append,
            publish=lambda event: None,
        )
        self.mids = {"AAA.SIM": 100_00, "BBB.SIM": 50_00}
        self.ids = 0
        self.trades = 0
        for instrument_id in self.mids:
            self.quote(instrument_id, 0)

    @property
    def gate(self) -> Gate:
        return self.engine._gate

    def quote(self, instrument_id: str, move: int) -> None:
        mid = max(10_00, self.mids[instrument_id] + move // 4)
        self.mids[instrument_id] = mid
        bid = f"{mid // 100}.{mid % 100:02d}"
        ask = f"{(mid + 2) // 100}.{(mid + 2) % 100:02d}"
        now = self.clock.timestamp_ns()
        self.engine.on_quote(make_quote(instrument_id, bid=bid, ask=ask, ts_event=now))

    def order(self, pick: int, size: int, offset: int) -> SubmitOrder:
        self.ids += 1
        instrument_id = "AAA.SIM" if pick & 1 else "BBB.SIM"
        cents = max(1, self.mids[instrument_id] + offset)
        return SubmitOrder(
            strategy_id="S1" if pick & 2 else "S2",
            instrument_id=instrument_id,
            client_order_id=f"O-{self.ids}",
            side=OrderSide.BUY if pick & 4 else OrderSide.SELL,
            order_type=OrderType.LIMIT,
            quantity=Quantity(raw=size * S, precision=0),
            # a third decimal now and then: 0 (on the grid, precision above the tick's)
            # or 5 (off the grid)
            price=Price.parse(f"{cents // 100}.{cents % 100:02d}{_third_decimal(offset)}"),
            reduce_only=pick & 56 == 56,
            ts_init=self.clock.timestamp_ns(),
        )

    def working(self, pick: int) -> WorkingOrder | None:
        orders = self.gate.portfolio.working()
        return orders[pick % len(orders)] if orders else None

    def fill(self, pick: int, size: int) -> None:
        order = self.working(pick)
        if order is None:
            return
        quantity = min(order.leaves, size * S)
        self.trades += 1
        done = quantity == order.leaves
        event_type = OrderFilled if done else OrderPartiallyFilled
        leg = order.leg
        now = self.clock.timestamp_ns()
        price = order.notional_price
        self.engine.on_event(
            event_type(
                strategy_id=leg.strategy.strategy_id,
                instrument_id=leg.instrument.instrument_id,
                client_order_id=order.client_order_id,
                venue_order_id="V",
                trade_id=f"T-{self.trades}",
                side=OrderSide.BUY if order.sign > 0 else OrderSide.SELL,
                last_qty=Quantity(raw=quantity, precision=0),
                last_px=Price(raw=price, precision=2),
                cum_qty=Quantity(raw=order.filled + quantity, precision=0),
                leaves_qty=Quantity(raw=order.leaves - quantity, precision=0),
                liquidity_side=LiquiditySide.MAKER,
                ts_event=now,
                ts_init=now,
            )
        )

    def cancel(self, pick: int) -> None:
        order = self.working(pick)
        if order is not None:
            leg = order.leg
            self.engine.on_event(
                OrderCanceled(
                    strategy_id=leg.strategy.strategy_id,
                    instrument_id=leg.instrument.instrument_id,
                    client_order_id=order.client_order_id,
                    ts_event=0,
                    ts_init=0,
                )
            )

    def other(self, op: str, pick: int, size: int, offset: int) -> None:
        if op == "fill":
            self.fill(pick, size)
        elif op == "cancel":
            self.cancel(pick)
        elif op == "quote":
            self.quote("AAA.SIM" if pick & 1 else "BBB.SIM", offset)
        else:
            self.clock.advance(size * 20_000_000)


def _check_limits_after_approval(world: World, cmd: SubmitOrder, reducing: bool) -> None:
    gate = world.gate
    portfolio = gate.portfolio
    strategy = portfolio.strategies[cmd.strategy_id]
    leg = strategy.legs[cmd.instrument_id]
    limits = gate.limits
    assert cmd.quantity.raw <= 25 * S
    assert cmd.price is not None and cmd.price.raw * cmd.quantity.raw <= 2500 * S * S
    assert portfolio.open_count <= limits.max_open_orders
    assert strategy.open_count <= limits.strategy_max_open_orders
    if reducing:
        return
    assert leg.position + leg.open_buy <= 40 * S
    assert leg.open_sell - leg.position <= 40 * S
    assert strategy.gross2 + strategy.open_notional2 <= limits.budget2
    assert portfolio.gross2 + portfolio.open_notional2 <= limits.gross2


@settings(max_examples=150, deadline=None)
@given(steps)
def test_risk_no_order_is_accepted_past_a_limit(sequence: list[Step]) -> None:
    world = World()
    approvals: dict[str, list[int]] = {}
    for op, pick, size, offset in sequence:
        if op != "submit":
            world.other(op, pick, size, offset)
            continue
        cmd = world.order(pick, size, offset)
        sign = 1 if cmd.side is OrderSide.BUY else -1
        leg = world.gate.leg(cmd.strategy_id, cmd.instrument_id, world.clock.timestamp_ns())
        reducing = leg is not None and leg.reduces(sign, cmd.quantity.raw)
        net_before = world.gate.portfolio.net2
        if world.engine.execute(cmd):
            _check_limits_after_approval(world, cmd, reducing)
            assert cmd.price is not None
            notional2 = cmd.price.raw * cmd.quantity.raw
            assert reducing or abs(net_before + sign * notional2) <= world.gate.limits.net2
            times = approvals.setdefault(cmd.strategy_id, [])
            times.append(world.clock.timestamp_ns())
            now = times[-1]
            assert sum(1 for t in times if now - t < SECOND) <= 2 * 4


def _fast_path(gate: Gate, cmd: SubmitOrder) -> bool:
    """``Gate.execute`` with the ordered path and the forward cut off: True when the
    fast path approved (and committed) the order by itself."""
    ordered, forward = gate._ordered, gate._forward
    fell_back: list[SubmitOrder] = []

    def record(command: SubmitOrder, now: int) -> bool:
        fell_back.append(command)
        return False

    gate._ordered, gate._forward = record, lambda command: None
    try:
        approved = gate.execute(cmd)
    finally:
        gate._ordered, gate._forward = ordered, forward
    assert approved is not bool(fell_back)
    return approved


@settings(max_examples=150, deadline=None)
@given(steps)
def test_risk_fast_path_agrees_with_the_ordered_checks(sequence: list[Step]) -> None:
    world = World()
    gate = world.gate
    for op, pick, size, offset in sequence:
        if op != "submit":
            world.other(op, pick, size, offset)
            continue
        cmd = world.order(pick, size, offset)
        now = world.clock.timestamp_ns()
        slow = gate.approve(cmd, now)
        slow_ok = type(slow) is WorkingOrder
        leg = gate.leg(cmd.strategy_id, cmd.instrument_id, now)
        assert leg is not None
        sign = 1 if cmd.side is OrderSide.BUY else -1
        reducing = leg.reduces(sign, cmd.quantity.raw)
        fast = _fast_path(gate, cmd)
        if fast:
            assert slow_ok
        elif slow_ok:
            assert reducing or not gate.fast_ok or cmd.reduce_only
            assert isinstance(slow, WorkingOrder)
            gate.commit(slow, now)
