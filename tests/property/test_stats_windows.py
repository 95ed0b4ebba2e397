"""Properties of the sliding windows over arbitrary finite data (hypothesis)."""

import numpy as np
import numpy.typing as npt
from hypothesis import given, settings
from hypothesis import strategies as st

from spreadwire.stats import (
    EWMA,
    RollingMoments,
    RollingOLS,
    ewm_var,
    rolling_corr,
    rolling_ols,
    rolling_var,
)

Floats = npt.NDArray[np.float64]
values = st.floats(min_value=-1e12, max_value=1e12, allow_nan=False, allow_infinity=False)
series = st.lists(values, min_size=1, max_size=80)
windows = st.integers(min_value=2, max_value=12)


def _exact_var(window_values: list[float]) -> float:
    data = np.array(window_values, dtype=np.longdouble)
    return float(((data - data.mean()) ** 2).sum() / (len(window_values) - 1))


@settings(max_examples=150, deadline=None)
@given(series, windows)
def test_rolling_var_any_input_is_non_negative_and_exact_when_constant(
    data: list[float], window: int
) -> None:
    variance = rolling_var(data, window)
    full = variance[window - 1 :]
    assert not np.isnan(full).any()
    assert np.all(full >= 0.0)
    for end in range(window, len(data) + 1):
        chunk = data[end - window : end]
        if len(set(chunk)) == 1:
            assert variance[end - 1] == 0.0


@settings(max_examples=150, deadline=None)
@given(series, windows)
def test_rolling_var_any_input_matches_fresh_two_pass_to_window_scale(
    data: list[float], window: int
) -> None:
    variance = rolling_var(data, window)
    for end in range(window, len(data) + 1):
        chunk = data[end - window : end]
        exact = _exact_var(chunk)
        # error bounded by rounding of the window's own magnitudes, whatever left before
        scale = max(abs(v) for v in chunk) ** 2
        assert abs(variance[end - 1] - exact) <= 1e-9 * exact + 1e-12 * scale


@settings(max_examples=100, deadline=None)
@given(series, windows)
def test_rolling_moments_stream_equals_batch(data: list[float], window: int) -> None:
    moments = RollingMoments(window)
    streamed = [moments.update(v) for v in data]
    np.testing.assert_allclose(streamed, rolling_var(data, window), rtol=1e-9, atol=0.0)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(values, values), min_size=1, max_size=60), windows)
def test_rolling_corr_any_input_stays_in_unit_interval(
    pairs: list[tuple[float, float]], window: int
) -> None:
    x = [p[0] for p in pairs]
    y = [p[1] for p in pairs]
    corr = rolling_corr(x, y, window)
    finite = corr[~np.isnan(corr)]
    assert np.all(np.abs(finite) <= 1.0)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(values, values), min_size=3, max_size=50), windows.map(lambda w: w + 1))
def test_rolling_ols_stream_equals_batch(pairs: list[tuple[float, float]], window: int) -> None:
    ols = RollingOLS(window)
    rows = []
    for a, b in pairs:
        ols.update(a, b)
        rows.append((ols.alpha, ols.beta, ols.residual, ols.zscore))
    expected = rolling_ols([p[0] for p in pairs], [p[1] for p in pairs], window)
    np.testing.assert_array_equal(np.array(rows).T, expected)


@settings(max_examples=100, deadline=None)
@given(series, st.floats(min_value=0.01, max_value=1.0))
def test_ewma_any_input_has_non_negative_variance_equal_to_batch(
    data: list[float], alpha: float
) -> None:
    ewma = EWMA(alpha)
    for v in data:
        ewma.update(v)
    assert ewma.variance >= 0.0
    assert ewma.variance == ewm_var(data, alpha)[-1]
