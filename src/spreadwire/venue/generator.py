"""A seeded market generator that makes the simulated books live.

Per pair, a shared stochastic trend (a geometric random walk of leg B) and a
mean-reverting Ornstein-Uhlenbeck spread give cointegrated fair values::

    B_t = price_b * exp(w_t)                w_t random walk
    A_t = hedge_ratio * B_t + mu + s_t      s_t OU around 0, mu = price_a - hedge_ratio * price_b

Background makers keep a ladder of a few levels each side around the fair value and
refresh it every ``step_ns`` (levels whose price is unchanged keep their queue place);
background takers arrive as a Poisson process per instrument and send market or IOC
orders of random size, leaning towards the fair value. Everything goes through the same
:class:`~spreadwire.venue.exchange.SimulatedExchange` as the node's orders.

Three independent random streams (spawned from one seed) drive the fair values, the maker
sizes and the takers, so the fair-value path does not depend on what the node does.
"""

from __future__ import annotations

import math
from typing import Final, final

import numpy as np

from spreadwire.core.scheduler import Scheduler
from spreadwire.domain.instrument import Instrument
from spreadwire.domain.values import FIXED_SCALAR
from spreadwire.venue.book import BookOrder
from spreadwire.venue.config import GeneratorConfig, PairSpec
from spreadwire.venue.exchange import SimulatedExchange

MAKER: Final = "maker"
TAKER: Final = "taker"


def make_rngs(seed: int, count: int) -> list[np.random.Generator]:
    """``count`` independent PCG64 generators derived from ``seed``."""
    return [
        np.random.Generator(np.random.PCG64(s)) for s in np.random.SeedSequence(seed).spawn(count)
    ]


@final
class _PairState:
    __slots__ = ("mean", "spec", "spread", "trend")

    def __init__(self, spec: PairSpec) -> None:
        self.spec = spec
        self.trend = 0.0
        self.spread = 0.0
        self.mean = spec.price_a - spec.hedge_ratio * spec.price_b

    def fair_b(self) -> float:
        return self.spec.price_b * math.exp(self.trend)

    def fair_a(self) -> float:
        return self.spec.hedge_ratio * self.fair_b() + self.mean + self.spread

    def advance(self, dt: float, shocks: tuple[float, float]) -> None:
        spec = self.spec
        self.trend += spec.trend_volatility * math.sqrt(dt) * shocks[0]
        decay = math.exp(-spec.spread_reversion * dt)
        scale = math.sqrt((1.0 - decay * decay) / (2.0 * spec.spread_reversion))
        self.spread = self.spread * decay + spec.spread_volatility * scale * shocks[1]


@final
class _Quoter:
    """The background maker's ladder on one instrument: price -> resting order."""

    __slots__ = (
        "asks",
        "bids",
        "instrument_id",
        "is_leg_a",
        "lot",
        "pair",
        "shock",
        "tick",
        "tick_float",
    )

    def __init__(self, instrument: Instrument, pair: _PairState, *, is_leg_a: bool) -> None:
        self.is_leg_a = is_leg_a
        self.instrument_id = instrument.instrument_id
        self.tick = instrument.tick_size.raw
        self.tick_float = self.tick / FIXED_SCALAR
        self.lot = instrument.lot_size.raw
        self.pair = pair
        self.bids: dict[int, BookOrder] = {}
        self.asks: dict[int, BookOrder] = {}
        self.shock = 1.0


@final
class MarketGenerator:
    """Background makers and takers on a :class:`Scheduler`; see the module docstring."""

    def __init__(
        self,
        config: GeneratorConfig,
        exchange: SimulatedExchange,
        scheduler: Scheduler,
        seed: int,
    ) -> None:
        self._config = config
        self._exchange = exchange
        self._scheduler = scheduler
        self._fair_rng, self._maker_rng, self._taker_rng = make_rngs(seed, 3)
        self._pairs = [_PairState(spec) for spec in config.pairs]
        self._quoters: dict[str, _Quoter] = {}
        for pair in self._pairs:
            leg_a, leg_b = pair.spec.instruments()
            self._quoters[leg_a.instrument_id] = _Quoter(leg_a, pair, is_leg_a=True)
            self._quoters[leg_b.instrument_id] = _Quoter(leg_b, pair, is_leg_a=False)
        self._dt = config.step_ns / 1e9
        self._started = False

    @property
    def instrument_ids(self) -> tuple[str, ...]:
        return tuple(self._quoters)

    def fair_value(self, instrument_id: str) -> float:
        """The current fair value (shock applied) of an instrument, in price units."""
        quoter = self._quoters[instrument_id]
        pair = quoter.pair
        return (pair.fair_a() if quoter.is_leg_a else pair.fair_b()) * quoter.shock

    def set_shock(self, instrument_id: str, factor: float) -> None:
        """Scale an instrument's fair value by ``factor`` (1.0 = none) and requote now."""
        if not factor > 0.0:
            raise ValueError(f"factor: must be > 0, got {factor}")
        quoter = self._quoters[instrument_id]
        quoter.shock = factor
        self._requote(quoter)

    def start(self) -> None:
        """Quote every instrument now, then step the market and the takers forever."""
        if self._started:
            raise RuntimeError("generator: already started")
        self._started = True
        for quoter in self._quoters.values():
            self._requote(quoter)
        self._scheduler.after(self._config.step_ns, self._step)
        if self._config.taker_rate > 0.0:
            for quoter in self._quoters.values():
                self._schedule_taker(quoter)

    # ------------------------------------------------------------------ makers

    def _step(self) -> None:
        shocks = self._fair_rng.standard_normal(2 * len(self._pairs))
        for index, pair in enumerate(self._pairs):
            pair.advance(self._dt, (float(shocks[2 * index]), float(shocks[2 * index + 1])))
        for quoter in self._quoters.values():
            self._requote(quoter)
        self._scheduler.after(self._config.step_ns, self._step)

    def _requote(self, quoter: _Quoter) -> None:
        config = self._config
        fair_ticks = self.fair_value(quoter.instrument_id) / quoter.tick_float
        half = config.maker_half_spread_ticks - 1
        best_bid = max(1, math.floor(fair_ticks) - half)
        best_ask = max(best_bid + 1, math.ceil(fair_ticks) + half)
        spacing = config.maker_level_spacing_ticks
        tick = quoter.tick
        bids = [(best_bid - i * spacing) * tick for i in range(config.maker_levels)]
        asks = [(best_ask + i * spacing) * tick for i in range(config.maker_levels)]
        self._withdraw_stale(quoter.bids, bids)
        self._withdraw_stale(quoter.asks, asks)
        self._fill_ladder(quoter, quoter.bids, [p for p in bids if p > 0], is_buy=True)
        self._fill_ladder(quoter, quoter.asks, asks, is_buy=False)

    def _withdraw_stale(self, ladder: dict[int, BookOrder], wanted: list[int]) -> None:
        keep = set(wanted)
        for price in list(ladder):
            order = ladder[price]
            if price not in keep or not order.live:
                self._exchange.withdraw(order)
                del ladder[price]

    def _fill_ladder(
        self, quoter: _Quoter, ladder: dict[int, BookOrder], prices: list[int], *, is_buy: bool
    ) -> None:
        config = self._config
        missing = [p for p in prices if p not in ladder]
        if not missing:
            return
        lots = self._maker_rng.integers(
            config.maker_min_lots, config.maker_max_lots + 1, size=len(missing)
        )
        for price, size in zip(missing, lots.tolist(), strict=True):
            order = self._exchange.place(
                MAKER, quoter.instrument_id, is_buy, price, int(size) * quoter.lot
            )
            if order is not None:
                ladder[price] = order

    # ------------------------------------------------------------------ takers

    def _schedule_taker(self, quoter: _Quoter) -> None:
        wait_s = float(self._taker_rng.exponential(1.0 / self._config.taker_rate))
        self._scheduler.after(max(1, round(wait_s * 1e9)), lambda: self._take(quoter))

    def _take(self, quoter: _Quoter) -> None:
        config = self._config
        side_draw, type_draw = self._taker_rng.random(2).tolist()
        lots = int(self._taker_rng.integers(config.taker_min_lots, config.taker_max_lots + 1))
        fair = self.fair_value(quoter.instrument_id)
        book = self._exchange.book(quoter.instrument_id)
        bid, ask = book.best_bid(), book.best_ask()
        p_buy = 0.5
        if bid is not None and ask is not None:
            mid = (bid + ask) / 2 / FIXED_SCALAR
            p_buy += config.taker_fair_bias * (1.0 if fair > mid else -1.0 if fair < mid else 0.0)
        is_buy = side_draw < p_buy
        quantity = lots * quoter.lot
        if type_draw < config.taker_market_fraction:
            self._exchange.place(TAKER, quoter.instrument_id, is_buy, None, quantity)
        else:
            ticks = (
                math.ceil(fair / quoter.tick_float)
                if is_buy
                else math.floor(fair / quoter.tick_float)
            )
            limit = max(1, ticks + (1 if is_buy else -1)) * quoter.tick
            self._exchange.place(
                TAKER, quoter.instrument_id, is_buy, limit, quantity, resting=False
            )
        self._schedule_taker(quoter)
