"""Sliding-window statistics: batch against pandas, streaming against batch, hard vectors."""

import math

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest

from spreadwire.stats import (
    RollingCorrelation,
    RollingCovariance,
    RollingMoments,
    RollingZScore,
    rolling_corr,
    rolling_cov,
    rolling_mean,
    rolling_std,
    rolling_var,
    rolling_zscore,
)

Floats = npt.NDArray[np.float64]
SEEDS = range(25)
WINDOWS = (2, 3, 20, 100)


def _series(seed: int, n: int = 3000) -> tuple[Floats, Floats]:
    rng = np.random.default_rng(seed)
    x = rng.normal(5.0, 1.0, n)
    y = 0.5 * x + rng.normal(-3.0, 1.0, n)
    return x, y


def _exact_std(x: Floats, window: int) -> Floats:
    """Two-pass reference in long double on every window."""
    views = np.lib.stride_tricks.sliding_window_view(x.astype(np.longdouble), window)
    centred = views - views.mean(axis=1, keepdims=True)
    result = np.sqrt((centred * centred).sum(axis=1) / (window - 1)).astype(np.float64)
    return np.concatenate([np.full(window - 1, np.nan), result])


def _exact_corr(x: Floats, y: Floats, window: int) -> Floats:
    vx = np.lib.stride_tricks.sliding_window_view(x.astype(np.longdouble), window)
    vy = np.lib.stride_tricks.sliding_window_view(y.astype(np.longdouble), window)
    cx = vx - vx.mean(axis=1, keepdims=True)
    cy = vy - vy.mean(axis=1, keepdims=True)
    corr = (cx * cy).sum(axis=1) / np.sqrt((cx * cx).sum(axis=1) * (cy * cy).sum(axis=1))
    return np.concatenate([np.full(window - 1, np.nan), corr.astype(np.float64)])


@pytest.mark.parametrize("window", WINDOWS)
@pytest.mark.parametrize("seed", SEEDS)
def test_rolling_batch_well_conditioned_matches_pandas(seed: int, window: int) -> None:
    x, y = _series(seed)
    sx, sy = pd.Series(x), pd.Series(y)
    rolled = sx.rolling(window)
    # "well conditioned": windows whose spread is not tiny against the data's own spread
    # (inside the others pandas itself is off by up to ~1e-10; see the exact tests below)
    good = np.array(rolled.std() > 0.2 * np.std(x))
    good &= np.array(sy.rolling(window).std() > 0.2 * np.std(y))
    np.testing.assert_allclose(rolling_mean(x, window), rolled.mean(), rtol=1e-11)
    np.testing.assert_allclose(rolling_var(x, window)[good], rolled.var()[good], rtol=1e-11)
    np.testing.assert_allclose(rolling_std(x, window)[good], rolled.std()[good], rtol=1e-11)
    expected_z = ((sx - rolled.mean()) / rolled.std())[good]
    np.testing.assert_allclose(rolling_zscore(x, window)[good], expected_z, rtol=1e-11, atol=1e-11)
    expected_corr = sx.rolling(window).corr(sy)[good]
    np.testing.assert_allclose(
        rolling_corr(x, y, window)[good], expected_corr, rtol=1e-11, atol=1e-12
    )
    expected_cov = sx.rolling(window).cov(sy)[good]
    np.testing.assert_allclose(
        rolling_cov(x, y, window)[good], expected_cov, rtol=1e-11, atol=1e-12
    )


@pytest.mark.parametrize("window", WINDOWS)
@pytest.mark.parametrize("seed", range(10))
def test_rolling_batch_every_window_matches_exact_two_pass(seed: int, window: int) -> None:
    x, y = _series(seed)
    np.testing.assert_allclose(rolling_std(x, window), _exact_std(x, window), rtol=1e-11)
    np.testing.assert_allclose(
        rolling_corr(x, y, window), _exact_corr(x, y, window), rtol=1e-11, atol=1e-12
    )


@pytest.mark.parametrize("window", WINDOWS)
@pytest.mark.parametrize("seed", range(8))
def test_rolling_stream_equals_batch_twin(seed: int, window: int) -> None:
    x, y = _series(seed, 1500)
    moments, zscore = RollingMoments(window), RollingZScore(window)
    covariance, correlation = RollingCovariance(window), RollingCorrelation(window)
    rows = []
    for a, b in zip(x.tolist(), y.tolist(), strict=True):
        moments.update(a)
        zscore.update(a)
        covariance.update(a, b)
        correlation.update(a, b)
        rows.append(
            (
                moments.mean,
                moments.std,
                zscore.zscore,
                covariance.covariance,
                correlation.correlation,
            )
        )
    stream = np.array(rows).T
    # the batch kernels re-centre on their own schedule: equal to rounding, not bit for bit
    np.testing.assert_allclose(stream[0], rolling_mean(x, window), rtol=1e-12)
    np.testing.assert_allclose(stream[1], rolling_std(x, window), rtol=1e-11)
    np.testing.assert_array_equal(stream[2], rolling_zscore(x, window))
    np.testing.assert_array_equal(stream[3], rolling_cov(x, y, window))
    np.testing.assert_allclose(stream[4], rolling_corr(x, y, window), rtol=1e-11, atol=1e-12)
    assert moments.count == window
    assert zscore.std == pytest.approx(moments.std)


def test_rolling_std_pandas_54518_vector_recovers_after_huge_values() -> None:
    values = [1.2e3, 1.3e17, 1.5e17, 1.995e3, 1.99e3]
    assert rolling_std(values, 2)[-1] == pytest.approx(3.5355339059327378, rel=1e-9)
    moments = RollingMoments(2)
    for value in values:
        moments.update(value)
    assert moments.std == pytest.approx(3.5355339059327378, rel=1e-9)


def test_rolling_corr_pandas_66678_vector_gives_minus_one_seventh() -> None:
    x = [1, 2, 1e12, 1e7, 6, 5, 8, 7]
    y = [2, 1, 3, -1e12, 4, 7, 6, 9]
    assert rolling_corr(x, y, 3)[-1] == pytest.approx(-1 / 7, rel=1e-9)
    assert rolling_cov(x, y, 3)[-1] == pytest.approx(-1 / 3, rel=1e-9)
    correlation, covariance = RollingCorrelation(3), RollingCovariance(3)
    for a, b in zip(x, y, strict=True):
        correlation.update(a, b)
        covariance.update(a, b)
    assert correlation.correlation == pytest.approx(-1 / 7, rel=1e-9)
    assert covariance.covariance == pytest.approx(-1 / 3, rel=1e-9)


def test_rolling_var_polars_21677_vector_is_exactly_zero_when_window_all_zero() -> None:
    values = [1.0, 1e-7] + [0.0] * 20
    variance = rolling_var(values, 3)
    assert np.all(variance[4:] == 0.0)
    moments = RollingMoments(3)
    for value in values:
        moments.update(value)
    assert moments.variance == 0.0


@pytest.mark.parametrize("level", [0.1, 100.0, 1e9])
def test_rolling_var_constant_window_is_exactly_zero(level: float) -> None:
    values = np.concatenate([np.random.default_rng(1).normal(level, 1.0, 50), np.full(30, level)])
    assert np.all(rolling_var(values, 10)[60:] == 0.0)
    assert np.all(np.isnan(rolling_zscore(values, 10)[60:]))
    assert np.all(np.isnan(rolling_corr(values, values[::-1].copy(), 10)[60:70]))


@pytest.mark.parametrize("seed", range(10))
@pytest.mark.parametrize(("offset", "outlier"), [(1e9, 0.0), (1e6, 0.0), (0.0, 1e8), (100.0, 1e12)])
def test_rolling_hard_series_match_exact_two_pass(seed: int, offset: float, outlier: float) -> None:
    rng = np.random.default_rng(seed)
    window = 50
    x = offset + rng.standard_normal(4000)
    y = offset - 0.3 * x + rng.standard_normal(4000)
    x[1000] += outlier
    y[2000] -= outlier
    std = rolling_std(x, window)
    corr = rolling_corr(x, y, window)
    stream = RollingCorrelation(window)
    streamed = np.array([stream.update(a, b) for a, b in zip(x.tolist(), y.tolist(), strict=True)])
    np.testing.assert_allclose(std, _exact_std(x, window), rtol=1e-9)
    np.testing.assert_allclose(corr, _exact_corr(x, y, window), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(streamed, _exact_corr(x, y, window), rtol=1e-9, atol=1e-9)
    assert np.all(std[window - 1 :] >= 0.0)
    assert not np.isnan(std[window - 1 :]).any()


@pytest.mark.parametrize("seed", range(5))
def test_rolling_random_walk_prices_stay_accurate(seed: int) -> None:
    x = 100.0 + np.random.default_rng(seed).normal(0.0, 0.05, 100_000).cumsum()
    np.testing.assert_allclose(rolling_std(x, 100), _exact_std(x, 100), rtol=1e-10)


@pytest.mark.parametrize("window", [1, 0, -3])
def test_rolling_window_below_two_raises_naming_window(window: int) -> None:
    with pytest.raises(ValueError, match="window"):
        rolling_std([1.0, 2.0, 3.0], window)
    with pytest.raises(ValueError, match="window"):
        RollingMoments(window)
    with pytest.raises(ValueError, match="window"):
        RollingCorrelation(window)


def test_rolling_non_integer_window_raises_naming_window() -> None:
    with pytest.raises(ValueError, match="window"):
        rolling_mean([1.0, 2.0], 2.5)  # type: ignore[arg-type]


def test_rolling_nan_input_raises_naming_the_argument() -> None:
    with pytest.raises(ValueError, match="x contains NaN"):
        rolling_std([1.0, math.nan, 2.0], 2)
    with pytest.raises(ValueError, match="y contains NaN"):
        rolling_corr([1.0, 2.0, 3.0], [1.0, math.inf, 2.0], 2)
    with pytest.raises(ValueError, match="x must be"):
        RollingMoments(3).update(math.nan)
    with pytest.raises(ValueError, match="x and y must be"):
        RollingCorrelation(3).update(1.0, math.nan)


def test_rolling_wrong_shapes_raise_naming_the_argument() -> None:
    with pytest.raises(ValueError, match="x must be 1-D"):
        rolling_mean(np.ones((3, 2)), 2)
    with pytest.raises(ValueError, match="x and y must have the same length"):
        rolling_corr([1.0, 2.0, 3.0], [1.0, 2.0], 2)


def test_rolling_series_shorter_than_window_is_all_nan() -> None:
    assert np.isnan(rolling_std([1.0, 2.0], 5)).all()
    assert np.isnan(rolling_corr([1.0, 2.0], [2.0, 1.0], 5)).all()
