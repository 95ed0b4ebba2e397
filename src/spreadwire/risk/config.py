"""Configuration of the risk engine: frozen, constrained, passed down from ``config.load``.

Money and quantity limits are decimal strings (``"250000"``, ``"0.5"``), parsed once at
construction into fixed-point raw ints; rates are ``limit`` + ``interval_ns``; durations
are ``*_ns``. ``"0"`` disables a money limit, ``0`` disables a duration-based monitor.
The defaults let a small demo (a few pairs, a few hundred shares each) trade freely.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Annotated

import msgspec

from spreadwire.domain.enums import TradingState
from spreadwire.errors import ValidationError

Amount = Annotated[str, msgspec.Meta(pattern=r"^[0-9]{1,18}(\.[0-9]{1,9})?$")]
PositiveInt = Annotated[int, msgspec.Meta(gt=0)]
NonNegativeInt = Annotated[int, msgspec.Meta(ge=0)]
Percent = Annotated[int, msgspec.Meta(ge=1, le=100)]
Bps = Annotated[int, msgspec.Meta(ge=1, le=100_000)]

SECOND_NS = 1_000_000_000


class RateLimit(msgspec.Struct, frozen=True, kw_only=True):
    """At most ``limit`` messages per ``interval_ns`` (token bucket)."""

    limit: PositiveInt
    interval_ns: PositiveInt


class InstrumentLimits(msgspec.Struct, frozen=True, kw_only=True):
    """Per-instrument overrides; ``None`` keeps the engine-wide default."""

    max_order_quantity: Amount | None = None
    min_order_quantity: Amount | None = None
    max_order_notional: Amount | None = None
    max_position: Amount | None = None
    collar_bps: Bps | None = None


class RateWindowTrip(msgspec.Struct, frozen=True, kw_only=True):
    """Trip when ``bad / total >= threshold_pct`` over ``window_ns`` with ``total >= min_count``."""

    threshold_pct: Percent = 50
    window_ns: PositiveInt = 10 * SECOND_NS
    min_count: PositiveInt = 20
    trip_state: TradingState = TradingState.REDUCING


class LatencyTrip(msgspec.Struct, frozen=True, kw_only=True):
    """Trip when the p99 of ``record_latency`` samples over ``window_ns`` exceeds ``p99_ns``."""

    p99_ns: PositiveInt = 5_000_000
    window_ns: PositiveInt = 10 * SECOND_NS
    min_count: PositiveInt = 100
    trip_state: TradingState = TradingState.REDUCING


class BurstTrip(msgspec.Struct, frozen=True, kw_only=True):
    """Trip when ``count`` venue errors happen within ``window_ns``."""

    count: PositiveInt = 10
    window_ns: PositiveInt = 5 * SECOND_NS
    trip_state: TradingState = TradingState.HALTED


class PriceBandTrip(msgspec.Struct, frozen=True, kw_only=True):
    """Trip when an instrument's mid moves more than ``band_bps`` from its price at the
    start of a ``window_ns`` window (a limit-up/limit-down style volatility guard)."""

    band_bps: Bps = 500
    window_ns: PositiveInt = 5 * SECOND_NS
    trip_state: TradingState = TradingState.REDUCING


class VenueBreakerConfig(msgspec.Struct, frozen=True, kw_only=True):
    """Per-venue connection breaker (closed/open/half-open), resilience4j style.

    Count-based window of the last ``window_size`` calls; opens when at least
    ``min_calls`` were seen and ``failure_pct`` of them failed; stays open ``open_ns``,
    then lets ``half_open_probes`` calls through: all succeed -> closed, one fails -> open.
    """

    window_size: PositiveInt = 50
    min_calls: PositiveInt = 10
    failure_pct: Percent = 50
    open_ns: PositiveInt = 5 * SECOND_NS
    half_open_probes: PositiveInt = 3


class BreakerConfig(msgspec.Struct, frozen=True, kw_only=True):
    """Automatic circuit-breaker trips and the reset rule."""

    loss_trip_state: TradingState = TradingState.REDUCING
    drawdown_trip_state: TradingState = TradingState.HALTED
    deny_reject: RateWindowTrip | None = msgspec.field(default_factory=RateWindowTrip)
    stale_after_ns: NonNegativeInt = 5 * SECOND_NS
    stale_trip_state: TradingState = TradingState.REDUCING
    price_band: PriceBandTrip | None = msgspec.field(default_factory=PriceBandTrip)
    latency: LatencyTrip | None = msgspec.field(default_factory=LatencyTrip)
    venue_errors: BurstTrip | None = msgspec.field(default_factory=BurstTrip)
    venue: VenueBreakerConfig = msgspec.field(default_factory=VenueBreakerConfig)
    reducing_cooldown_ns: NonNegativeInt = 30 * SECOND_NS


class RiskConfig(msgspec.Struct, frozen=True, kw_only=True):
    """Limits of the pre-trade gate and of the circuit breaker (account currency)."""

    max_order_quantity: Amount = "100000"
    min_order_quantity: Amount = "0"
    max_order_notional: Amount = "1000000"
    check_min_notional: bool = True
    collar_bps: Bps = 500
    stop_collar_bps: Bps = 2_000
    reference_max_age_ns: NonNegativeInt = 5 * SECOND_NS
    require_reference_price: bool = True
    starting_balance: Amount = "10000000"
    margin_bps: Bps = 10_000
    max_open_orders: PositiveInt = 500
    strategy_max_open_orders: PositiveInt = 100
    order_rate: RateLimit = msgspec.field(
        default_factory=lambda: RateLimit(limit=1_000, interval_ns=SECOND_NS)
    )
    strategy_order_rate: RateLimit = msgspec.field(
        default_factory=lambda: RateLimit(limit=200, interval_ns=SECOND_NS)
    )
    cancel_rate: RateLimit = msgspec.field(
        default_factory=lambda: RateLimit(limit=2_000, interval_ns=SECOND_NS)
    )
    strategy_cancel_rate: RateLimit = msgspec.field(
        default_factory=lambda: RateLimit(limit=400, interval_ns=SECOND_NS)
    )
    duplicate_id_memory: PositiveInt = 1_000_000
    self_trade_check: bool = True
    max_position: Amount = "100000"
    strategy_notional_budget: Amount = "5000000"
    max_gross_exposure: Amount = "20000000"
    max_net_exposure: Amount = "10000000"
    daily_loss_limit: Amount = "250000"
    max_drawdown: Amount = "400000"
    instrument_limits: dict[str, InstrumentLimits] = msgspec.field(default_factory=dict)
    breaker: BreakerConfig = msgspec.field(default_factory=BreakerConfig)

    def __post_init__(self) -> None:
        """A minimum order quantity above the maximum in force (engine-wide, or for an
        instrument with its overrides) would deny every order: a mistake, refused."""
        low, high = self.min_order_quantity, self.max_order_quantity
        if Fraction(low) > Fraction(high):
            raise ValidationError("min_order_quantity", f"{low} is above max_order_quantity {high}")
        for key, limits in self.instrument_limits.items():
            low = limits.min_order_quantity or self.min_order_quantity
            high = limits.max_order_quantity or self.max_order_quantity
            if Fraction(low) > Fraction(high):
                raise ValidationError(
                    "instrument_limits",
                    f"{key}: min_order_quantity {low} is above max_order_quantity {high}",
                )
