"""Welford and EWMA against numpy / pandas."""

import math

import numpy as np
import pandas as pd
import pytest

from spreadwire.stats import EWMA, Welford, ewm_mean, ewm_var

SEEDS = range(20)


@pytest.mark.parametrize("seed", SEEDS)
def test_welford_random_series_matches_numpy(seed: int) -> None:
    values = np.random.default_rng(seed).normal(1e6, 3.0, 500)
    welford = Welford()
    for value in values:
        welford.update(float(value))
    assert welford.count == 500
    assert welford.mean == pytest.approx(float(np.mean(values)), rel=1e-13)
    assert welford.variance == pytest.approx(float(np.var(values, ddof=1)), rel=1e-10)
    assert welford.std == pytest.approx(float(np.std(values, ddof=1)), rel=1e-10)


def test_welford_fewer_than_two_values_reports_nan_variance() -> None:
    welford = Welford()
    assert math.isnan(welford.mean)
    welford.update(3.0)
    assert welford.mean == 3.0
    assert math.isnan(welford.variance)


def test_welford_non_finite_value_raises_naming_x() -> None:
    with pytest.raises(ValueError, match="x must be"):
        Welford().update(math.nan)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("alpha", [0.01, 0.2, 0.9])
def test_ewma_stream_matches_pandas_and_batch(seed: int, alpha: float) -> None:
    values = np.random.default_rng(seed).normal(0.0, 1e-2, 2000)
    frame = pd.Series(values).ewm(alpha=alpha, adjust=False)
    expected_mean = frame.mean().to_numpy()
    expected_var = frame.var(bias=True).to_numpy()
    ewma = EWMA(alpha)
    means = np.array([ewma.update(float(v)) for v in values])
    # relative to the data scale (1e-2): a mean crossing zero has no relative accuracy
    scale = 1e-11 * 1e-2
    np.testing.assert_allclose(means, expected_mean, rtol=1e-11, atol=scale)
    assert ewma.variance == pytest.approx(expected_var[-1], rel=1e-11)
    np.testing.assert_allclose(ewm_mean(values, alpha), expected_mean, rtol=1e-11, atol=scale)
    np.testing.assert_allclose(ewm_var(values, alpha)[1:], expected_var[1:], rtol=1e-11)
    assert ewm_var(values, alpha)[-1] == ewma.variance


def test_ewma_span_and_halflife_give_the_usual_alpha() -> None:
    assert EWMA.from_span(19).alpha == pytest.approx(0.1)
    assert EWMA.from_halflife(1.0).alpha == pytest.approx(0.5)


@pytest.mark.parametrize("alpha", [0.0, -0.1, 1.5, math.nan])
def test_ewma_alpha_out_of_range_raises_naming_alpha(alpha: float) -> None:
    with pytest.raises(ValueError, match="alpha"):
        EWMA(alpha)


def test_ewm_batch_nan_input_raises_naming_x() -> None:
    with pytest.raises(ValueError, match="x contains NaN"):
        ewm_mean([1.0, math.nan], 0.5)
