"""Machine-readable reason codes of the risk engine.

Every pre-trade denial is an ``OrderDenied`` event whose ``reason`` is one of
:class:`DenyReason`; every automatic breaker trip is a ``TradingStateChanged`` event whose
``reason`` starts with one of :class:`TripReason` (a ``:detail`` suffix may name the
instrument or the venue). The codes are stable strings: alerting and the run summary
key on them.
"""

from __future__ import annotations

from enum import StrEnum

from spreadwire.domain.reasons import GATE_REASONS, DenyReason

__all__ = ["GATE_REASONS", "DenyReason", "TripReason"]


class TripReason(StrEnum):
    """Why the circuit breaker moved the trading state."""

    DAILY_LOSS = "DAILY_LOSS"
    DRAWDOWN = "DRAWDOWN"
    DENY_REJECT_RATE = "DENY_REJECT_RATE"
    STALE_MARKET_DATA = "STALE_MARKET_DATA"
    PRICE_BAND = "PRICE_BAND"
    LATENCY_P99 = "LATENCY_P99"
    VENUE_ERRORS = "VENUE_ERRORS"
    KILL_SWITCH = "KILL_SWITCH"
    MANUAL = "MANUAL"
    RESET = "RESET"
