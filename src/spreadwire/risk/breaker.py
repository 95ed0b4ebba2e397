"""The trading-state circuit breaker: ACTIVE -> REDUCING -> HALTED, and audited reset.

Automatic trips only ever escalate the state; going back to ACTIVE needs an explicit
:meth:`CircuitBreaker.reset` naming the operator (refused during the cool-down after an
automatic REDUCING trip). Every change is published as ``TradingStateChanged`` with the
reason and raises a ``TradingAlert``; every trip is kept in :attr:`CircuitBreaker.trips`
for the run summary.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import final

import msgspec

from spreadwire.domain.enums import TradingState
from spreadwire.domain.events import TradingAlert, TradingStateChanged

log = logging.getLogger("spreadwire.risk.breaker")

_RANK = {TradingState.ACTIVE: 0, TradingState.REDUCING: 1, TradingState.HALTED: 2}


class BreakerTrip(msgspec.Struct, frozen=True, kw_only=True):
    """One automatic or manual trip, as it appears in the run summary."""

    reason: str
    ts_ns: int
    state: TradingState


@final
class CircuitBreaker:
    __slots__ = (
        "_cooldown_ns",
        "_last_auto_trip_ns",
        "_publish",
        "_tripped",
        "on_change",
        "resets",
        "state",
        "trips",
    )

    def __init__(self, publish: Callable[[object], None], *, cooldown_ns: int = 0) -> None:
        self._publish = publish
        self._cooldown_ns = cooldown_ns
        self._last_auto_trip_ns: int | None = None
        self._tripped: set[str] = set()
        self.state = TradingState.ACTIVE
        self.trips: list[BreakerTrip] = []
        self.resets: list[tuple[int, str, str]] = []
        self.on_change: Callable[[TradingState], None] | None = None

    def is_tripped(self, reason: str) -> bool:
        return reason in self._tripped

    def trip(
        self,
        state: TradingState,
        reason: str,
        now_ns: int,
        *,
        automatic: bool = True,
        key: str | None = None,
        operator: str | None = None,
    ) -> bool:
        """Escalate to ``state`` for ``reason``; False when already there or beyond.

        ``key`` (default ``reason``) is what :meth:`is_tripped` answers for until reset.
        """
        self._tripped.add(reason if key is None else key)
        if _RANK[state] <= _RANK[self.state]:
            return False
        previous = self.state
        self.state = state
        if automatic:
            self._last_auto_trip_ns = now_ns
        self.trips.append(BreakerTrip(reason=reason, ts_ns=now_ns, state=state))
        log.warning("trading state %s -> %s: %s", previous, state, reason)
        self._announce(state, previous, reason, now_ns, "critical", operator)
        return True

    def restore(
        self, state: TradingState, reason: str, ts_ns: int, *, automatic: bool, key: str
    ) -> None:
        """Take a stored ``TradingStateChanged`` as the state (restart): a trip or a
        reset, kept as it was, without publishing anything."""
        if state is TradingState.ACTIVE:
            self._tripped.clear()
            self._last_auto_trip_ns = None
            operator, _, text = reason.removeprefix("RESET by ").partition(": ")
            self.resets.append((ts_ns, operator, text))
        else:
            self._tripped.add(key)
            if automatic:
                self._last_auto_trip_ns = ts_ns
            self.trips.append(BreakerTrip(reason=reason, ts_ns=ts_ns, state=state))
        self.state = state
        if self.on_change is not None:
            self.on_change(state)

    def cooldown_until(self, now_ns: int) -> int | None:
        """The end of the cool-down after an automatic REDUCING trip while a reset at
        ``now_ns`` would be refused for it; None otherwise."""
        if self.state is not TradingState.REDUCING or self._last_auto_trip_ns is None:
            return None
        until = self._last_auto_trip_ns + self._cooldown_ns
        return until if now_ns < until else None

    def reset(self, operator: str, reason: str, now_ns: int) -> bool:
        """Return to ACTIVE (audited); False when refused (already active or cooling down)."""
        if self.state is TradingState.ACTIVE:
            return False
        until = self.cooldown_until(now_ns)
        if until is not None:
            self._publish(
                TradingAlert(
                    source="risk",
                    code="RESET_REFUSED",
                    message=f"reset by {operator} refused: cool-down until {until}",
                    ts_event=now_ns,
                    ts_init=now_ns,
                )
            )
            return False
        previous = self.state
        self.state = TradingState.ACTIVE
        self._tripped.clear()
        self._last_auto_trip_ns = None
        self.resets.append((now_ns, operator, reason))
        text = f"RESET by {operator}: {reason}" if reason else f"RESET by {operator}"
        log.warning("trading state %s -> ACTIVE: %s", previous, text)
        self._announce(TradingState.ACTIVE, previous, text, now_ns, "warning", operator)
        return True

    def _announce(  # noqa: PLR0917 - the event's fields
        self,
        state: TradingState,
        previous: TradingState,
        reason: str,
        now_ns: int,
        severity: str,
        operator: str | None = None,
    ) -> None:
        self._publish(
            TradingStateChanged(
                state=state,
                previous=previous,
                reason=reason,
                operator=operator,
                ts_event=now_ns,
                ts_init=now_ns,
            )
        )
        self._publish(
            TradingAlert(
                source="risk",
                code=f"TRADING_STATE_{state}",
                message=f"{previous} -> {state}: {reason}",
                severity=severity,
                ts_event=now_ns,
                ts_init=now_ns,
            )
        )
        if self.on_change is not None:
            self.on_change(state)
