"""The bivariate sliding window of the streaming classes, as a native (compiled) object.

The same arithmetic as the numba kernel ``_window.bi_push`` (shifted co-moments, the
re-centring and recompute guards, the OLS outputs), operation for operation and in the
same order, so a :class:`BivariateWindow` fed a series ends in the state the kernel would,
bit for bit (``tests/unit/stats/test_stream.py`` holds them equal, and the batch twins
equal the streaming classes). It exists because one streaming update is a few dozen
floating-point operations: a call into numba costs more than that (dispatch, unboxing
the state array, boxing a result tuple), while this class, compiled with the rest of the
tick-to-order path, is a native call on native floats (``benchmarks/bench_stats.py``,
``pair_update_ns``). Batch functions and :class:`~spreadwire.stats.PairBook` keep the
numba kernels.

Division follows numpy's rules where the kernel relies on them (``error_model="numpy"``):
a zero denominator gives infinity or NaN instead of raising.
"""

from __future__ import annotations

import math
from typing import Final, final

from spreadwire.stats._window import RECOMPUTE_RATIO as _WINDOW_RATIO

#: the kernel's threshold as a C static (a plain imported name is a dict lookup per read)
_RATIO: Final = _WINDOW_RATIO

NAN: Final = math.nan


def _divide(numerator: float, denominator: float) -> float:
    """``numerator / denominator`` as numpy divides: a zero denominator gives ±inf, or NaN
    for a zero or NaN numerator."""
    if denominator == 0.0:
        if numerator == 0.0 or math.isnan(numerator):
            return NAN
        return math.copysign(math.inf, numerator) * math.copysign(1.0, denominator)
    return numerator / denominator


@final
class BivariateWindow:
    """Co-moments of the last ``window`` pairs ``(x, y)`` and the OLS fit of ``y`` on ``x``.

    After :meth:`push`: ``alpha``, ``beta``, ``resid`` and ``z`` (the newest residual over
    the regression's standard error) are those of the full window, NaN before it is full;
    :meth:`correlation` and :meth:`covariance` read the current window.
    """

    __slots__ = (
        "alpha",
        "beta",
        "c",
        "kx",
        "ky",
        "m2x",
        "m2y",
        "mx",
        "my",
        "n",
        "peakx",
        "peaky",
        "pos",
        "resid",
        "window",
        "xs",
        "ys",
        "z",
    )

    def __init__(self, window: int) -> None:
        self.window = window
        self.n = 0
        self.pos = 0
        # shifts, shifted means, co-moments and their peaks (the kernel's header)
        self.kx = 0.0
        self.ky = 0.0
        self.mx = 0.0
        self.my = 0.0
        self.m2x = 0.0
        self.m2y = 0.0
        self.c = 0.0
        self.peakx = 0.0
        self.peaky = 0.0
        self.alpha = NAN
        self.beta = NAN
        self.resid = NAN
        self.z = NAN
        # the ring buffers of the raw values
        self.xs = [0.0] * window
        self.ys = [0.0] * window

    def push(self, x: float, y: float) -> None:
        """Add ``(x, y)``, dropping the oldest pair once full (``_window.bi_push``)."""
        # isinf/isnan compile to machine code, isfinite to a Python call
        if math.isinf(x) or math.isnan(x) or math.isinf(y) or math.isnan(y):
            raise ValueError("x and y must be finite numbers")
        window = self.window
        n = self.n
        pos = self.pos
        if n == 0:
            self.kx = x
            self.ky = y
        dx = x - self.kx
        dy = y - self.ky
        mx = self.mx
        my = self.my
        if n < window:
            n += 1
            ex = dx - mx
            ey = dy - my
            mx += ex / n
            my += ey / n
            self.m2x += ex * (dx - mx)
            self.m2y += ey * (dy - my)
            self.c += ex * (dy - my)
            self.n = n
        else:
            ox = self.xs[pos] - self.kx
            oy = self.ys[pos] - self.ky
            ddx = dx - ox
            ddy = dy - oy
            nmx = mx + ddx / window
            nmy = my + ddy / window
            fx = dx - nmx + ox - mx
            fy = dy - nmy + oy - my
            self.m2x += ddx * fx
            self.m2y += ddy * fy
            self.c += 0.5 * (ddx * fy + ddy * fx)
            mx = nmx
            my = nmy
        self.xs[pos] = x
        self.ys[pos] = y
        self.pos = pos + 1 if pos + 1 < window else 0
        self.mx = mx
        self.my = my
        self._guard(n)
        if n < window:
            self.alpha = NAN
            self.beta = NAN
            self.resid = NAN
            self.z = NAN
        else:
            self._outputs(x, y)

    def _guard(self, n: int) -> None:
        """Recompute after heavy cancellation; re-centre a drifting shift (``_bi_guard``)."""
        m2x = self.m2x
        m2y = self.m2y
        low_x = m2x < _RATIO * self.peakx or m2x < 0.0
        low_y = m2y < _RATIO * self.peaky or m2y < 0.0
        if low_x or low_y:
            self._recompute()
            return
        if m2x > self.peakx:
            self.peakx = m2x
        if m2y > self.peaky:
            self.peaky = m2y
        mx = self.mx
        if mx * mx * n > m2x:
            kx = self.kx
            new_kx = kx + mx
            self.mx = mx - (new_kx - kx)
            self.kx = new_kx
        my = self.my
        if my * my * n > m2y:
            ky = self.ky
            new_ky = ky + my
            self.my = my - (new_ky - ky)
            self.ky = new_ky

    def _recompute(self) -> None:
        """Two passes over the window, shifted by the newest pair (``_bi_recompute``)."""
        n = self.n
        pos = self.pos
        last = pos - 1 if pos > 0 else self.window - 1
        xs = self.xs
        ys = self.ys
        kx = xs[last]
        ky = ys[last]
        sx = 0.0
        sy = 0.0
        for i in range(n):
            sx += xs[i] - kx
            sy += ys[i] - ky
        mx = sx / n
        my = sy / n
        m2x = 0.0
        m2y = 0.0
        c = 0.0
        for i in range(n):
            dx = xs[i] - kx - mx
            dy = ys[i] - ky - my
            m2x += dx * dx
            m2y += dy * dy
            c += dx * dy
        self.kx = kx
        self.ky = ky
        self.mx = mx
        self.my = my
        self.m2x = m2x
        self.m2y = m2y
        self.c = c
        self.peakx = m2x
        self.peaky = m2y

    def _outputs(self, x: float, y: float) -> None:
        """The hedge of the full window (``_bi_outputs``)."""
        m2x = self.m2x
        if m2x > 0.0:
            c = self.c
            beta = c / m2x
            mx = self.mx
            my = self.my
            self.beta = beta
            self.alpha = (self.ky + my) - beta * (self.kx + mx)
            resid = ((y - self.ky) - my) - beta * ((x - self.kx) - mx)
            self.resid = resid
            ssr = self.m2y - beta * c
            if ssr > 0.0 and self.window > 2:
                self.z = _divide(resid, math.sqrt(ssr / (self.window - 2)))
            else:
                self.z = NAN
        else:
            self.beta = NAN
            self.alpha = NAN
            self.resid = NAN
            self.z = NAN

    def correlation(self) -> float:
        """Pearson correlation of the full window, NaN before (``bi_correlation``)."""
        if self.n < self.window or self.n < 2:
            return NAN
        m2x = self.m2x
        m2y = self.m2y
        if m2x > 0.0 and m2y > 0.0:
            r = _divide(self.c, math.sqrt(m2x * m2y))
            return min(1.0, max(-1.0, r))
        return NAN

    def covariance(self) -> float:
        """Sample covariance (ddof=1) of the full window, NaN before."""
        if self.n < self.window:
            return NAN
        return self.c / (self.window - 1)
