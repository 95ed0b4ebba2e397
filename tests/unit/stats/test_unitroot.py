"""adfuller, coint, coint_johansen, screen_pairs, half_life, hedge_ratio against statsmodels."""

import math

import numpy as np
import numpy.typing as npt
import pytest
from statsmodels.tools.sm_exceptions import CollinearityWarning
from statsmodels.tsa.adfvalues import mackinnoncrit as sm_mackinnoncrit
from statsmodels.tsa.adfvalues import mackinnonp as sm_mackinnonp
from statsmodels.tsa.stattools import adfuller as sm_adfuller
from statsmodels.tsa.stattools import coint as sm_coint
from statsmodels.tsa.vector_ar.vecm import coint_johansen as sm_johansen

from spreadwire.stats import (
    adfuller,
    coint,
    coint_johansen,
    half_life,
    hedge_ratio,
    mackinnoncrit,
    mackinnonp,
    screen_pairs,
)

Floats = npt.NDArray[np.float64]
LENGTHS = (25, 60, 250, 1000)


def _walk(seed: int, n: int) -> Floats:
    return np.random.default_rng(seed).standard_normal(n).cumsum()


def _ar1(seed: int, n: int, phi: float = 0.8) -> Floats:
    noise = np.random.default_rng(seed).standard_normal(n)
    values = np.zeros(n)
    for t in range(1, n):
        values[t] = phi * values[t - 1] + noise[t]
    return values


def _close(actual: float, expected: float, rel: float = 1e-8) -> bool:
    return abs(actual - expected) <= rel * abs(expected) + 1e-300


@pytest.mark.parametrize("autolag", [None, "AIC", "BIC"])
@pytest.mark.parametrize("regression", ["c", "n", "ct", "ctt"])
@pytest.mark.parametrize("seed", range(12))
def test_adfuller_matches_statsmodels(seed: int, regression: str, autolag: str | None) -> None:
    n = LENGTHS[seed % 4]
    x = _walk(seed, n) if seed % 2 else _ar1(seed, n)
    maxlag = None if autolag or seed % 3 == 0 else min(3, n // 2 - 4)
    ours = adfuller(x, maxlag, regression, autolag)
    theirs = sm_adfuller(x, maxlag, regression, autolag, result_object=True)
    assert _close(ours.statistic, theirs.statistic)
    assert _close(ours.pvalue, theirs.pvalue)
    assert (ours.lags, ours.nobs) == (theirs.lags, theirs.nobs)
    assert ours.critical_values == theirs.critical_values
    if autolag is None:
        assert ours.icbest is None
    else:
        assert ours.icbest is not None
        assert _close(ours.icbest, theirs.icbest)


@pytest.mark.parametrize("autolag", [None, "aic"])
@pytest.mark.parametrize("trend", ["c", "n", "ct"])
@pytest.mark.parametrize("seed", range(12))
def test_coint_matches_statsmodels(seed: int, trend: str, autolag: str | None) -> None:
    n = LENGTHS[seed % 4]
    x = 20.0 + _walk(seed, n)
    noise = _ar1(seed + 100, n, 0.5) if seed % 2 else _walk(seed + 100, n)
    y = 1.0 + 1.5 * x + noise
    maxlag = None if autolag else seed % 3
    ours = coint(y, x, trend, maxlag, autolag)
    theirs = sm_coint(y, x, trend, maxlag=maxlag, autolag=autolag)
    assert _close(ours.coint_t, theirs[0])
    assert _close(ours.pvalue, theirs[1])
    np.testing.assert_array_equal(ours.critical_values, theirs[2])


def test_coint_two_regressors_matches_statsmodels() -> None:
    x = np.column_stack([_walk(1, 300), _walk(2, 300)])
    y = x @ np.array([1.0, -2.0]) + _ar1(3, 300)
    ours = coint(y, x, autolag=None, maxlag=2)
    theirs = sm_coint(y, x, autolag=None, maxlag=2)
    assert _close(ours.coint_t, theirs[0])
    assert _close(ours.pvalue, theirs[1])
    np.testing.assert_array_equal(ours.critical_values, theirs[2])


def test_coint_collinear_series_warns_and_returns_minus_infinity() -> None:
    x = _walk(4, 100)
    with pytest.warns(RuntimeWarning, match="collinear"):
        ours = coint(2.0 * x + 1.0, x)
    with pytest.warns(CollinearityWarning):
        theirs = sm_coint(2.0 * x + 1.0, x)
    assert ours.coint_t == theirs[0] == -math.inf
    assert ours.pvalue == theirs[1] == 0.0


@pytest.mark.parametrize("k_ar_diff", [0, 1, 3])
@pytest.mark.parametrize("det_order", [-1, 0, 1])
@pytest.mark.parametrize("seed", range(6))
def test_coint_johansen_matches_statsmodels(seed: int, det_order: int, k_ar_diff: int) -> None:
    n, k = (80, 400)[seed % 2], 2 + seed % 3
    data = np.random.default_rng(seed).standard_normal((n, k)).cumsum(axis=0)
    data[:, 1] = 0.7 * data[:, 0] + _ar1(seed, n)
    ours = coint_johansen(data, det_order, k_ar_diff)
    theirs = sm_johansen(data, det_order, k_ar_diff)
    np.testing.assert_allclose(ours.eig, theirs.eig, rtol=1e-8)
    np.testing.assert_allclose(ours.trace_stat, theirs.trace_stat, rtol=1e-8)
    np.testing.assert_allclose(ours.max_eig_stat, theirs.max_eig_stat, rtol=1e-8)
    np.testing.assert_array_equal(ours.trace_stat_crit_vals, theirs.trace_stat_crit_vals)
    np.testing.assert_array_equal(ours.max_eig_stat_crit_vals, theirs.max_eig_stat_crit_vals)
    signs = np.sign(np.sum(ours.evec * theirs.evec, axis=0))  # columns are defined up to sign
    np.testing.assert_allclose(ours.evec * signs, theirs.evec, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("maxlag", [0, 1, 2])
@pytest.mark.parametrize("seed", range(3))
def test_screen_pairs_equals_per_pair_coint(seed: int, maxlag: int) -> None:
    rng = np.random.default_rng(seed)
    prices = 50.0 + rng.standard_normal((200, 5)).cumsum(axis=0)
    prices[:, 2] = 3.0 + 0.8 * prices[:, 0] + _ar1(seed, 200, 0.6)
    screen = screen_pairs(prices, maxlag=maxlag)
    assert len(screen.y) == 20
    assert np.all(np.diff(screen.tstat) >= 0)
    for i in range(20):
        y, x = prices[:, screen.y[i]], prices[:, screen.x[i]]
        theirs = sm_coint(y, x, autolag=None, maxlag=maxlag)
        assert _close(screen.tstat[i], theirs[0])
        assert _close(screen.pvalue[i], theirs[1])
        assert _close(screen.hedge_ratio[i], hedge_ratio(y, x), 1e-12)
        assert _close(screen.correlation[i], np.corrcoef(y, x)[0, 1], 1e-12)
        spread = y - screen.hedge_ratio[i] * x
        assert screen.half_life[i] == pytest.approx(half_life(spread), rel=1e-9)


def test_screen_pairs_top_k_keeps_the_most_cointegrated() -> None:
    prices = 10.0 + np.random.default_rng(9).standard_normal((150, 6)).cumsum(axis=0)
    prices[:, 4] = 2.0 * prices[:, 1] + _ar1(9, 150, 0.3)
    full = screen_pairs(prices)
    best = screen_pairs(prices, top_k=3)
    np.testing.assert_array_equal(best.tstat, full.tstat[:3])
    assert {int(best.y[0]), int(best.x[0])} == {1, 4}


def test_half_life_ar1_recovers_phi() -> None:
    spread = _ar1(5, 20_000, 0.9)
    assert half_life(spread) == pytest.approx(-math.log(2) / math.log(0.9), rel=0.1)
    assert half_life(_walk(1, 50) * 0 + np.arange(50.0)) == math.inf


def test_mackinnon_surfaces_equal_statsmodels() -> None:
    for statistic in (-25.0, -5.807, -3.0, -2.62, -1.0, 0.5, 3.0):
        for regression in ("n", "c", "ct", "ctt"):
            for n_series in range(1, 7):
                expected = sm_mackinnonp(statistic, regression, n_series)
                assert _close(mackinnonp(statistic, regression, n_series), expected, 1e-14)
    np.testing.assert_array_equal(mackinnoncrit(2, "c", 999), sm_mackinnoncrit(2, "c", 999))


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: adfuller(np.ones(50)), "x is constant"),
        (lambda: adfuller([1.0, 2.0]), "x needs at least"),
        (lambda: adfuller([1.0, math.nan, 2.0, 3.0, 1.0]), "x contains NaN"),
        (lambda: adfuller(_walk(1, 50), maxlag=40), "maxlag"),
        (lambda: adfuller(_walk(1, 50), regression="q"), "regression"),
        (lambda: adfuller(_walk(1, 50), autolag="t-stat"), "autolag"),
        (lambda: coint(_walk(1, 50), _walk(2, 40)), "x must have 50 rows"),
        (lambda: coint(_walk(1, 50), _walk(2, 50), trend="x"), "trend"),
        (lambda: coint_johansen(_walk(1, 50), 0, 1), "data must be 2-D"),
        (lambda: coint_johansen(np.ones((6, 2)), 0, 1), "too few observations"),
        (lambda: coint_johansen(np.ones((60, 2)), 0, -1), "k_ar_diff"),
        (lambda: coint_johansen(np.ones((60, 2)), -2, 1), "det_order"),
        (lambda: screen_pairs(np.ones(10)), "prices must be 2-D"),
        (lambda: screen_pairs(np.ones((20, 3))), "constant column"),
        (lambda: screen_pairs(_walk(1, 40).reshape(20, 2), maxlag=30), "maxlag"),
        (lambda: screen_pairs(_walk(1, 40).reshape(20, 2), top_k=0), "top_k"),
        (lambda: half_life([1.0, 1.0, 1.0]), "spread is constant"),
        (lambda: hedge_ratio([1.0, 2.0], [3.0, 3.0]), "x is constant"),
        (lambda: hedge_ratio([1.0, 2.0], [3.0]), "x needs at least"),
        (lambda: mackinnonp(-2.0, "c", 7), "n_series"),
    ],
)
def test_tests_bad_input_raise_value_error_naming_the_argument(call: object, name: str) -> None:
    assert callable(call)
    with pytest.raises(ValueError, match=name):
        call()
