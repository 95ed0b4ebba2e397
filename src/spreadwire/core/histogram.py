"""Log-linear latency histogram (HDR style) with O(1) record.

Values below 64 are counted exactly; above, each power of two is split into 32 equal
sub-buckets, so any reported percentile is within 1/32 (about 3 %) of the true value.
Values up to 2**40 ns (about 18 minutes) are bucketed; larger ones land in the top bucket
and still count towards ``max``.
"""

from __future__ import annotations

from typing import Final, final

from spreadwire.core.latency_summary import LatencySummary

_SUB_BITS: Final = 5
_SUB: Final = 1 << _SUB_BITS  # 32 sub-buckets per octave
_LINEAR: Final = _SUB << 1  # values below 64 are exact
_MAX_SHIFT: Final = 40 - _SUB_BITS - 1
_BUCKETS: Final = (_MAX_SHIFT + 1) * _SUB + _LINEAR


def _bucket_index(value: int) -> int:
    shift = value.bit_length() - _SUB_BITS - 1
    if shift <= 0:
        return value
    if shift > _MAX_SHIFT:
        return _BUCKETS - 1
    return shift * _SUB + (value >> shift)


def _bucket_value(index: int) -> int:
    """The midpoint of the values that fall into ``index``."""
    if index < _LINEAR:
        return index
    shift = index // _SUB - 1
    mantissa = index - shift * _SUB
    return (mantissa << shift) + ((1 << shift) >> 1)


@final
class LatencyHistogram:
    """Counts of nanosecond latencies in log-linear buckets."""

    # No running count: ``record`` is on every hot path and one attribute update less is
    # about 10 % of its cost; ``count`` sums the buckets instead, which only readers pay.
    __slots__ = ("_counts", "_max", "_total", "name")

    def __init__(self, name: str = "") -> None:
        self.name = name
        self._counts = [0] * _BUCKETS
        self._total = 0
        self._max = 0

    def record(self, value_ns: int) -> None:
        """Record one latency; negative values are clamped to 0."""
        # Literals rather than the module constants (a constant load is cheaper than a
        # global one); the assertions below the class keep them in step.
        if value_ns >= 64:  # _LINEAR; the common case first: one compare decides it
            shift = value_ns.bit_length() - 6  # _SUB_BITS + 1
            self._counts[(shift << 5) + (value_ns >> shift) if shift <= 34 else 1183] += 1
        elif value_ns >= 0:
            self._counts[value_ns] += 1
        else:
            value_ns = 0
            self._counts[0] += 1
        self._total += value_ns
        if value_ns > self._max:
            self._max = value_ns

    @property
    def count(self) -> int:
        """Values recorded since creation or the last ``reset``."""
        return sum(self._counts)

    def percentile(self, q: float) -> int:
        """The value at quantile ``q`` in [0, 1] (0 when empty), never above ``max``."""
        if not 0.0 <= q <= 1.0:
            raise ValueError(f"q: must be within [0, 1], got {q}")
        return self._at(q, sum(self._counts))

    def _at(self, q: float, count: int) -> int:
        """``percentile(q)`` of ``count`` recorded values (the readers sum the buckets once)."""
        if count == 0:
            return 0
        rank = max(1, int(q * count + 0.999999999))
        seen = 0
        for index, n in enumerate(self._counts):
            if n:
                seen += n
                if seen >= rank:
                    return min(_bucket_value(index), self._max)
        return self._max

    @property
    def max(self) -> int:
        return self._max

    @property
    def mean(self) -> float:
        count = sum(self._counts)
        return self._total / count if count else 0.0

    def merge(self, other: LatencyHistogram) -> None:
        """Add ``other``'s counts into this histogram."""
        counts = self._counts
        for index, n in enumerate(other._counts):
            if n:
                counts[index] += n
        self._total += other._total
        self._max = max(self._max, other._max)

    def reset(self) -> None:
        self._counts = [0] * _BUCKETS
        self._total = 0
        self._max = 0

    def summary(self) -> LatencySummary:
        count = sum(self._counts)
        return LatencySummary(
            count=count,
            p50=self._at(0.5, count),
            p99=self._at(0.99, count),
            p999=self._at(0.999, count),
            max=self._max,
            mean=self._total / count if count else 0.0,
        )

    def buckets(self) -> list[tuple[int, int]]:
        """Non-empty buckets as ``(value_ns, count)`` pairs, ascending."""
        return [(_bucket_value(i), n) for i, n in enumerate(self._counts) if n]


assert (_LINEAR, _SUB_BITS, _MAX_SHIFT, _BUCKETS) == (64, 5, 34, 1184), "update record()"

__all__ = ["LatencyHistogram", "LatencySummary", "_bucket_index", "_bucket_value"]
