"""Configuration of the simulated venue: instruments, market generator, latency, scenario.

Frozen msgspec Structs with constrained fields; durations are int ns (``*_ns``), rates
are per second of simulated time. ``msgspec.convert(data, VenueConfig)`` validates a
mapping and names the offending field.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from spreadwire.domain.instrument import Instrument
from spreadwire.domain.values import Money, Price, Quantity

PositiveFloat = Annotated[float, msgspec.Meta(gt=0.0)]
NonNegativeFloat = Annotated[float, msgspec.Meta(ge=0.0)]
Probability = Annotated[float, msgspec.Meta(ge=0.0, le=1.0)]
Fraction = Annotated[float, msgspec.Meta(gt=0.0, lt=1.0)]
PositiveInt = Annotated[int, msgspec.Meta(gt=0)]
NonNegativeInt = Annotated[int, msgspec.Meta(ge=0)]
Symbol = Annotated[str, msgspec.Meta(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9._-]+$")]
Decimal = Annotated[str, msgspec.Meta(pattern=r"^[0-9]+(\.[0-9]+)?$")]
ScenarioName = Literal["flash-crash", "stale-feed", "reject-storm"]

SCENARIOS: tuple[ScenarioName, ...] = ("flash-crash", "stale-feed", "reject-storm")
MS = 1_000_000
SECOND = 1_000_000_000


class PairSpec(msgspec.Struct, frozen=True, kw_only=True):
    """Two cointegrated instruments: ``A = hedge_ratio * B + spread`` (price units).

    B follows a geometric random walk (the shared stochastic trend, ``trend_volatility``
    per sqrt second, relative); the spread is an Ornstein-Uhlenbeck process with mean
    ``price_a - hedge_ratio * price_b``, reversion speed ``spread_reversion`` (1/s) and
    volatility ``spread_volatility`` (price units per sqrt second).
    """

    leg_a: Symbol = "AAA"
    leg_b: Symbol = "BBB"
    price_a: PositiveFloat = 100.0
    price_b: PositiveFloat = 100.0
    hedge_ratio: PositiveFloat = 1.0
    trend_volatility: NonNegativeFloat = 0.0005
    spread_reversion: PositiveFloat = 0.3
    spread_volatility: NonNegativeFloat = 0.06
    tick_size: Decimal = "0.01"
    lot_size: Decimal = "1"
    price_precision: Annotated[int, msgspec.Meta(ge=0, le=9)] = 2
    size_precision: Annotated[int, msgspec.Meta(ge=0, le=9)] = 0
    venue: Symbol = "SIM"
    currency: Symbol = "USD"

    def __post_init__(self) -> None:
        if self.leg_a == self.leg_b:
            raise msgspec.ValidationError("leg_b: must differ from leg_a")

    def instruments(self) -> tuple[Instrument, Instrument]:
        return (self._instrument(self.leg_a), self._instrument(self.leg_b))

    def _instrument(self, symbol: str) -> Instrument:
        return Instrument(
            symbol=symbol,
            venue=self.venue,
            currency=self.currency,
            price_precision=self.price_precision,
            size_precision=self.size_precision,
            tick_size=Price.parse(self.tick_size, self.price_precision),
            lot_size=Quantity.parse(self.lot_size, self.size_precision),
            min_notional=Money.parse("1", self.currency, 2),
        )


class GeneratorConfig(msgspec.Struct, frozen=True, kw_only=True):
    """Background makers (a quote ladder per instrument) and takers (Poisson arrivals)."""

    pairs: tuple[PairSpec, ...] = (PairSpec(),)
    step_ns: PositiveInt = 100 * MS
    maker_levels: PositiveInt = 5
    maker_half_spread_ticks: PositiveInt = 1
    maker_level_spacing_ticks: PositiveInt = 1
    maker_min_lots: PositiveInt = 5
    maker_max_lots: PositiveInt = 50
    taker_rate: NonNegativeFloat = 5.0
    taker_min_lots: PositiveInt = 1
    taker_max_lots: PositiveInt = 20
    taker_market_fraction: Probability = 0.5
    taker_fair_bias: Probability = 0.2

    def __post_init__(self) -> None:
        if not self.pairs:
            raise msgspec.ValidationError("pairs: at least one pair is needed")
        symbols = [s for p in self.pairs for s in (p.leg_a, p.leg_b)]
        if len(set(symbols)) != len(symbols):
            raise msgspec.ValidationError("pairs: a symbol appears in more than one leg")
        if self.maker_min_lots > self.maker_max_lots:
            raise msgspec.ValidationError("maker_min_lots: must be <= maker_max_lots")
        if self.taker_min_lots > self.taker_max_lots:
            raise msgspec.ValidationError("taker_min_lots: must be <= taker_max_lots")

    def instruments(self) -> tuple[Instrument, ...]:
        return tuple(i for pair in self.pairs for i in pair.instruments())


class ScenarioConfig(msgspec.Struct, frozen=True, kw_only=True):
    """When and how hard a scenario hits; times are relative to ``SimulatedVenue.start``.

    ``instrument`` defaults to leg A of the first pair (flash-crash, stale-feed).
    """

    start_ns: NonNegativeInt = 5 * SECOND
    duration_ns: PositiveInt = 3 * SECOND
    recovery_ns: NonNegativeInt = 2 * SECOND
    instrument: str | None = None
    move: Fraction = 0.08
    reject_probability: Probability = 0.9


class VenueConfig(msgspec.Struct, frozen=True, kw_only=True):
    """The simulated venue: market, latencies (constant + uniform jitter) and scenario."""

    generator: GeneratorConfig = GeneratorConfig()
    order_latency_ns: NonNegativeInt = 50_000
    order_jitter_ns: NonNegativeInt = 20_000
    report_latency_ns: NonNegativeInt = 50_000
    report_jitter_ns: NonNegativeInt = 20_000
    market_data_latency_ns: NonNegativeInt = 20_000
    market_data_jitter_ns: NonNegativeInt = 10_000
    scenario: ScenarioName | None = None
    scenario_params: ScenarioConfig = ScenarioConfig()


def default_pairs(count: int, **overrides: object) -> tuple[PairSpec, ...]:
    """``count`` pairs named AAA/BBB, CCC/DDD, ... with slightly different prices.

    ``overrides`` are PairSpec fields applied to every pair (validated).
    """
    if count <= 0 or count > 13:
        raise msgspec.ValidationError(f"count: must be within 1..13, got {count}")
    pairs = []
    for index in range(count):
        a = chr(ord("A") + 2 * index) * 3
        b = chr(ord("A") + 2 * index + 1) * 3
        fields: dict[str, object] = {
            "leg_a": a,
            "leg_b": b,
            "price_a": 100.0 + 10.0 * index,
            "price_b": 100.0 + 5.0 * index,
            "hedge_ratio": 1.0 + 0.1 * index,
        }
        fields.update(overrides)
        pairs.append(msgspec.convert(fields, PairSpec))
    return tuple(pairs)
