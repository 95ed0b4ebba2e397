"""A venue connection breaker: closed / open / half-open with probes (resilience4j style).

Outcomes of venue calls (ack, reject for a technical reason, timeout, disconnect) go into a
count-based window of the last ``window_size`` calls. Once ``min_calls`` are in the window
and ``failure_pct`` of them failed, the breaker opens: no new order goes to that venue
(cancels still do). After ``open_ns`` it lets ``half_open_probes`` calls through; all of
them succeeding closes it, any failure re-opens it. A disconnect opens it at once.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from enum import StrEnum
from typing import final

from spreadwire.risk.config import VenueBreakerConfig


class VenueState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@final
class VenueBreaker:
    __slots__ = (
        "_config",
        "_failures",
        "_on_change",
        "_opened_at",
        "_probes_left",
        "_probes_ok",
        "_window",
        "state",
        "venue",
    )

    def __init__(
        self,
        venue: str,
        config: VenueBreakerConfig,
        on_change: Callable[[str, VenueState, VenueState, str, int], None] | None = None,
    ) -> None:
        self.venue = venue
        self._config = config
        self._on_change = on_change
        self._window: deque[bool] = deque(maxlen=config.window_size)
        self._failures = 0
        self._opened_at = 0
        self._probes_left = 0
        self._probes_ok = 0
        self.state = VenueState.CLOSED

    def allow(self, now_ns: int) -> bool:
        """May a new order go to this venue now? (A half-open probe slot is consumed.)"""
        state = self.state
        if state is VenueState.CLOSED:
            return True
        if state is VenueState.OPEN:
            if now_ns < self._opened_at + self._config.open_ns:
                return False
            self._move(VenueState.HALF_OPEN, "open interval elapsed", now_ns)
            self._probes_left = self._config.half_open_probes
            self._probes_ok = 0
        if self._probes_left <= 0:
            return False
        self._probes_left -= 1
        return True

    def record(self, ok: bool, now_ns: int, reason: str = "") -> None:
        if self.state is VenueState.HALF_OPEN:
            if not ok:
                self._open(f"probe failed: {reason}", now_ns)
                return
            self._probes_ok += 1
            if self._probes_ok >= self._config.half_open_probes:
                self._window.clear()
                self._failures = 0
                self._move(VenueState.CLOSED, "probes succeeded", now_ns)
            return
        if self.state is VenueState.OPEN:
            return
        window = self._window
        if len(window) == window.maxlen and not window[0]:
            self._failures -= 1
        window.append(ok)
        if not ok:
            self._failures += 1
        config = self._config
        if len(window) >= config.min_calls and self._failures * 100 >= config.failure_pct * len(
            window
        ):
            self._open(f"{self._failures}/{len(window)} failed: {reason}", now_ns)

    def restore(self, state: VenueState, ts_ns: int) -> None:
        """Take a stored ``VenueStateChanged`` as the state (restart), without telling
        anyone. A half-open breaker comes back open with its interval elapsed, so its
        probes start afresh."""
        self._window.clear()
        self._failures = 0
        if state is VenueState.CLOSED:
            self.state = state
            return
        self.state = VenueState.OPEN
        self._opened_at = ts_ns if state is VenueState.OPEN else ts_ns - self._config.open_ns

    def disconnected(self, now_ns: int, reason: str = "disconnect") -> None:
        if self.state is not VenueState.OPEN:
            self._open(reason, now_ns)

    def _open(self, reason: str, now_ns: int) -> None:
        self._opened_at = now_ns
        self._window.clear()
        self._failures = 0
        self._move(VenueState.OPEN, reason, now_ns)

    def _move(self, state: VenueState, reason: str, now_ns: int) -> None:
        previous = self.state
        self.state = state
        if self._on_change is not None and previous is not state:
            self._on_change(self.venue, state, previous, reason, now_ns)
