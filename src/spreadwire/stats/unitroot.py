"""Unit-root and Engle-Granger cointegration tests with statsmodels' semantics.

``adfuller`` and ``coint`` reproduce ``statsmodels.tsa.stattools.adfuller`` / ``coint``
(same lag matrix, same information-criterion search on a common sample, same MacKinnon
p-values and critical values) with one QR factorisation per search instead of one OLS fit
per candidate lag. ``half_life`` and ``hedge_ratio`` are the usual pairs-trading helpers.
"""

import math
import warnings
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from spreadwire.stats._validate import choice, same_length, series
from spreadwire.stats.mackinnon import mackinnoncrit, mackinnonp

Floats = npt.NDArray[np.float64]
_SQRT_EPS = math.sqrt(float(np.finfo(np.float64).eps))
_LOG_2PI = math.log(2.0 * math.pi)


class ADFResult(NamedTuple):
    """Fields as ``statsmodels.tsa.stattools.ADFullerResult`` (minus ``resstore``)."""

    statistic: float
    pvalue: float
    lags: int
    nobs: int
    critical_values: dict[str, float]
    icbest: float | None


class CointResult(NamedTuple):
    """Fields as ``statsmodels.tsa.stattools.CointResult``."""

    coint_t: float
    pvalue: float
    critical_values: Floats


def _trend_columns(nobs: int, regression: str) -> Floats:
    columns = [np.ones(nobs)]
    if regression in ("ct", "ctt"):
        columns.append(np.arange(1.0, nobs + 1.0))
    if regression == "ctt":
        columns.append(np.arange(1.0, nobs + 1.0) ** 2)
    return np.column_stack(columns)


def _lag_design(x: Floats, lags: int) -> tuple[Floats, Floats]:
    """Level x_{t-1} then Δx_{t-1..t-lags}, and the target Δx_t (statsmodels' lagmat rows)."""
    xdiff = np.diff(x)
    nobs = xdiff.shape[0] - lags
    design = np.empty((nobs, lags + 1))
    design[:, 0] = x[lags : lags + nobs]
    for lag in range(1, lags + 1):
        design[:, lag] = xdiff[lags - lag : lags - lag + nobs]
    return design, xdiff[lags:]


def _with_trend(design: Floats, regression: str, *, prepend: bool) -> Floats:
    if regression == "n":
        return design
    trend = _trend_columns(design.shape[0], regression)
    return np.hstack((trend, design) if prepend else (design, trend))


def _information_criterion(ssr: Floats, nobs: int, columns: Floats, method: str) -> Floats:
    llf = -0.5 * nobs * (_LOG_2PI + np.log(ssr / nobs) + 1.0)
    penalty = 2.0 if method == "aic" else math.log(nobs)
    result: Floats = -2.0 * llf + penalty * columns
    return result


def _select_lag(x: Floats, maxlag: int, regression: str, method: str) -> tuple[int, float]:
    """Lag minimising AIC/BIC, every candidate fitted on the same maxlag-trimmed sample."""
    design, target = _lag_design(x, maxlag)
    full = _with_trend(design, regression, prepend=True)
    first = full.shape[1] - design.shape[1] + 1
    q, _ = np.linalg.qr(full)
    projections = q.T @ target
    residual = target - q @ projections
    tail = np.cumsum((projections**2)[::-1])[::-1]  # tail[k] = sum_{i >= k} proj_i^2
    base = float(residual @ residual)
    sizes = np.arange(first, first + maxlag + 1)
    ssr = base + np.append(tail, 0.0)[sizes]
    criteria = _information_criterion(ssr, target.shape[0], sizes.astype(np.float64), method)
    best = int(np.argmin(criteria))
    return best, float(criteria[best])


def _level_tstat(design: Floats, target: Floats) -> float:
    """OLS t-statistic of the first column."""
    q, r = np.linalg.qr(design)
    params = np.linalg.solve(r, q.T @ target)
    residual = target - design @ params
    dof = design.shape[0] - design.shape[1]
    sigma2 = float(residual @ residual) / dof
    r_inverse = np.linalg.solve(r, np.eye(r.shape[0]))
    variance = sigma2 * float(r_inverse[0] @ r_inverse[0])
    return float(params[0]) / math.sqrt(variance)


def _check_maxlag(maxlag: Any, nobs: int, ntrend: int) -> int:
    limit = nobs // 2 - ntrend - 1
    if maxlag is None:
        default = min(limit, math.ceil(12.0 * math.pow(nobs / 100.0, 0.25)))
        if default < 0:
            raise ValueError("x is too short for the selected regression component")
        return default
    if isinstance(maxlag, bool) or not isinstance(maxlag, int | np.integer) or maxlag < 0:
        raise ValueError(f"maxlag must be a non-negative integer, got {maxlag!r}")
    if maxlag > limit:
        raise ValueError(f"maxlag must be <= nobs // 2 - 1 - ntrend = {limit}, got {maxlag}")
    return int(maxlag)


def adfuller(
    x: Any, maxlag: int | None = None, regression: str = "c", autolag: str | None = "AIC"
) -> ADFResult:
    """Augmented Dickey-Fuller test, as ``statsmodels.tsa.stattools.adfuller``.

    ``regression`` is one of "c", "ct", "ctt", "n"; ``autolag`` "AIC", "BIC" or None
    (then exactly ``maxlag`` lags). ``icbest`` is None without a lag search.
    """
    trend = choice(regression, "regression", ("c", "ct", "ctt", "n"))
    method = None if autolag is None else choice(autolag, "autolag", ("aic", "bic"))
    values = series(x, "x", min_length=4)
    if values.max() == values.min():
        raise ValueError("x is constant")
    ntrend = 0 if trend == "n" else len(trend)
    lags = _check_maxlag(maxlag, values.shape[0], ntrend)
    icbest: float | None = None
    if method is not None:
        lags, icbest = _select_lag(values, lags, trend, method)
    design, target = _lag_design(values, lags)
    statistic = _level_tstat(_with_trend(design, trend, prepend=False), target)
    nobs = target.shape[0]
    critical = mackinnoncrit(1, trend, nobs)
    return ADFResult(
        statistic=statistic,
        pvalue=mackinnonp(statistic, trend, 1),
        lags=lags,
        nobs=nobs,
        critical_values={"1%": critical[0], "5%": critical[1], "10%": critical[2]},
        icbest=icbest,
    )


def _regressors(x: Any, nobs: int) -> Floats:
    try:
        array = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError("x must be a 1-D or 2-D array of numbers") from error
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2 or array.shape[0] != nobs:
        raise ValueError(f"x must have {nobs} rows like y, got shape {array.shape}")
    if not 1 <= array.shape[1] <= 5:
        raise ValueError(f"x must have 1 to 5 columns, got {array.shape[1]}")
    if not np.isfinite(array).all():
        raise ValueError("x contains NaN or infinite values")
    return array


def coint(
    y: Any,
    x: Any,
    trend: str = "c",
    maxlag: int | None = None,
    autolag: str | None = "aic",
) -> CointResult:
    """Augmented Engle-Granger cointegration test, as ``statsmodels.tsa.stattools.coint``.

    Regresses ``y`` on ``x`` (1-D or (nobs, k) with k <= 5) plus ``trend`` terms, then runs
    :func:`adfuller` without deterministic terms on the residuals. If the fit is (almost)
    perfect it warns (``RuntimeWarning``) and returns t = -inf, p = 0, as statsmodels does.
    """
    kind = choice(trend, "trend", ("c", "n", "ct", "ctt"))
    y_values = series(y, "y", min_length=4)
    x_values = _regressors(x, y_values.shape[0])
    nobs, k_vars = x_values.shape[0], x_values.shape[1] + 1
    design = _with_trend(x_values, kind, prepend=False)
    params, *_ = np.linalg.lstsq(design, y_values, rcond=None)
    residual = y_values - design @ params
    ssr = float(residual @ residual)
    if kind == "n":
        total = float(y_values @ y_values)
    else:
        centred = y_values - y_values.mean()
        total = float(centred @ centred)
    rsquared = 1.0 - ssr / total if total > 0.0 else 1.0
    if rsquared < 1.0 - 100.0 * _SQRT_EPS:
        statistic = adfuller(residual, maxlag=maxlag, regression="n", autolag=autolag).statistic
    else:
        warnings.warn(
            "y and x are (almost) perfectly collinear; the cointegration test is not reliable",
            RuntimeWarning,
            stacklevel=2,
        )
        statistic = -math.inf
    if kind == "n":
        critical = np.full(3, np.nan)
    else:
        critical = np.array(mackinnoncrit(k_vars, kind, nobs - 1))
    return CointResult(statistic, mackinnonp(statistic, kind, k_vars), critical)


def half_life(spread: Any) -> float:
    """Ornstein-Uhlenbeck half-life ``-ln 2 / lambda`` from ``Δs_t = a + lambda s_{t-1} + e``.

    Returns ``inf`` when the spread does not mean-revert (lambda >= 0).
    """
    values = series(spread, "spread", min_length=3)
    lagged = values[:-1]
    change = np.diff(values)
    centred = lagged - lagged.mean()
    denominator = float(centred @ centred)
    if denominator == 0.0:
        raise ValueError("spread is constant")
    slope = float(centred @ (change - change.mean())) / denominator
    return -math.log(2.0) / slope if slope < 0.0 else math.inf


def hedge_ratio(y: Any, x: Any) -> float:
    """OLS slope ``beta`` of ``y = alpha + beta * x + e`` (the units of x per unit of y)."""
    y_values = series(y, "y", min_length=2)
    x_values = series(x, "x", min_length=2)
    same_length(y_values, x_values, "y and x")
    centred = x_values - x_values.mean()
    denominator = float(centred @ centred)
    if denominator == 0.0:
        raise ValueError("x is constant")
    return float(centred @ (y_values - y_values.mean())) / denominator
