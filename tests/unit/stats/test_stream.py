"""The native bivariate window (``stats._stream``); its equality with the numba kernels is
held by the stream-versus-batch tests of ``test_rolling.py``, ``test_hedge.py`` and the
property tests."""

from __future__ import annotations

import math

import numpy as np
import pytest

from spreadwire.stats._stream import BivariateWindow, _divide


@pytest.mark.parametrize(
    ("numerator", "denominator"),
    [(1.0, 0.0), (-1.0, 0.0), (1.0, -0.0), (0.0, 0.0), (math.nan, 0.0), (3.0, 2.0)],
)
def test_divide_follows_numpy(numerator: float, denominator: float) -> None:
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = float(np.float64(numerator) / np.float64(denominator))
    result = _divide(numerator, denominator)
    if math.isnan(expected):
        assert math.isnan(result)
    else:
        assert result == expected and math.copysign(1.0, result) == math.copysign(1.0, expected)


def test_a_window_reports_nothing_until_full_and_rejects_non_finite_input() -> None:
    window = BivariateWindow(3)
    window.push(1.0, 2.0)
    window.push(2.0, 4.5)
    assert math.isnan(window.beta) and math.isnan(window.correlation())
    assert math.isnan(window.covariance())
    window.push(3.0, 6.0)
    assert window.beta == pytest.approx(2.0) and window.n == 3
    with pytest.raises(ValueError, match="x and y must be finite"):
        window.push(math.inf, 1.0)
