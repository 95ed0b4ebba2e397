"""Scalar streaming moments in plain Python: Welford (1962) and Finch's (2009) EWMA.

Both are a handful of float operations per update, so a ``__slots__`` method (~130 ns) is
cheaper than any compiled call from Python (numba dispatch alone costs ~160 ns).
"""

import math
from typing import final

from spreadwire.stats._validate import smoothing


@final
class Welford:
    """Running mean and variance of every value seen (Welford 1962), O(1) per update.

    Attributes: ``count`` (int), ``mean`` (NaN before the first value). Properties:
    ``variance`` (ddof=1, NaN below two values) and ``std``.
    """

    __slots__ = ("_m2", "count", "mean")

    def __init__(self) -> None:
        self.count = 0
        self.mean = math.nan
        self._m2 = 0.0

    def update(self, x: float) -> float:
        """Add ``x``; returns the new mean. Raises ``ValueError`` if ``x`` is not finite."""
        if not math.isfinite(x):
            raise ValueError(f"x must be a finite number, got {x!r}")
        count = self.count + 1
        self.count = count
        if count == 1:
            self.mean = float(x)
            return self.mean
        delta = x - self.mean
        self.mean += delta / count
        self._m2 += delta * (x - self.mean)
        return self.mean

    @property
    def variance(self) -> float:
        """Sample variance (ddof=1); NaN with fewer than two values."""
        if self.count < 2:
            return math.nan
        return max(self._m2, 0.0) / (self.count - 1)

    @property
    def std(self) -> float:
        """Sample standard deviation (ddof=1); NaN with fewer than two values."""
        return math.sqrt(self.variance)


@final
class EWMA:
    """Exponentially weighted mean and variance with smoothing ``alpha`` in (0, 1].

    Equal to pandas ``ewm(alpha=alpha, adjust=False).mean()`` and ``.var(bias=True)``.
    Attributes: ``alpha``, ``count``, ``mean`` and ``variance`` (both NaN before the first
    value); property ``std``. Build from a span or half-life with :meth:`from_span` /
    :meth:`from_halflife`.
    """

    __slots__ = ("_keep", "alpha", "count", "mean", "variance")

    def __init__(self, alpha: float) -> None:
        self.alpha = smoothing(alpha)
        self._keep = 1.0 - self.alpha
        self.count = 0
        self.mean = math.nan
        self.variance = math.nan

    @classmethod
    def from_span(cls, span: float) -> "EWMA":
        """alpha = 2 / (span + 1), span >= 1."""
        if not span >= 1.0:
            raise ValueError(f"span must be >= 1, got {span!r}")
        return cls(2.0 / (span + 1.0))

    @classmethod
    def from_halflife(cls, halflife: float) -> "EWMA":
        """alpha = 1 - exp(-ln 2 / halflife), halflife > 0."""
        if not halflife > 0.0:
            raise ValueError(f"halflife must be > 0, got {halflife!r}")
        return cls(1.0 - math.exp(-math.log(2.0) / halflife))

    def update(self, x: float) -> float:
        """Add ``x``; returns the new mean. Raises ``ValueError`` if ``x`` is not finite."""
        if not math.isfinite(x):
            raise ValueError(f"x must be a finite number, got {x!r}")
        self.count += 1
        if self.count == 1:
            self.mean = float(x)
            self.variance = 0.0
            return self.mean
        delta = x - self.mean
        self.mean += self.alpha * delta
        self.variance = self._keep * (self.variance + self.alpha * delta * delta)
        return self.mean

    @property
    def std(self) -> float:
        """Square root of the biased EW variance."""
        return math.sqrt(self.variance)
