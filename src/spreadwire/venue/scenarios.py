"""Scenarios the simulated venue can play, scheduled relative to the venue's start.

* ``flash-crash``: one leg's fair value gaps down by ``move`` (8%) at ``start_ns``, stays
  there for ``duration_ns``, then recovers linearly over ``recovery_ns``.
* ``stale-feed``: one instrument publishes no market data from ``start_ns`` for
  ``duration_ns`` (the book keeps trading); a ``BookSnapshot`` ends the silence.
* ``reject-storm``: from ``start_ns`` for ``duration_ns`` the venue rejects each node
  order with probability ``reject_probability``, reason ``VENUE_BUSY``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from spreadwire.core.scheduler import Scheduler
from spreadwire.venue.config import ScenarioConfig, ScenarioName


class ScenarioTarget(Protocol):
    """What a scenario may change on the venue."""

    def set_shock(self, instrument_id: str, factor: float) -> None: ...

    def set_stale(self, instrument_id: str | None) -> None: ...

    def set_busy(self, probability: float) -> None: ...


def schedule_scenario(
    name: ScenarioName,
    params: ScenarioConfig,
    target: ScenarioTarget,
    scheduler: Scheduler,
    *,
    origin_ns: int,
    instrument_id: str,
    step_ns: int,
) -> None:
    """Put the scenario's changes on ``scheduler``, times relative to ``origin_ns``."""
    begin = origin_ns + params.start_ns
    end = begin + params.duration_ns
    if name == "flash-crash":
        _flash_crash(
            params,
            target,
            scheduler,
            begin=begin,
            end=end,
            instrument_id=instrument_id,
            step_ns=step_ns,
        )
    elif name == "stale-feed":
        scheduler.at(begin, lambda: target.set_stale(instrument_id))
        scheduler.at(end, lambda: target.set_stale(None))
    else:
        probability = params.reject_probability
        scheduler.at(begin, lambda: target.set_busy(probability))
        scheduler.at(end, lambda: target.set_busy(0.0))


def _flash_crash(
    params: ScenarioConfig,
    target: ScenarioTarget,
    scheduler: Scheduler,
    *,
    begin: int,
    end: int,
    instrument_id: str,
    step_ns: int,
) -> None:
    def shock(factor: float) -> Callable[[], None]:
        return lambda: target.set_shock(instrument_id, factor)

    move = params.move
    scheduler.at(begin, shock(1.0 - move))
    steps = max(1, params.recovery_ns // step_ns)
    for k in range(1, steps + 1):
        scheduler.at(end + k * params.recovery_ns // steps, shock(1.0 - move * (1.0 - k / steps)))
