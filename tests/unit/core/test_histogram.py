from __future__ import annotations

import msgspec
import pytest

from spreadwire.core.histogram import (
    LatencyHistogram,
    LatencySummary,
    _bucket_index,
    _bucket_value,
)


def _histogram(values: list[int]) -> LatencyHistogram:
    histogram = LatencyHistogram("stage")
    for value in values:
        histogram.record(value)
    return histogram


def test_histogram_empty_reports_zeros() -> None:
    # Arrange
    histogram = LatencyHistogram()

    # Act
    summary = histogram.summary()

    # Assert
    assert summary == LatencySummary(count=0, p50=0, p99=0, p999=0, max=0, mean=0.0)
    assert histogram.percentile(0.5) == 0
    assert histogram.buckets() == []


def test_histogram_small_values_are_exact() -> None:
    # Arrange
    histogram = _histogram(list(range(64)))

    # Act
    buckets = histogram.buckets()

    # Assert
    assert buckets == [(value, 1) for value in range(64)]
    assert histogram.percentile(0.0) == 0
    assert histogram.percentile(1.0) == 63


def test_histogram_single_value_every_percentile_is_within_bucket_error() -> None:
    # Arrange
    value = 123_456
    histogram = _histogram([value])

    # Act
    reported = [histogram.percentile(q) for q in (0.0, 0.5, 0.99, 0.999, 1.0)]

    # Assert
    assert all(abs(r - value) <= value / 32 for r in reported)
    assert all(r <= value for r in reported)


def test_histogram_max_is_exact_not_bucketed() -> None:
    # Arrange
    histogram = _histogram([1_000, 987_654_321, 5])

    # Act
    maximum = histogram.max

    # Assert
    assert maximum == 987_654_321
    assert histogram.summary().max == 987_654_321


def test_histogram_percentile_one_never_exceeds_max() -> None:
    # Arrange
    histogram = _histogram([64, 65, 96])

    # Act
    top = histogram.percentile(1.0)

    # Assert
    assert top == 96


def test_histogram_negative_value_is_clamped_to_zero() -> None:
    # Arrange
    histogram = LatencyHistogram()

    # Act
    histogram.record(-5)

    # Assert
    assert histogram.buckets() == [(0, 1)]
    assert histogram.count == 1
    assert histogram.mean == 0.0


def test_histogram_huge_value_lands_in_top_bucket_and_counts_for_max() -> None:
    # Arrange
    huge = 2**50
    histogram = _histogram([10, huge])

    # Act
    summary = histogram.summary()

    # Assert
    assert summary.count == 2
    assert summary.max == huge
    assert histogram.buckets()[-1][1] == 1
    assert summary.p99 <= huge


def test_histogram_nearest_rank_percentiles_on_small_values() -> None:
    # Arrange
    histogram = _histogram(list(range(1, 11)))

    # Act
    p50, p90, p91 = (histogram.percentile(q) for q in (0.5, 0.9, 0.91))

    # Assert
    assert (p50, p90, p91) == (5, 9, 10)


@pytest.mark.parametrize("q", [-0.01, 1.01, float("nan")])
def test_histogram_percentile_out_of_range_raises_naming_q(q: float) -> None:
    # Arrange
    histogram = _histogram([1])

    # Act / Assert
    with pytest.raises(ValueError, match="q: "):
        histogram.percentile(q)


def test_histogram_mean_is_exact_average() -> None:
    # Arrange
    histogram = _histogram([100, 200, 600])

    # Act
    mean = histogram.mean

    # Assert
    assert mean == 300.0


def test_histogram_merge_equals_recording_both() -> None:
    # Arrange
    left_values = [3, 70, 1_000, 123_456, 9_999_999]
    right_values = [1, 64, 5_000, 2**45]
    merged = _histogram(left_values)
    right = _histogram(right_values)
    together = _histogram(left_values + right_values)

    # Act
    merged.merge(right)

    # Assert
    assert merged.buckets() == together.buckets()
    assert merged.summary() == together.summary()


def test_histogram_merge_empty_changes_nothing() -> None:
    # Arrange
    histogram = _histogram([5, 500])
    before = histogram.summary()

    # Act
    histogram.merge(LatencyHistogram())

    # Assert
    assert histogram.summary() == before


def test_histogram_merge_into_empty_copies_other() -> None:
    # Arrange
    other = _histogram([5, 500, 50_000])
    histogram = LatencyHistogram()

    # Act
    histogram.merge(other)

    # Assert
    assert histogram.summary() == other.summary()
    assert other.count == 3


def test_histogram_reset_empties_it() -> None:
    # Arrange
    histogram = _histogram([5, 500])

    # Act
    histogram.reset()

    # Assert
    assert histogram.summary() == LatencyHistogram().summary()
    assert histogram.name == "stage"


def test_histogram_summary_encodes_to_json() -> None:
    # Arrange
    histogram = _histogram([10, 20, 30])

    # Act
    decoded = msgspec.json.decode(msgspec.json.encode(histogram.summary()))

    # Assert
    assert decoded == {"count": 3, "p50": 20, "p99": 30, "p999": 30, "max": 30, "mean": 20.0}


def test_histogram_record_uses_bucket_index_of_value() -> None:
    # Arrange
    values = [0, 63, 64, 65, 127, 128, 1_000, 65_535, 2**39 + 12_345, 2**40 - 1]

    # Act
    histograms = [_histogram([value]) for value in values]

    # Assert
    for value, histogram in zip(values, histograms, strict=True):
        assert histogram.buckets() == [(_bucket_value(_bucket_index(value)), 1)]


def test_bucket_index_is_monotonic_and_midpoint_within_one_64th() -> None:
    # Arrange
    values = [
        *range(2_000),
        *(2**shift + offset for shift in range(11, 40) for offset in (-1, 0, 1)),
    ]

    # Act
    indices = [_bucket_index(value) for value in values]

    # Assert
    assert indices == sorted(indices)
    for value in values:
        assert abs(_bucket_value(_bucket_index(value)) - value) <= value / 64
