"""MacKinnon p-values (1994 surfaces) and critical values (2010 surfaces) for (A)DF / EG tests.

Same semantics as ``statsmodels.tsa.adfvalues.mackinnonp`` / ``mackinnoncrit``: the p-value
is the normal CDF of a quadratic (small p) or cubic (large p) in the statistic, clamped to
0 below ``tau_min`` and to 1 above ``tau_max``; critical values are
``b_inf + b1/T + b2/T^2 + b3/T^3``.
"""

import math

import numpy as np
import numpy.typing as npt

from spreadwire.stats import _tables
from spreadwire.stats._validate import choice

Floats = npt.NDArray[np.float64]
TRENDS = ("n", "c", "ct", "ctt")
_SQRT_HALF = math.sqrt(0.5)


def normal_cdf(value: float) -> float:
    """Standard normal CDF, accurate in both tails."""
    return 0.5 * math.erfc(-value * _SQRT_HALF)


def _series_count(n_series: int, limit: int) -> int:
    if isinstance(n_series, bool) or not 1 <= int(n_series) <= limit:
        raise ValueError(f"n_series must be an integer in [1, {limit}], got {n_series!r}")
    return int(n_series)


def mackinnonp(statistic: float, regression: str = "c", n_series: int = 1) -> float:
    """Asymptotic p-value of a (A)DF / Engle-Granger t-statistic for ``n_series`` I(1) series."""
    trend = choice(regression, "regression", TRENDS)
    index = _series_count(n_series, 6) - 1
    if statistic > _tables.TAU_MAX[trend][index]:
        return 1.0
    if statistic < _tables.TAU_MIN[trend][index]:
        return 0.0
    if statistic <= _tables.TAU_STAR[trend][index]:
        coefficients = _tables.TAU_SMALL_P[trend][index]
    else:
        coefficients = _tables.TAU_LARGE_P[trend][index]
    value = 0.0
    for coefficient in reversed(coefficients):
        value = value * statistic + coefficient
    return normal_cdf(value)


def mackinnonp_array(statistics: Floats, regression: str = "c", n_series: int = 1) -> Floats:
    """Vectorised :func:`mackinnonp` over an array of statistics (NaN stays NaN)."""
    trend = choice(regression, "regression", TRENDS)
    index = _series_count(n_series, 6) - 1
    stats = np.asarray(statistics, dtype=np.float64)
    small = _horner(_tables.TAU_SMALL_P[trend][index], stats)
    large = _horner(_tables.TAU_LARGE_P[trend][index], stats)
    argument = np.where(stats <= _tables.TAU_STAR[trend][index], small, large)
    pvalues = _normal_cdf_array(argument)
    pvalues = np.where(stats > _tables.TAU_MAX[trend][index], 1.0, pvalues)
    result: Floats = np.where(stats < _tables.TAU_MIN[trend][index], 0.0, pvalues)
    return result


def _horner(coefficients: tuple[float, ...], values: Floats) -> Floats:
    result = np.zeros_like(values)
    for coefficient in reversed(coefficients):
        result = result * values + coefficient
    return result


def _normal_cdf_array(values: Floats) -> Floats:
    from spreadwire.stats._special import erfc_array

    return 0.5 * erfc_array(-values * _SQRT_HALF)


def mackinnoncrit(
    n_series: int = 1, regression: str = "c", nobs: float = math.inf
) -> tuple[float, float, float]:
    """1 %, 5 % and 10 % critical values for ``nobs`` observations (asymptotic if inf)."""
    trend = choice(regression, "regression", TRENDS)
    index = _series_count(n_series, len(_tables.CRIT_2010[trend])) - 1
    table = _tables.CRIT_2010[trend][index]
    if math.isinf(nobs):
        return (table[0][0], table[1][0], table[2][0])
    inverse = 1.0 / nobs
    values = []
    for b_inf, b1, b2, b3 in table:
        values.append(((b3 * inverse + b2) * inverse + b1) * inverse + b_inf)
    return (values[0], values[1], values[2])
