"""Streaming sliding-window statistics: one compiled O(1) call per update.

The univariate objects own a flat ``float64`` state (shifted sums plus a ring buffer of the raw
values) updated by the kernels of :mod:`spreadwire.stats._window`; the bivariate ones own a
native :class:`~spreadwire.stats._stream.BivariateWindow`, the same arithmetic compiled with the
tick-to-order path (``PairBook``: the same arithmetic on a structure-of-arrays state,
:mod:`spreadwire.stats._pairbook`); the batch functions run the same arithmetic, so a streaming
object equals its batch twin. Values are NaN until the window is
full (pandas' default ``min_periods=window``). Non-finite input raises ``ValueError``.
"""

import math
from typing import final

import numpy as np
import numpy.typing as npt

from spreadwire.stats import _pairbook, _window
from spreadwire.stats._stream import BivariateWindow
from spreadwire.stats._validate import window_size

Floats = npt.NDArray[np.float64]


@final
class RollingMoments:
    """Mean, variance (ddof=1) and standard deviation of the last ``window`` values.

    ``update(x)`` returns the variance and sets the attributes ``mean``, ``variance`` and
    ``zscore`` (of ``x`` against its own window); property ``std``; ``count`` is the number
    of values in the window. A constant window has exactly zero variance.
    """

    __slots__ = ("_state", "mean", "variance", "window", "zscore")

    def __init__(self, window: int) -> None:
        self.window = window_size(window)
        self._state = _window.univariate_state(self.window)
        self.mean = math.nan
        self.variance = math.nan
        self.zscore = math.nan

    def update(self, x: float) -> float:
        """Add ``x`` (dropping the oldest value once full); returns the variance."""
        self.mean, self.variance, self.zscore = _window.uni_update(self._state, self.window, x)
        return self.variance

    @property
    def std(self) -> float:
        """Sample standard deviation of the window (NaN until full)."""
        return math.sqrt(self.variance)

    @property
    def count(self) -> int:
        """Number of values currently in the window."""
        return int(self._state[_window.U_N])


@final
class RollingZScore:
    """z-score of each new value against the last ``window`` values (itself included).

    ``update(x)`` returns ``(x - mean) / std`` with ddof=1, as pandas
    ``(s - s.rolling(w).mean()) / s.rolling(w).std()``; NaN until full and for a constant
    window. Attributes ``zscore``, ``mean``, ``std``.
    """

    __slots__ = ("_state", "mean", "std", "window", "zscore")

    def __init__(self, window: int) -> None:
        self.window = window_size(window)
        self._state = _window.univariate_state(self.window)
        self.mean = math.nan
        self.std = math.nan
        self.zscore = math.nan

    def update(self, x: float) -> float:
        """Add ``x``; returns its z-score against the window."""
        self.mean, variance, self.zscore = _window.uni_update(self._state, self.window, x)
        self.std = math.sqrt(variance)
        return self.zscore


@final
class RollingCovariance:
    """Sample covariance (ddof=1) of the last ``window`` pairs ``(x, y)``.

    ``update(x, y)`` returns the covariance and sets the attribute ``covariance``.
    """

    __slots__ = ("_window", "covariance", "window")

    def __init__(self, window: int) -> None:
        self.window = window_size(window)
        self._window = BivariateWindow(self.window)
        self.covariance = math.nan

    def update(self, x: float, y: float) -> float:
        """Add the pair; returns the window covariance (NaN until full)."""
        self._window.push(x, y)
        self.covariance = self._window.covariance()
        return self.covariance


@final
class RollingCorrelation:
    """Pearson correlation of the last ``window`` pairs ``(x, y)``.

    ``update(x, y)`` returns the correlation and sets ``correlation`` (NaN until full and
    when either side of the window is constant).
    """

    __slots__ = ("_window", "correlation", "window")

    def __init__(self, window: int) -> None:
        self.window = window_size(window)
        self._window = BivariateWindow(self.window)
        self.correlation = math.nan

    def update(self, x: float, y: float) -> float:
        """Add the pair; returns the window correlation."""
        self._window.push(x, y)
        self.correlation = self._window.correlation()
        return self.correlation


@final
class RollingOLS:
    """Rolling OLS hedge of ``y`` on ``x`` over the last ``window`` ticks (window >= 3).

    ``update(x, y)`` refits in O(1) and returns ``zscore``. Attributes after each update:

    * ``alpha``, ``beta``: intercept and slope of ``y = alpha + beta * x`` on the window,
      equal to ``statsmodels.regression.rolling.RollingOLS(y, add_constant(x), window)``;
    * ``residual``: ``y - alpha - beta * x`` for the newest tick (the spread);
    * ``zscore``: ``residual / sqrt(ssr / (window - 2))``, the newest residual in units of
      the regression's standard error (statsmodels ``sqrt(mse_resid)``);
    * ``correlation``: Pearson correlation of the window (read when asked).

    All are NaN until the window is full; ``beta`` is NaN if ``x`` is constant on the window
    and ``zscore`` is NaN on a perfect fit.
    """

    __slots__ = ("_window", "alpha", "beta", "residual", "window", "zscore")

    def __init__(self, window: int) -> None:
        self.window = window_size(window, minimum=3)
        self._window = BivariateWindow(self.window)
        self.alpha = math.nan
        self.beta = math.nan
        self.residual = math.nan
        self.zscore = math.nan

    def update(self, x: float, y: float) -> float:
        """Add the tick ``(x, y)``; returns the residual z-score."""
        state = self._window
        state.push(x, y)
        self.alpha = state.alpha
        self.beta = state.beta
        self.residual = state.resid
        self.zscore = z = state.z
        return z

    @property
    def correlation(self) -> float:
        """Pearson correlation of the window (NaN until full)."""
        return self._window.correlation()

    @property
    def count(self) -> int:
        """Number of ticks currently in the window."""
        return self._window.n


@final
class PairBook:
    """``pairs`` independent :class:`RollingOLS` windows updated together in one compiled call.

    ``update(x, y)`` takes two float arrays of length ``pairs`` (the x and y leg prices of
    every pair for this tick) and refreshes the arrays ``alpha``, ``beta``, ``residual``,
    ``zscore`` and ``correlation`` (views of one (5, pairs) buffer, overwritten in place on
    each tick; copy them to keep them). Pair ``k`` equals a ``RollingOLS(window)`` fed
    ``(x[k], y[k])``.
    """

    __slots__ = (
        "_counters",
        "_out",
        "_shape",
        "_state",
        "alpha",
        "beta",
        "pairs",
        "residual",
        "window",
        "zscore",
    )

    def __init__(self, window: int, pairs: int) -> None:
        self.window = window_size(window, minimum=3)
        self.pairs = window_size(pairs, name="pairs", minimum=1)
        self._state, self._counters = _pairbook.book_state(self.window, self.pairs)
        self._out = np.full((4, self.pairs), np.nan)
        self._shape = (self.pairs,)
        self.alpha, self.beta, self.residual, self.zscore = self._out

    def update(self, x: Floats, y: Floats) -> Floats:
        """Add one tick for every pair; returns the ``zscore`` array."""
        # contiguous float64, so that a strided input does not compile a second kernel
        xs = np.asarray(x, np.float64, "C")
        ys = np.asarray(y, np.float64, "C")
        shape = self._shape
        if xs.shape != shape or ys.shape != shape:
            raise ValueError(
                f"x and y must both have shape ({self.pairs},), got {xs.shape} and {ys.shape}"
            )
        _pairbook.book_update(self._state, self._counters, xs, ys, self._out)
        return self.zscore

    def correlations(self) -> Floats:
        """Pearson correlation of every pair's window (a new array; NaN until full)."""
        out = np.empty(self.pairs)
        _pairbook.book_correlations(self._state, self._counters, out)
        return out
