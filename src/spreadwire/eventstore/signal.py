"""In-process commit notification: a new commit wakes every waiting reader at once."""

from __future__ import annotations

import threading
from typing import final

from spreadwire.core.clock import perf_counter_ns


@final
class CommitSignal:
    """Carries the highest committed position; readers block until it passes theirs."""

    __slots__ = ("_condition", "_position", "_wakes", "published_ns")

    def __init__(self, position: int = 0) -> None:
        self._condition = threading.Condition(threading.Lock())
        self._position = position
        #: How many times :meth:`wake` ran: a waiter returns when it changes, and a
        #: wait without a timeout does not begin once it ran (the recorder closed).
        self._wakes = 0
        #: ``perf_counter_ns()`` of the latest publish (to measure wake-up latency).
        self.published_ns = 0

    @property
    def position(self) -> int:
        return self._position

    def publish(self, position: int) -> None:
        """Record that everything up to ``position`` is committed and wake all waiters."""
        with self._condition:
            if position > self._position:
                self._position = position
            self.published_ns = perf_counter_ns()
            self._condition.notify_all()

    def reset(self, position: int) -> None:
        """Set the position without the monotonic check (after a truncation on open)."""
        with self._condition:
            self._position = position

    def wait(self, after: int, timeout_s: float | None) -> int:
        """Block until a position above ``after`` is committed or the timeout passes."""
        if self._position > after:
            return self._position
        with self._condition:
            wakes = self._wakes
            if wakes and timeout_s is None:
                # woken for closing before this wait began: nothing would end it (a
                # timed wait still paces its caller's loop)
                return self._position
            self._condition.wait_for(
                lambda: self._position > after or self._wakes != wakes, timeout_s
            )
            return self._position

    def wake(self) -> None:
        """Wake every waiter without a new position (used when closing)."""
        with self._condition:
            self._wakes += 1
            self._condition.notify_all()
