"""Per-stage latency histograms of the hot path and simple threshold alerts."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Annotated, final

import msgspec

from spreadwire.core.histogram import LatencyHistogram, LatencySummary

log = logging.getLogger("spreadwire.telemetry")

#: The stages of the hot path, in order.
STAGES: tuple[str, ...] = (
    "marketdata",  # venue delta in -> quote published
    "strategy",  # quote in -> order command out
    "risk",  # pre-trade gate
    "oms",  # order manager -> venue gateway
    "tick_to_order",  # venue delta in -> order handed to the venue gateway
    "first_order",  # venue delta in -> the first order it caused handed to the gateway
    "order_ack",  # order sent -> venue acknowledgement (simulated time)
    "report",  # execution report in -> events published and positions updated
    "gc",  # a collection run by the node's timer (between dispatches)
)


@final
class LatencyTracker:
    """One :class:`LatencyHistogram` per named stage."""

    __slots__ = ("_stages",)

    def __init__(self, stages: Iterable[str] = STAGES) -> None:
        self._stages = {name: LatencyHistogram(name) for name in stages}

    def stage(self, name: str) -> LatencyHistogram:
        histogram = self._stages.get(name)
        if histogram is None:
            histogram = self._stages[name] = LatencyHistogram(name)
        return histogram

    def names(self) -> list[str]:
        return list(self._stages)

    def summaries(self) -> dict[str, LatencySummary]:
        return {name: h.summary() for name, h in self._stages.items()}

    def merge(self, other: LatencyTracker) -> None:
        for name, histogram in other._stages.items():
            self.stage(name).merge(histogram)


class LatencyAlertRule(msgspec.Struct, frozen=True, kw_only=True):
    """Alert when ``stage``'s p99 exceeds ``p99_ns`` with at least ``min_count`` samples."""

    stage: str
    p99_ns: Annotated[int, msgspec.Meta(gt=0)]
    min_count: Annotated[int, msgspec.Meta(ge=1)] = 100


class LatencyAlert(msgspec.Struct, frozen=True, kw_only=True):
    stage: str
    p99_ns: int
    threshold_ns: int
    count: int
    ts_event: int


@final
class LatencyAlerter:
    """Evaluates alert rules against a tracker; raises each alert once until it clears.

    Each rule is tracked on its own, so two rules on one stage (a warning and a critical
    threshold, say) raise and clear independently."""

    __slots__ = ("_active", "_publish", "_rules", "_tracker")

    def __init__(
        self,
        tracker: LatencyTracker,
        rules: Iterable[LatencyAlertRule],
        publish: Callable[[LatencyAlert], None],
    ) -> None:
        self._tracker = tracker
        self._rules = tuple(rules)
        self._publish = publish
        self._active: set[int] = set()  # indexes of the rules whose alert is raised

    def evaluate(self, now_ns: int) -> list[LatencyAlert]:
        raised: list[LatencyAlert] = []
        for index, rule in enumerate(self._rules):
            histogram = self._tracker.stage(rule.stage)
            if histogram.count < rule.min_count:
                continue
            p99 = histogram.percentile(0.99)
            if p99 > rule.p99_ns:
                if index not in self._active:
                    self._active.add(index)
                    alert = LatencyAlert(
                        stage=rule.stage,
                        p99_ns=p99,
                        threshold_ns=rule.p99_ns,
                        count=histogram.count,
                        ts_event=now_ns,
                    )
                    log.warning("latency alert: %s p99 %d ns > %d ns", rule.stage, p99, rule.p99_ns)
                    raised.append(alert)
                    self._publish(alert)
            else:
                self._active.discard(index)
        return raised

    @property
    def active(self) -> frozenset[str]:
        """The stages with at least one raised alert."""
        return frozenset(self._rules[index].stage for index in self._active)
