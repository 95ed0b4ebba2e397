"""RollingOLS vs statsmodels, PairBook vs single pairs, KalmanHedge vs 2x2 matrix algebra."""

import math

import numpy as np
import numpy.typing as npt
import pytest
from statsmodels.regression.rolling import RollingOLS as StatsmodelsRollingOLS
from statsmodels.tools import add_constant

from spreadwire.stats import KalmanHedge, PairBook, RollingOLS, rolling_ols

Floats = npt.NDArray[np.float64]


def _pair(seed: int, n: int = 1200) -> tuple[Floats, Floats]:
    rng = np.random.default_rng(seed)
    x = 50.0 + rng.normal(0.0, 0.5, n).cumsum()
    y = 3.0 + 1.7 * x + rng.normal(0.0, 1.0, n)
    return x, y


@pytest.mark.parametrize("window", [3, 30, 250])
@pytest.mark.parametrize("seed", range(10))
def test_rolling_ols_stream_matches_statsmodels_and_batch(seed: int, window: int) -> None:
    x, y = _pair(seed)
    fit = StatsmodelsRollingOLS(y, add_constant(x), window=window).fit(method="lstsq")
    ols = RollingOLS(window)
    rows = []
    for a, b in zip(x.tolist(), y.tolist(), strict=True):
        ols.update(a, b)
        rows.append((ols.alpha, ols.beta, ols.residual, ols.zscore))
    stream = np.array(rows).T
    residual = y - fit.params[:, 0] - fit.params[:, 1] * x
    np.testing.assert_allclose(stream[0], fit.params[:, 0], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(stream[1], fit.params[:, 1], rtol=1e-9)
    np.testing.assert_allclose(stream[2], residual, rtol=1e-8, atol=1e-9)
    # the z-score's scale is ssr = M2y - beta * C: its rounding grows as 1 / (1 - R^2)
    expected_z = residual / np.sqrt(fit.mse_resid)
    allowed = 1e-9 * (1.0 + np.abs(expected_z)) / (1.0 - fit.rsquared)
    assert np.all(np.abs(stream[3] - expected_z)[window - 1 :] <= allowed[window - 1 :])
    np.testing.assert_array_equal(stream, rolling_ols(x, y, window))
    assert ols.count == window


@pytest.mark.parametrize("seed", range(5))
def test_pair_book_equals_independent_rolling_ols(seed: int) -> None:
    rng = np.random.default_rng(seed)
    pairs, window, ticks = 7, 20, 300
    xs = 100.0 + rng.normal(0.0, 0.3, (ticks, pairs)).cumsum(axis=0)
    ys = 2.0 * xs + rng.normal(0.0, 1.0, (ticks, pairs))
    book = PairBook(window, pairs)
    singles = [RollingOLS(window) for _ in range(pairs)]
    for tick in range(ticks):
        book.update(xs[tick], ys[tick])
        for k, single in enumerate(singles):
            single.update(float(xs[tick, k]), float(ys[tick, k]))
        expected = np.array([[s.alpha, s.beta, s.residual, s.zscore] for s in singles]).T
        np.testing.assert_array_equal(
            np.array([book.alpha, book.beta, book.residual, book.zscore]), expected
        )
    np.testing.assert_array_equal(book.correlations(), [s.correlation for s in singles])


def test_pair_book_wrong_length_raises_naming_x_and_y() -> None:
    book = PairBook(5, 3)
    with pytest.raises(ValueError, match="x and y must both have shape"):
        book.update(np.ones(2), np.ones(3))
    with pytest.raises(ValueError, match="x and y must be finite"):
        book.update(np.ones(3), np.array([1.0, math.nan, 1.0]))
    with pytest.raises(ValueError, match="pairs"):
        PairBook(5, 0)


def test_rolling_ols_window_below_three_raises_naming_window() -> None:
    with pytest.raises(ValueError, match="window"):
        RollingOLS(2)


def test_rolling_ols_constant_x_gives_nan_beta() -> None:
    ols = RollingOLS(4)
    for y in (1.0, 2.0, 3.0, 5.0):
        ols.update(7.0, y)
    assert math.isnan(ols.beta)
    assert math.isnan(ols.zscore)


def _kalman_reference(
    x: Floats, y: Floats, process: float, observation: float
) -> tuple[Floats, Floats, Floats]:
    theta = np.zeros(2)
    covariance = np.zeros((2, 2))
    betas, errors, variances = [], [], []
    for a, b in zip(x, y, strict=True):
        prior = covariance + process * np.eye(2)
        design = np.array([a, 1.0])
        error = b - design @ theta
        variance = design @ prior @ design + observation
        gain = prior @ design / variance
        theta = theta + gain * error
        covariance = prior - np.outer(gain, design) @ prior
        betas.append(theta[0])
        errors.append(error)
        variances.append(variance)
    return np.array(betas), np.array(errors), np.array(variances)


@pytest.mark.parametrize("seed", range(8))
def test_kalman_hedge_matches_matrix_reference(seed: int) -> None:
    x, y = _pair(seed, 500)
    betas, errors, variances = _kalman_reference(x, y, 1e-4, 1e-3)
    kalman = KalmanHedge(1e-4, 1e-3)
    rows = []
    for a, b in zip(x.tolist(), y.tolist(), strict=True):
        kalman.update(a, b)
        rows.append((kalman.beta, kalman.residual, kalman.residual_variance, kalman.zscore))
    stream = np.array(rows).T
    np.testing.assert_allclose(stream[0], betas, rtol=1e-8)
    np.testing.assert_allclose(stream[1], errors, rtol=1e-7, atol=1e-8)
    np.testing.assert_allclose(stream[2], variances, rtol=1e-8)
    np.testing.assert_allclose(stream[3], errors / np.sqrt(variances), rtol=1e-7, atol=1e-8)
    assert kalman.count == 500


def test_kalman_hedge_bad_noise_raises_naming_the_argument() -> None:
    with pytest.raises(ValueError, match="observation_noise"):
        KalmanHedge(1e-4, 0.0)
    with pytest.raises(ValueError, match="process_noise"):
        KalmanHedge(-1.0, 1.0)
    with pytest.raises(ValueError, match="x and y must be finite"):
        KalmanHedge().update(math.inf, 1.0)
