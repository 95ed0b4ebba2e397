"""Prometheus rendering of the API counters and histograms."""

from __future__ import annotations

from spreadwire.api.metrics import ApiMetrics, histogram_buckets
from spreadwire.core.histogram import LatencyHistogram


def test_histogram_buckets_are_cumulative_and_end_with_count() -> None:
    histogram = LatencyHistogram()
    for value_ns in (20_000, 70_000, 300_000, 2_000_000_000):
        histogram.record(value_ns)

    buckets = dict(histogram_buckets(histogram))

    assert buckets["5e-05"] == 1.0
    assert buckets["0.0001"] == 2.0
    assert buckets["0.0005"] == 3.0
    assert buckets["2.5"] == 4.0
    assert buckets["+Inf"] == 4.0


def test_metrics_render_ws_sources_as_counters_and_gauges() -> None:
    metrics = ApiMetrics()
    metrics.ws_sources.append(lambda: {"connections": 3, "frames_sent_total": 10})
    metrics.ws_sources.append(lambda: {"connections": 1, "frames_sent_total": 5})

    text = metrics.render().decode()

    assert "spreadwire_ws_connections 4.0" in text
    assert "spreadwire_ws_frames_sent_total 15.0" in text


def test_metrics_record_request_counts_and_times_per_route() -> None:
    metrics = ApiMetrics()

    metrics.record_request("GET", "/v1/pnl", 200, 30_000)
    metrics.record_request("GET", "/v1/pnl", 200, 40_000)

    text = metrics.render().decode()
    assert 'spreadwire_http_requests_total{method="GET",route="/v1/pnl",status="200"} 2.0' in text
    assert 'spreadwire_http_request_duration_seconds_count{route="/v1/pnl"} 2.0' in text
