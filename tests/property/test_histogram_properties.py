"""Properties of the latency histogram, checked against numpy on random data."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from spreadwire.core.histogram import LatencyHistogram

latencies = st.lists(st.integers(min_value=0, max_value=2**40 - 1), min_size=1, max_size=300)
# Heavy-tailed samples like real latencies: mostly small, a few far out.
shaped = st.lists(
    st.one_of(
        st.integers(min_value=0, max_value=200),
        st.integers(min_value=1_000, max_value=50_000),
        st.integers(min_value=1_000_000, max_value=2**40 - 1),
    ),
    min_size=1,
    max_size=300,
)
quantiles = st.sampled_from([0.0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999, 1.0])


def _histogram(values: list[int]) -> LatencyHistogram:
    histogram = LatencyHistogram()
    for value in values:
        histogram.record(value)
    return histogram


def _nearest_rank(values: list[int], q: float) -> int:
    """numpy's nearest-rank percentile (the definition the histogram reports)."""
    return int(np.percentile(np.array(values, dtype=np.int64), q * 100, method="inverted_cdf"))


@given(st.one_of(latencies, shaped), quantiles)
def test_histogram_percentile_within_one_32nd_of_numpy(values: list[int], q: float) -> None:
    # Arrange
    histogram = _histogram(values)
    expected = _nearest_rank(values, q)

    # Act
    reported = histogram.percentile(q)

    # Assert
    assert abs(reported - expected) <= expected / 32


@given(st.one_of(latencies, shaped))
def test_histogram_max_count_and_mean_are_exact(values: list[int]) -> None:
    # Arrange / Act
    histogram = _histogram(values)

    # Assert
    assert histogram.max == max(values)
    assert histogram.count == len(values)
    assert histogram.mean == sum(values) / len(values)
    assert histogram.percentile(1.0) <= max(values)


@given(st.one_of(latencies, shaped))
def test_histogram_percentiles_never_decrease_with_q(values: list[int]) -> None:
    # Arrange
    histogram = _histogram(values)

    # Act
    reported = [histogram.percentile(q / 100) for q in range(101)]

    # Assert
    assert reported == sorted(reported)


@given(
    st.lists(st.integers(min_value=0, max_value=2**45), max_size=100),
    st.lists(st.integers(min_value=0, max_value=2**45), max_size=100),
)
def test_histogram_merge_equals_recording_both(left: list[int], right: list[int]) -> None:
    # Arrange
    merged, other, together = _histogram(left), _histogram(right), _histogram(left + right)

    # Act
    merged.merge(other)

    # Assert
    assert merged.buckets() == together.buckets()
    assert merged.summary() == together.summary()
    assert other.summary() == _histogram(right).summary()


@given(st.lists(st.integers(min_value=0, max_value=2**40 - 1), min_size=1, max_size=300))
def test_histogram_bucket_counts_sum_to_count(values: list[int]) -> None:
    # Arrange / Act
    histogram = _histogram(values)

    # Assert
    assert sum(n for _, n in histogram.buckets()) == len(values)
    assert [value for value, _ in histogram.buckets()] == sorted(
        {value for value, _ in histogram.buckets()}
    )
