"""Automatic circuit-breaker trips: what each monitor watches and when it trips.

==================  =========================================================  ============
reason              condition                                                  default
==================  =========================================================  ============
DAILY_LOSS          PnL since the day start <= -daily_loss_limit               REDUCING
DRAWDOWN            high-water mark - PnL >= max_drawdown                      HALTED
DENY_REJECT_RATE    (denials + venue rejects) / orders >= threshold in window  REDUCING
STALE_MARKET_DATA   a quoted instrument silent for stale_after_ns (or DataGap) REDUCING
PRICE_BAND          mid moves more than band_bps within window_ns              REDUCING
LATENCY_P99         p99 tick-to-order over a window above p99_ns               REDUCING
VENUE_ERRORS        count technical venue errors within window_ns              HALTED
==================  =========================================================  ============

A reason trips once until the next reset (the ``:detail`` suffix names the instrument,
venue or measured value).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final, final

from spreadwire.domain.enums import TradingState
from spreadwire.risk.breaker import CircuitBreaker
from spreadwire.risk.config import BreakerConfig
from spreadwire.risk.exposure import InstrumentRisk, Portfolio
from spreadwire.risk.gate import Limits
from spreadwire.risk.monitors import BurstWindow, LatencyWindow, RateWindow
from spreadwire.risk.reasons import TripReason

_NEVER: Final = 2**200


@final
class Tripwires:
    __slots__ = ("_breaker", "_burst", "_config", "_deny", "_latency", "next_stale_check")

    def __init__(self, config: BreakerConfig, breaker: CircuitBreaker) -> None:
        self._config = config
        self._breaker = breaker
        self._deny = RateWindow(config.deny_reject.window_ns) if config.deny_reject else None
        self._burst = (
            BurstWindow(config.venue_errors.count, config.venue_errors.window_ns)
            if config.venue_errors
            else None
        )
        latency = config.latency
        self._latency = (
            LatencyWindow(latency.window_ns, latency.p99_ns, latency.min_count) if latency else None
        )
        self.next_stale_check = 0

    def _trip(self, state: TradingState, reason: str, now: int, key: str | None = None) -> None:
        if not self._breaker.is_tripped(reason if key is None else key):
            self._breaker.trip(state, reason, now, key=key)

    # -- deny / reject rate

    def outcome(self, now: int, approved_total: int, *, bad: bool, counted: bool) -> None:
        """A denial (``counted``: a new order) or a venue reject (an order counted when
        it was approved); ``approved_total`` is the running count of approvals."""
        window = self._deny
        config = self._config.deny_reject
        if window is None or config is None:
            return
        window.sync(now, approved_total)
        if counted:
            window.record(now, bad)
        elif bad:
            window.record_bad(now)
        self.check_deny_rate(now, approved_total)

    def check_deny_rate(self, now: int, approved_total: int) -> None:
        window = self._deny
        config = self._config.deny_reject
        if window is None or config is None:
            return
        window.sync(now, approved_total)
        window.counts(now)
        if window.bad and window.breached(config.threshold_pct, config.min_count):
            reason = str(TripReason.DENY_REJECT_RATE)
            self._trip(config.trip_state, f"{reason}:{window.bad}/{window.total}", now, reason)

    # -- market data

    def stale(self, instrument_id: str, now: int) -> None:
        reason = f"{TripReason.STALE_MARKET_DATA}:{instrument_id}"
        self._trip(self._config.stale_trip_state, reason, now)

    def check_stale(self, instruments: Iterable[InstrumentRisk], now: int) -> None:
        stale_after = self._config.stale_after_ns
        if not stale_after:
            return
        self.next_stale_check = now + max(1, stale_after // 10)
        for inst in instruments:
            if inst.reference_ts and now - inst.reference_ts > stale_after:
                self.stale(inst.instrument_id, now)

    def band(self, inst: InstrumentRisk, mid: int, now: int) -> None:
        """A mid outside the instrument's band or window (``on_quote`` tests the bounds
        inline): a new anchor, or a trip. The bounds hold exactly the mids within
        ``band_bps`` of the anchor: ``|mid - anchor| * 10_000 <= band_bps * |anchor|``."""
        band = self._config.price_band
        if band is None:
            inst.band_until = _NEVER  # no band: every mid passes inline
            inst.band_low = -_NEVER
            inst.band_high = _NEVER
            return
        anchor = inst.band_anchor
        if anchor == 0 or now - inst.band_anchor_ts > band.window_ns:
            inst.band_anchor = mid
            inst.band_anchor_ts = now
            inst.band_until = now + band.window_ns
            width = band.band_bps * abs(mid) // 10_000
            inst.band_low = mid - width
            inst.band_high = mid + width
        elif abs(mid - anchor) * 10_000 > band.band_bps * abs(anchor):
            self._trip(band.trip_state, f"{TripReason.PRICE_BAND}:{inst.instrument_id}", now)

    # -- latency and venue errors

    def latency(self, latency_ns: int, now: int) -> None:
        window = self._latency
        if window is not None:
            self._latency_breach(window.record(latency_ns, now), now)

    def close_latency_window(self, now: int) -> None:
        window = self._latency
        if window is not None:
            self._latency_breach(window.close_if_due(now), now)

    def _latency_breach(self, p99: int, now: int) -> None:
        config = self._config.latency
        if p99 and config is not None:
            reason = str(TripReason.LATENCY_P99)
            self._trip(config.trip_state, f"{reason}:{p99}ns", now, reason)

    def venue_error(self, venue: str, now: int) -> None:
        burst = self._burst
        config = self._config.venue_errors
        if burst is not None and config is not None and burst.record(now):
            self._trip(config.trip_state, f"{TripReason.VENUE_ERRORS}:{venue}", now)

    # -- PnL

    def pnl(self, portfolio: Portfolio, limits: Limits, now: int) -> None:
        pnl = portfolio.cash2 + portfolio.net2
        if limits.loss2 and pnl - portfolio.day_start_pnl2 <= -limits.loss2:
            self._trip(self._config.loss_trip_state, TripReason.DAILY_LOSS, now)
        if limits.drawdown2 and portfolio.high_water2 - pnl >= limits.drawdown2:
            self._trip(self._config.drawdown_trip_state, TripReason.DRAWDOWN, now)
