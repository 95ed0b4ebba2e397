"""Prometheus metrics of the API edge, rendered in the text exposition format.

Recording is plain int arithmetic and an O(1) log-linear histogram
(:class:`~spreadwire.core.histogram.LatencyHistogram`), not ``prometheus_client`` label
lookups (a few microseconds each): the counters are turned into metric families only
when ``/metrics`` is scraped, by a collector on a registry owned by this object (no
global registry).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Final, final

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)

from spreadwire.api.schemas import LatencyView, StoreView
from spreadwire.core.histogram import LatencyHistogram

CONTENT_TYPE: Final = "text/plain; version=0.0.4; charset=utf-8"
#: Histogram bucket bounds exposed to Prometheus, seconds.
BOUNDS_S: Final = (
    0.00005,
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
)

StatsSource = Callable[[], dict[str, int]]


def histogram_buckets(histogram: LatencyHistogram) -> list[tuple[str, float]]:
    """Cumulative ``(le, count)`` pairs at :data:`BOUNDS_S` plus ``+Inf``."""
    values = histogram.buckets()
    out: list[tuple[str, float]] = []
    index = 0
    cumulative = 0
    for bound in BOUNDS_S:
        limit_ns = bound * 1e9
        while index < len(values) and values[index][0] <= limit_ns:
            cumulative += values[index][1]
            index += 1
        out.append((repr(bound), float(cumulative)))
    out.append(("+Inf", float(histogram.count)))
    return out


@final
class ApiMetrics:
    """Counters and histograms of the REST gateway and the WebSocket server."""

    __slots__ = (
        "_registry",
        "http_latency",
        "http_requests",
        "latency_source",
        "rejections",
        "store_source",
        "ws_sources",
    )

    def __init__(self) -> None:
        self.http_requests: dict[tuple[str, str, int], int] = {}
        self.http_latency: dict[str, LatencyHistogram] = {}
        self.rejections: dict[str, int] = {}
        self.ws_sources: list[StatsSource] = []
        self.latency_source: Callable[[], LatencyView] | None = None
        self.store_source: Callable[[], StoreView] | None = None
        self._registry = CollectorRegistry(auto_describe=False)
        self._registry.register(_Collector(self))

    def record_request(self, method: str, route: str, status: int, elapsed_ns: int) -> None:
        key = (method, route, status)
        requests = self.http_requests
        requests[key] = requests.get(key, 0) + 1
        histogram = self.http_latency.get(route)
        if histogram is None:
            histogram = self.http_latency[route] = LatencyHistogram(route)
        histogram.record(elapsed_ns)

    def record_rejection(self, reason: str) -> None:
        self.rejections[reason] = self.rejections.get(reason, 0) + 1

    def render(self) -> bytes:
        return generate_latest(self._registry)


class _Collector:
    """Builds the metric families from :class:`ApiMetrics` at scrape time."""

    def __init__(self, metrics: ApiMetrics) -> None:
        self._metrics = metrics

    def collect(self) -> Iterator[Metric]:
        metrics = self._metrics
        requests = CounterMetricFamily(
            "spreadwire_http_requests",
            "HTTP requests answered, by method, route template and status",
            labels=["method", "route", "status"],
        )
        for (method, route, status), count in sorted(metrics.http_requests.items()):
            requests.add_metric([method, route, str(status)], count)
        yield requests
        latency = HistogramMetricFamily(
            "spreadwire_http_request_duration_seconds",
            "Time from request start to response start through the gateway",
            labels=["route"],
        )
        for route, histogram in sorted(metrics.http_latency.items()):
            sum_s = histogram.mean * histogram.count / 1e9
            latency.add_metric([route], histogram_buckets(histogram), sum_s)
        yield latency
        rejected = CounterMetricFamily(
            "spreadwire_gateway_rejections",
            "Requests the gateway refused, by reason",
            labels=["reason"],
        )
        for reason, count in sorted(metrics.rejections.items()):
            rejected.add_metric([reason], count)
        yield rejected
        yield from _ws_families(metrics.ws_sources)
        if metrics.latency_source is not None:
            yield from _stage_families(metrics.latency_source())
        if metrics.store_source is not None:
            yield from _store_families(metrics.store_source())


def _ws_families(sources: list[StatsSource]) -> Iterator[Metric]:
    totals: dict[str, int] = {}
    for source in sources:
        for name, value in source().items():
            totals[name] = totals.get(name, 0) + value
    for name, value in sorted(totals.items()):
        if name.endswith("_total"):
            counter = CounterMetricFamily(
                f"spreadwire_ws_{name.removesuffix('_total')}", f"WebSocket {name}"
            )
            counter.add_metric([], value)
            yield counter
        else:
            gauge = GaugeMetricFamily(f"spreadwire_ws_{name}", f"WebSocket {name}")
            gauge.add_metric([], value)
            yield gauge


def _stage_families(view: LatencyView) -> Iterator[Metric]:
    quantiles = GaugeMetricFamily(
        "spreadwire_stage_latency_seconds",
        "Per-stage pipeline latency of the node",
        labels=["stage", "quantile"],
    )
    counts = CounterMetricFamily(
        "spreadwire_stage_samples", "Latency samples recorded per stage", labels=["stage"]
    )
    for stage in view.stages:
        quantiles.add_metric([stage.stage, "0.5"], stage.p50_ns / 1e9)
        quantiles.add_metric([stage.stage, "0.99"], stage.p99_ns / 1e9)
        quantiles.add_metric([stage.stage, "0.999"], stage.p999_ns / 1e9)
        quantiles.add_metric([stage.stage, "1"], stage.max_ns / 1e9)
        counts.add_metric([stage.stage], stage.count)
    yield quantiles
    yield counts


#: Event writer figures exported as counters (the rest of the integers are gauges).
_STORE_COUNTERS: Final = {
    "appended": "Events handed to the event writer",
    "committed": "Events the event store acknowledged",
    "unrecorded": "Events that could not be recorded because the store failed",
    "commits": "Group commits of the event writer",
    "backpressure_waits": "Times a producer waited for room in the writer's queue",
    "retries": "Event store commits tried again after a failure",
    "refused": "Events refused for a stream name the event store does not take (never written)",
}
_STORE_GAUGES: Final = {
    "queue_depth": "Events queued for the event writer",
    "queue_peak": "Most events ever queued for the event writer",
    "capacity": "Capacity of the event writer's queue",
    "largest_batch": "Most events in one group commit",
    "last_position": "Highest global position this node's writer had acknowledged",
}
#: psycopg_pool statistics that only grow (the others are gauges: pool_size, ...).
_POOL_COUNTERS: Final = frozenset(
    {
        "connections_errors",
        "connections_lost",
        "connections_ms",
        "connections_num",
        "requests_errors",
        "requests_num",
        "requests_queued",
        "requests_wait_ms",
        "returns_bad",
        "usage_ms",
    }
)
_STATES: Final = ("ok", "retrying", "failed", "closed")


def _store_families(view: StoreView) -> Iterator[Metric]:
    labels = ["backend"]
    backend = [view.backend]
    state = GaugeMetricFamily(
        "spreadwire_event_store_state",
        "1 for the event store's current state (ok, retrying, failed, closed)",
        labels=["backend", "state"],
    )
    for name in _STATES:
        state.add_metric([view.backend, name], 1.0 if view.state == name else 0.0)
    yield state
    for name, text in _STORE_COUNTERS.items():
        counter = CounterMetricFamily(f"spreadwire_event_store_{name}", text, labels=labels)
        counter.add_metric(backend, getattr(view, name))
        yield counter
    for name, text in _STORE_GAUGES.items():
        gauge = GaugeMetricFamily(f"spreadwire_event_store_{name}", text, labels=labels)
        gauge.add_metric(backend, getattr(view, name))
        yield gauge
    ack = GaugeMetricFamily(
        "spreadwire_event_store_ack_seconds",
        "Append-to-acknowledgement latency of the event writer",
        labels=["backend", "quantile"],
    )
    ack.add_metric([view.backend, "0.5"], view.ack_p50_ns / 1e9)
    ack.add_metric([view.backend, "0.99"], view.ack_p99_ns / 1e9)
    ack.add_metric([view.backend, "1"], view.ack_max_ns / 1e9)
    yield ack
    for name, value in sorted((view.pool or {}).items()):
        metric = f"spreadwire_event_store_pool_{name}"
        text = f"Event store connection pool: {name} (psycopg_pool)"
        family: Metric
        if name in _POOL_COUNTERS:
            family = CounterMetricFamily(metric, text, labels=labels)
        else:
            family = GaugeMetricFamily(metric, text, labels=labels)
        family.add_metric(backend, value)
        yield family
