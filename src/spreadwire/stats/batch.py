"""Batch rolling and exponentially weighted statistics: numpy in, numpy out.

Same windows and guards as the streaming objects (NaN for the first ``window - 1`` values,
as pandas does with its default ``min_periods``). Input must be finite.
"""

from typing import Any

import numpy as np
import numpy.typing as npt

from spreadwire.stats import _window
from spreadwire.stats._validate import same_length, series, smoothing, window_size

Floats = npt.NDArray[np.float64]


def rolling_mean(x: Any, window: int) -> Floats:
    """Rolling mean, as pandas ``Series.rolling(window).mean()``."""
    window = window_size(window)
    values = series(x, "x")
    mean = np.empty_like(values)
    var = np.empty_like(values)
    _window.rolling_var_kernel(values, window, mean, var)
    return mean


def rolling_var(x: Any, window: int) -> Floats:
    """Rolling sample variance (ddof=1), as pandas ``rolling(window).var()``."""
    window = window_size(window)
    values = series(x, "x")
    var = np.empty_like(values)
    _window.rolling_var_kernel(values, window, np.empty(0), var)
    return var


def rolling_std(x: Any, window: int) -> Floats:
    """Rolling sample standard deviation (ddof=1), as pandas ``rolling(window).std()``."""
    var = rolling_var(x, window)
    return np.sqrt(var, out=var)


def rolling_zscore(x: Any, window: int) -> Floats:
    """``(x - rolling_mean) / rolling_std``; NaN where the window is constant."""
    window = window_size(window)
    values = series(x, "x")
    mean = np.empty_like(values)
    var = np.empty_like(values)
    z = np.empty_like(values)
    _window.rolling_moments_kernel(values, window, mean, var, z)
    return z


def rolling_corr(x: Any, y: Any, window: int) -> Floats:
    """Rolling Pearson correlation, as pandas ``x.rolling(window).corr(y)``."""
    window = window_size(window)
    xs = series(x, "x")
    ys = series(y, "y")
    same_length(xs, ys, "x and y")
    out = np.empty_like(xs)
    _window.rolling_corr_kernel(xs, ys, window, out)
    return out


def rolling_cov(x: Any, y: Any, window: int) -> Floats:
    """Rolling sample covariance (ddof=1), as pandas ``x.rolling(window).cov(y)``."""
    covariance: Floats = _rolling_pair(x, y, window, minimum=2)[5]
    return covariance


def rolling_ols(x: Any, y: Any, window: int) -> Floats:
    """Rolling OLS of ``y`` on ``[1, x]``: a (4, n) array of alpha, beta, residual, zscore.

    Row ``t`` equals the attributes of a :class:`RollingOLS` after the ``t``-th update.
    """
    return _rolling_pair(x, y, window, minimum=3)[:4]


def _rolling_pair(x: Any, y: Any, window: int, *, minimum: int) -> Floats:
    window = window_size(window, minimum=minimum)
    xs = series(x, "x")
    ys = series(y, "y")
    same_length(xs, ys, "x and y")
    out = np.empty((6, xs.shape[0]))
    _window.rolling_pair_kernel(xs, ys, window, out)
    return out


def ewm_mean(x: Any, alpha: float) -> Floats:
    """EW mean, as pandas ``ewm(alpha=alpha, adjust=False).mean()``."""
    return _ewm(x, alpha)[0]


def ewm_var(x: Any, alpha: float) -> Floats:
    """Biased EW variance, as pandas ``ewm(alpha=alpha, adjust=False).var(bias=True)``."""
    return _ewm(x, alpha)[1]


def _ewm(x: Any, alpha: float) -> tuple[Floats, Floats]:
    rate = smoothing(alpha)
    values = series(x, "x")
    mean = np.empty_like(values)
    var = np.empty_like(values)
    _window.ewm_kernel(values, rate, mean, var)
    return mean, var
