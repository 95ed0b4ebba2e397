"""A pair of legs fed synthetic quotes on a known line, and the strategy's order flow.

The x leg trends up one cent per step; the y leg sits on ``y = 2 x`` plus a ``shock`` in
cents, so the spread (and the z-score of the rolling OLS residual) is set by the test.
Each step sends the x quote, then the y quote (two model updates per step, once both legs
have quoted); every quote is one tick wide around its mid.
"""

from __future__ import annotations

from collections.abc import Callable

from spreadwire.core.clock import SimClock
from spreadwire.domain.commands import SubmitOrder
from spreadwire.domain.enums import LiquiditySide, OrderSide
from spreadwire.domain.events import (
    OrderCanceled,
    OrderDenied,
    OrderEvent,
    OrderFilled,
    OrderPartiallyFilled,
)
from spreadwire.domain.instrument import Instrument
from spreadwire.domain.market import QuoteTick
from spreadwire.domain.values import Price, Quantity
from spreadwire.stats import RollingOLS
from spreadwire.strategy.config import PairStrategyConfig
from spreadwire.strategy.pairs import PairsStrategy
from tests.builders import make_instrument

Y_ID = "YYY.SIM"
X_ID = "XXX.SIM"
STEP_NS = 1_000_000
X_START_CENTS = 10_000
WINDOW = 40
WARMUP_STEPS = WINDOW // 2 + 1  # two model updates per step after the first y quote


def instruments() -> dict[str, Instrument]:
    return {i.instrument_id: i for i in (make_instrument("YYY"), make_instrument("XXX"))}


def pair_config(**changes: object) -> PairStrategyConfig:
    fields: dict[str, object] = {
        "strategy_id": "pairs.test",
        "leg_y": Y_ID,
        "leg_x": X_ID,
        "window": WINDOW,
        "entry_z": 2.0,
        "exit_z": 1.0,
        "stop_z": 3.5,
        "notional": "10000",
        "cooldown_ns": 10 * STEP_NS,
    }
    fields.update(changes)
    return PairStrategyConfig(**fields)  # type: ignore[arg-type]


def quote(instrument_id: str, mid_cents: int, ts_ns: int) -> QuoteTick:
    return QuoteTick(
        instrument_id=instrument_id,
        bid_price=Price(raw=(mid_cents - 1) * 10_000_000, precision=2),
        ask_price=Price(raw=(mid_cents + 1) * 10_000_000, precision=2),
        bid_size=Quantity(raw=100 * 1_000_000_000, precision=0),
        ask_size=Quantity(raw=100 * 1_000_000_000, precision=0),
        ts_event=ts_ns,
        ts_init=ts_ns,
    )


class PairFeed:
    """Drives one strategy: quotes in, captured orders out, fills and cancels back."""

    def __init__(self, strategy: PairsStrategy, clock: SimClock, orders: list[SubmitOrder]) -> None:
        self.strategy = strategy
        self.clock = clock
        self.steps = 0
        self.orders = orders  # every order the strategy submitted, in order
        self.zscores: list[float] = []

    def step(self, shock_cents: int = 0) -> None:
        self.clock.advance(STEP_NS)
        x_cents = X_START_CENTS + self.steps
        now = self.clock.timestamp_ns()
        self.strategy.on_quote(quote(X_ID, x_cents, now))
        self.zscores.append(self.strategy.zscore)
        self.strategy.on_quote(quote(Y_ID, 2 * x_cents + shock_cents, now))
        self.zscores.append(self.strategy.zscore)
        self.steps += 1

    def warm_up(self) -> None:
        for _ in range(WARMUP_STEPS):
            self.step()

    def fill(self, order: SubmitOrder, quantity_raw: int | None = None) -> None:
        """Fill ``order`` (fully, or ``quantity_raw`` of it as a partial fill)."""
        self.strategy.on_event(fill_event(order, quantity_raw))

    def fill_all(self) -> None:
        """Fill every working order (the strategy's newest ``in_flight`` ones)."""
        working = self.strategy.in_flight
        for order in self.orders[len(self.orders) - working :]:
            self.fill(order)


def fill_event(order: SubmitOrder, quantity_raw: int | None = None) -> OrderEvent:
    full = order.quantity.raw
    last = full if quantity_raw is None else quantity_raw
    kind: Callable[..., OrderEvent] = OrderFilled if last == full else OrderPartiallyFilled
    assert order.price is not None
    return kind(
        strategy_id=order.strategy_id,
        instrument_id=order.instrument_id,
        client_order_id=order.client_order_id,
        venue_order_id=f"V-{order.client_order_id}",
        trade_id=f"T-{order.client_order_id}",
        side=order.side,
        last_qty=Quantity(raw=last, precision=order.quantity.precision),
        last_px=order.price,
        cum_qty=Quantity(raw=last, precision=order.quantity.precision),
        leaves_qty=Quantity(raw=full - last, precision=order.quantity.precision),
        liquidity_side=LiquiditySide.TAKER,
        ts_event=0,
        ts_init=0,
    )


def canceled_event(order: SubmitOrder) -> OrderCanceled:
    return OrderCanceled(
        strategy_id=order.strategy_id,
        instrument_id=order.instrument_id,
        client_order_id=order.client_order_id,
        ts_event=0,
        ts_init=0,
    )


def denied_event(order: SubmitOrder) -> OrderDenied:
    """The risk gate's refusal of ``order`` (it never reaches the venue)."""
    return OrderDenied(
        strategy_id=order.strategy_id,
        instrument_id=order.instrument_id,
        client_order_id=order.client_order_id,
        reason="MAX_NOTIONAL",
        ts_event=0,
        ts_init=0,
    )


def signed_raw(order: SubmitOrder) -> int:
    return order.quantity.raw if order.side is OrderSide.BUY else -order.quantity.raw


def make_pair(**changes: object) -> PairFeed:
    """A strategy on ``YYY.SIM``/``XXX.SIM`` (``pair_config(**changes)``) and its feed."""
    clock = SimClock(0)
    legs = instruments()
    config = pair_config(**changes)
    orders: list[SubmitOrder] = []
    strategy = PairsStrategy(
        config,
        y=legs[Y_ID],
        x=legs[X_ID],
        model=RollingOLS(config.window),
        clock=clock,
        submit=orders.append,
    )
    return PairFeed(strategy, clock, orders)
