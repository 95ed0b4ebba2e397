"""The controlled collector: thresholds raised while running, collections on its ticks,
cycles still reclaimed, the process's thresholds given back."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from spreadwire.core.gcpolicy import ControlledCollector
from spreadwire.core.histogram import LatencyHistogram


@pytest.fixture(autouse=True)
def _thresholds() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.set_threshold(*before)


class _Node:
    """An object in a reference cycle (reclaimed only by the collector)."""

    def __init__(self) -> None:
        self.me = self


def _collector(**kwargs: int) -> ControlledCollector:
    return ControlledCollector(LatencyHistogram("gc"), **kwargs)


def test_start_raises_the_young_threshold_and_stop_restores_it() -> None:
    gc.set_threshold(700, 11, 12)
    collector = _collector(safety_limit=40_000)
    collector.start()
    assert (collector.active, gc.get_threshold()) == (True, (40_000, 11, 12))
    collector.stop()
    assert (collector.active, gc.get_threshold()) == (False, (700, 11, 12))


def test_the_last_collector_to_stop_restores_the_thresholds() -> None:
    gc.set_threshold(700, 10, 10)
    first = _collector(safety_limit=20_000)
    second = _collector(safety_limit=30_000)
    first.start()
    second.start()
    assert gc.get_threshold()[0] == 30_000
    first.stop()
    assert gc.get_threshold()[0] == 30_000  # the other one still runs
    second.stop()
    assert gc.get_threshold() == (700, 10, 10)


def test_start_and_stop_are_idempotent() -> None:
    gc.set_threshold(700, 10, 10)
    collector = _collector()
    collector.start()
    collector.start()
    collector.stop()
    collector.stop()
    assert gc.get_threshold() == (700, 10, 10)


def test_ticks_collect_young_middle_and_all_generations_on_their_cadence() -> None:
    histogram = LatencyHistogram("gc")
    collector = ControlledCollector(histogram, middle_every=3, full_every=6)
    assert collector.tick() == -1  # not started: nothing collected
    collector.start()
    try:
        generations = [collector.tick() for _ in range(12)]
    finally:
        collector.stop()
    assert generations == [0, 0, 1, 0, 0, 2, 0, 0, 1, 0, 0, 2]
    assert collector.collections == [8, 2, 2]
    assert histogram.count == 12


def test_a_tick_reclaims_reference_cycles() -> None:
    collector = _collector()
    collector.start()
    try:
        cycle = _Node()
        ref = weakref.ref(cycle)
        del cycle
        assert ref() is not None  # a cycle: reference counting alone cannot free it
        collector.tick()
        assert ref() is None
    finally:
        collector.stop()


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="safety_limit"):
        _collector(safety_limit=0)
    with pytest.raises(ValueError, match="middle_every"):
        _collector(middle_every=0)
