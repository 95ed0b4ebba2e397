"""Compiled sliding-window kernels shared by the streaming objects and the batch functions.

Every window keeps its sums on *shifted* data (value minus a shift ``K``, the "assumed mean")
and updates them with the fused fixed-window Welford step. Two guards keep it exact forever:

* re-centre: when the shifted mean drifts further than one standard deviation from zero,
  ``K`` moves onto the mean in O(1) (the co-moments are shift invariant);
* recompute: when a second moment falls below ``RECOMPUTE_RATIO`` times its peak since the
  last recompute (an outlier or a volatile stretch left the window, so the downdate may
  have cancelled catastrophically), the window is recomputed two-pass from the ring buffer,
  shifted by its newest value. A constant window therefore has exactly zero variance.

State vectors are flat ``float64`` arrays. Univariate layout: ``[n, pos, K, mean, M2, peak,
out_mean, out_var, out_z, buf...]``. Bivariate layout: see the ``B_*`` offsets; buffers follow
the header. ``PairBook`` runs the bivariate arithmetic on a structure-of-arrays layout of its
own (:mod:`spreadwire.stats._pairbook`); a change to ``bi_push`` must be mirrored there.
"""

import math

import numpy as np
import numpy.typing as npt
from numba import njit

Floats = npt.NDArray[np.float64]

RECOMPUTE_RATIO = 1e-4
NAN = math.nan

# univariate header offsets
U_N, U_POS, U_K, U_MEAN, U_M2, U_PEAK, U_OMEAN, U_OVAR, U_OZ = range(9)
U_HEADER = 9

# bivariate header offsets
(
    B_N,
    B_POS,
    B_KX,
    B_KY,
    B_MX,
    B_MY,
    B_M2X,
    B_M2Y,
    B_C,
    B_PEAKX,
    B_PEAKY,
    B_ALPHA,
    B_BETA,
    B_RESID,
    B_Z,
    B_CORR,
    B_COV,
) = range(17)
B_HEADER = 17


def univariate_state(window: int) -> Floats:
    """Return a fresh univariate window state."""
    return np.zeros(U_HEADER + window, dtype=np.float64)


@njit(cache=True, error_model="numpy", inline="always")
def _uni_recompute(s: Floats, window: int) -> None:  # pragma: no cover - compiled
    n = int(s[U_N])
    pos = int(s[U_POS])
    newest = s[U_HEADER + (pos - 1 if pos > 0 else window - 1)]
    total = 0.0
    for i in range(n):
        total += s[U_HEADER + i] - newest
    mean = total / n
    m2 = 0.0
    for i in range(n):
        d = s[U_HEADER + i] - newest - mean
        m2 += d * d
    s[U_K] = newest
    s[U_MEAN] = mean
    s[U_M2] = m2
    s[U_PEAK] = m2


@njit(cache=True, error_model="numpy", inline="always")
def uni_push(s: Floats, window: int, x: float) -> None:  # pragma: no cover - compiled
    """Add ``x`` to a univariate window state (dropping the oldest value when full)."""
    if not math.isfinite(x):
        raise ValueError("x must be a finite number")
    n = int(s[U_N])
    pos = int(s[U_POS])
    if n == 0:
        s[U_K] = x
    shift = s[U_K]
    d = x - shift
    mean = s[U_MEAN]
    m2 = s[U_M2]
    if n < window:
        n += 1
        delta = d - mean
        mean += delta / n
        m2 += delta * (d - mean)
        s[U_N] = n
    else:
        old = s[U_HEADER + pos] - shift
        delta = d - old
        new_mean = mean + delta / window
        m2 += delta * (d - new_mean + old - mean)
        mean = new_mean
    s[U_HEADER + pos] = x
    s[U_POS] = pos + 1 if pos + 1 < window else 0
    s[U_MEAN] = mean
    s[U_M2] = m2
    if m2 > s[U_PEAK]:
        s[U_PEAK] = m2
    elif m2 < RECOMPUTE_RATIO * s[U_PEAK] or m2 < 0.0:
        _uni_recompute(s, window)
    elif mean * mean * n > m2:
        new_shift = shift + mean
        s[U_MEAN] = mean - (new_shift - shift)
        s[U_K] = new_shift
    if n < window:
        s[U_OMEAN] = NAN
        s[U_OVAR] = NAN
        s[U_OZ] = NAN
        return
    m2 = s[U_M2]
    var = m2 / (window - 1) if m2 > 0.0 else 0.0
    s[U_OMEAN] = s[U_K] + s[U_MEAN]
    s[U_OVAR] = var
    if var > 0.0:
        s[U_OZ] = ((x - s[U_K]) - s[U_MEAN]) / math.sqrt(var)
    else:
        s[U_OZ] = NAN


@njit(cache=True, error_model="numpy", inline="always")
def _bi_recompute(
    s: Floats, xb: Floats, yb: Floats, k: int, window: int
) -> None:  # pragma: no cover - compiled
    n = int(s[B_N])
    pos = int(s[B_POS])
    last = pos - 1 if pos > 0 else window - 1
    kx = xb[last, k]
    ky = yb[last, k]
    sx = 0.0
    sy = 0.0
    for i in range(n):
        sx += xb[i, k] - kx
        sy += yb[i, k] - ky
    mx = sx / n
    my = sy / n
    m2x = 0.0
    m2y = 0.0
    c = 0.0
    for i in range(n):
        dx = xb[i, k] - kx - mx
        dy = yb[i, k] - ky - my
        m2x += dx * dx
        m2y += dy * dy
        c += dx * dy
    s[B_KX] = kx
    s[B_KY] = ky
    s[B_MX] = mx
    s[B_MY] = my
    s[B_M2X] = m2x
    s[B_M2Y] = m2y
    s[B_C] = c
    s[B_PEAKX] = m2x
    s[B_PEAKY] = m2y


@njit(cache=True, error_model="numpy", inline="always")
def _bi_guard(  # noqa: PLR0917 - numba kernels take positional arguments
    s: Floats, xb: Floats, yb: Floats, k: int, window: int, n: int
) -> None:  # pragma: no cover - compiled
    m2x = s[B_M2X]
    m2y = s[B_M2Y]
    low_x = m2x < RECOMPUTE_RATIO * s[B_PEAKX] or m2x < 0.0
    low_y = m2y < RECOMPUTE_RATIO * s[B_PEAKY] or m2y < 0.0
    if low_x or low_y:
        _bi_recompute(s, xb, yb, k, window)
        return
    if m2x > s[B_PEAKX]:
        s[B_PEAKX] = m2x
    if m2y > s[B_PEAKY]:
        s[B_PEAKY] = m2y
    mx = s[B_MX]
    if mx * mx * n > m2x:
        kx = s[B_KX]
        new_kx = kx + mx
        s[B_MX] = mx - (new_kx - kx)
        s[B_KX] = new_kx
    my = s[B_MY]
    if my * my * n > m2y:
        ky = s[B_KY]
        new_ky = ky + my
        s[B_MY] = my - (new_ky - ky)
        s[B_KY] = new_ky


@njit(cache=True, error_model="numpy", inline="always")
def _bi_outputs(s: Floats, window: int, x: float, y: float) -> None:  # pragma: no cover
    # the per-tick outputs of the hedge: two divisions and one square root
    m2x = s[B_M2X]
    if m2x > 0.0:
        c = s[B_C]
        beta = c / m2x
        mx = s[B_MX]
        my = s[B_MY]
        s[B_BETA] = beta
        s[B_ALPHA] = (s[B_KY] + my) - beta * (s[B_KX] + mx)
        resid = ((y - s[B_KY]) - my) - beta * ((x - s[B_KX]) - mx)
        s[B_RESID] = resid
        ssr = s[B_M2Y] - beta * c
        if ssr > 0.0 and window > 2:
            s[B_Z] = resid / math.sqrt(ssr / (window - 2))
        else:
            s[B_Z] = NAN
    else:
        s[B_BETA] = NAN
        s[B_ALPHA] = NAN
        s[B_RESID] = NAN
        s[B_Z] = NAN


@njit(cache=True, error_model="numpy", inline="always")
def bi_correlation(s: Floats) -> float:  # pragma: no cover - compiled
    """Pearson correlation of a full bivariate window (NaN if either side is constant)."""
    if s[B_N] < 2:
        return NAN
    m2x = s[B_M2X]
    m2y = s[B_M2Y]
    if m2x > 0.0 and m2y > 0.0:
        r: float = s[B_C] / math.sqrt(m2x * m2y)
        return min(1.0, max(-1.0, r))
    return NAN


@njit(cache=True, error_model="numpy", inline="always")
def _bi_nan_outputs(s: Floats) -> None:  # pragma: no cover - compiled
    s[B_ALPHA] = NAN
    s[B_BETA] = NAN
    s[B_RESID] = NAN
    s[B_Z] = NAN


@njit(cache=True, error_model="numpy", inline="always")
def bi_push(  # noqa: PLR0917 - numba kernels take positional arguments
    s: Floats, xb: Floats, yb: Floats, k: int, window: int, x: float, y: float
) -> None:  # pragma: no cover - compiled
    """Add ``(x, y)`` to a bivariate window: header ``s``, ring buffers ``xb[:, k]``, ``yb[:, k]``.

    Single windows pass (window, 1) views of their own state as the buffers.
    """
    n = int(s[B_N])
    pos = int(s[B_POS])
    if n == 0:
        s[B_KX] = x
        s[B_KY] = y
    dx = x - s[B_KX]
    dy = y - s[B_KY]
    mx = s[B_MX]
    my = s[B_MY]
    if n < window:
        n += 1
        ex = dx - mx
        ey = dy - my
        mx += ex / n
        my += ey / n
        s[B_M2X] += ex * (dx - mx)
        s[B_M2Y] += ey * (dy - my)
        s[B_C] += ex * (dy - my)
        s[B_N] = n
    else:
        ox = xb[pos, k] - s[B_KX]
        oy = yb[pos, k] - s[B_KY]
        ddx = dx - ox
        ddy = dy - oy
        nmx = mx + ddx / window
        nmy = my + ddy / window
        fx = dx - nmx + ox - mx
        fy = dy - nmy + oy - my
        s[B_M2X] += ddx * fx
        s[B_M2Y] += ddy * fy
        s[B_C] += 0.5 * (ddx * fy + ddy * fx)
        mx = nmx
        my = nmy
    xb[pos, k] = x
    yb[pos, k] = y
    s[B_POS] = pos + 1 if pos + 1 < window else 0
    s[B_MX] = mx
    s[B_MY] = my
    _bi_guard(s, xb, yb, k, window, n)
    if n < window:
        _bi_nan_outputs(s)
    else:
        _bi_outputs(s, window, x, y)


@njit(cache=True, error_model="numpy")
def uni_update(s: Floats, window: int, x: float) -> tuple[float, float, float]:  # pragma: no cover
    """One streaming update; returns (mean, variance, zscore), NaN until the window is full."""
    uni_push(s, window, x)
    return (s[U_OMEAN], s[U_OVAR], s[U_OZ])


@njit(cache=True, error_model="numpy")
def rolling_moments_kernel(
    x: Floats, window: int, out_mean: Floats, out_var: Floats, out_z: Floats
) -> None:  # pragma: no cover - compiled
    """Batch twin of the univariate streaming window (same arithmetic, same results)."""
    s = np.zeros(U_HEADER + window, dtype=np.float64)
    for i in range(x.shape[0]):
        uni_push(s, window, x[i])
        out_mean[i] = s[U_OMEAN]
        out_var[i] = s[U_OVAR]
        out_z[i] = s[U_OZ]


@njit(cache=True, error_model="numpy")
def rolling_pair_kernel(
    x: Floats, y: Floats, window: int, out: Floats
) -> None:  # pragma: no cover - compiled
    """Batch twin of the bivariate window; ``out`` rows: alpha, beta, resid, z, corr, cov."""
    s = np.zeros(B_HEADER + 2 * window, dtype=np.float64)
    xb = s[B_HEADER : B_HEADER + window].reshape((window, 1))
    yb = s[B_HEADER + window :].reshape((window, 1))
    for i in range(x.shape[0]):
        bi_push(s, xb, yb, 0, window, x[i], y[i])
        out[0, i] = s[B_ALPHA]
        out[1, i] = s[B_BETA]
        out[2, i] = s[B_RESID]
        out[3, i] = s[B_Z]
        full = s[B_N] == window
        out[4, i] = bi_correlation(s) if full else NAN
        out[5, i] = s[B_C] / (window - 1) if full else NAN


@njit(cache=True, error_model="numpy")
def ewm_kernel(
    x: Floats, alpha: float, out_mean: Floats, out_var: Floats
) -> None:  # pragma: no cover
    """Finch (2009) exponentially weighted mean and biased variance, pandas adjust=False."""
    mean = x[0]
    var = 0.0
    out_mean[0] = mean
    out_var[0] = 0.0
    keep = 1.0 - alpha
    for i in range(1, x.shape[0]):
        d = x[i] - mean
        mean += alpha * d
        var = keep * (var + alpha * d * d)
        out_mean[i] = mean
        out_var[i] = var


@njit(cache=True, error_model="numpy")
def _exact_window(
    x: Floats, start: int, stop: int
) -> tuple[float, float, float]:  # pragma: no cover
    shift = x[stop - 1]
    total = 0.0
    for i in range(start, stop):
        total += x[i] - shift
    mean = total / (stop - start)
    m2 = 0.0
    for i in range(start, stop):
        d = x[i] - shift - mean
        m2 += d * d
    return shift, mean, m2


@njit(cache=True, error_model="numpy")
def rolling_var_kernel(
    x: Floats, window: int, out_mean: Floats, out_var: Floats
) -> None:  # pragma: no cover
    """Fast batch rolling mean and variance (ddof=1) with the same guards as the stream."""
    n_obs = x.shape[0]
    for i in range(min(window - 1, out_mean.shape[0])):
        out_mean[i] = NAN
    for i in range(min(window - 1, n_obs)):
        out_var[i] = NAN
    if n_obs < window:
        return
    shift, mean, m2 = _exact_window(x, 0, window)
    peak = m2
    inv_w = 1.0 / window
    inv_dof = 1.0 / (window - 1)
    want_mean = out_mean.shape[0] == n_obs
    if want_mean:
        out_mean[window - 1] = shift + mean
    out_var[window - 1] = m2 * inv_dof
    for i in range(window, n_obs):
        d = x[i] - shift
        old = x[i - window] - shift
        delta = d - old
        new_mean = mean + delta * inv_w
        m2 += delta * (d - new_mean + old - mean)
        mean = new_mean
        if m2 > peak:
            peak = m2
        elif m2 < RECOMPUTE_RATIO * peak or m2 < 0.0:
            shift, mean, m2 = _exact_window(x, i - window + 1, i + 1)
            peak = m2
        elif mean * mean * window > m2:
            new_shift = shift + mean
            mean -= new_shift - shift
            shift = new_shift
        if want_mean:
            out_mean[i] = shift + mean
        out_var[i] = m2 * inv_dof


@njit(cache=True, error_model="numpy")
def _exact_pair_window(
    x: Floats, y: Floats, start: int, stop: int
) -> tuple[float, float, float, float, float, float, float]:  # pragma: no cover
    kx = x[stop - 1]
    ky = y[stop - 1]
    sx = 0.0
    sy = 0.0
    for i in range(start, stop):
        sx += x[i] - kx
        sy += y[i] - ky
    mx = sx / (stop - start)
    my = sy / (stop - start)
    m2x = 0.0
    m2y = 0.0
    c = 0.0
    for i in range(start, stop):
        dx = x[i] - kx - mx
        dy = y[i] - ky - my
        m2x += dx * dx
        m2y += dy * dy
        c += dx * dy
    return kx, ky, mx, my, m2x, m2y, c


_BLOCK = 128


@njit(cache=True, error_model="numpy")
def _corr_value(c: float, m2x: float, m2y: float) -> float:  # pragma: no cover - compiled
    # a zero-variance window was recomputed exactly, so c == 0 and 0 / 0 gives NaN
    r = c / math.sqrt(m2x * m2y)
    r = 1.0 if r > 1.0 else r
    return -1.0 if r < -1.0 else r


@njit(cache=True, error_model="numpy")
def rolling_corr_kernel(x: Floats, y: Floats, window: int, out: Floats) -> None:  # pragma: no cover
    """Fast batch rolling correlation, with the guards of the streaming pair window.

    Works in blocks of ``_BLOCK`` steps: the shifts are re-centred at each block start, the
    block runs branch-free while accumulating a "guard fired" flag, and a block whose flag
    is set is re-run step by step with the exact recompute.
    """
    n_obs = x.shape[0]
    for i in range(min(window - 1, n_obs)):
        out[i] = NAN
    if n_obs < window:
        return
    kx, ky, mx, my, m2x, m2y, c = _exact_pair_window(x, y, 0, window)
    peak_x = m2x
    peak_y = m2y
    out[window - 1] = _corr_value(c, m2x, m2y)
    inv_w = 1.0 / window
    start = window
    while start < n_obs:
        stop = min(start + _BLOCK, n_obs)
        nkx = kx + mx
        mx -= nkx - kx
        kx = nkx
        nky = ky + my
        my -= nky - ky
        ky = nky
        saved = (mx, my, m2x, m2y, c, peak_x, peak_y)
        fired = False
        for i in range(start, stop):
            dx = x[i] - kx
            dy = y[i] - ky
            ox = x[i - window] - kx
            oy = y[i - window] - ky
            ddx = dx - ox
            ddy = dy - oy
            nmx = mx + ddx * inv_w
            nmy = my + ddy * inv_w
            fx = dx - nmx + ox - mx
            fy = dy - nmy + oy - my
            m2x += ddx * fx
            m2y += ddy * fy
            c += 0.5 * (ddx * fy + ddy * fx)
            mx = nmx
            my = nmy
            fired |= (m2x < RECOMPUTE_RATIO * peak_x) | (m2y < RECOMPUTE_RATIO * peak_y)
            fired |= (m2x < 0.0) | (m2y < 0.0)
            peak_x = max(peak_x, m2x)
            peak_y = max(peak_y, m2y)
            out[i] = _corr_value(c, m2x, m2y)
        if fired:
            mx, my, m2x, m2y, c, peak_x, peak_y = saved
            for i in range(start, stop):
                dx = x[i] - kx
                dy = y[i] - ky
                ox = x[i - window] - kx
                oy = y[i - window] - ky
                ddx = dx - ox
                ddy = dy - oy
                nmx = mx + ddx * inv_w
                nmy = my + ddy * inv_w
                fx = dx - nmx + ox - mx
                fy = dy - nmy + oy - my
                m2x += ddx * fx
                m2y += ddy * fy
                c += 0.5 * (ddx * fy + ddy * fx)
                mx = nmx
                my = nmy
                low_x = m2x < RECOMPUTE_RATIO * peak_x or m2x < 0.0
                low_y = m2y < RECOMPUTE_RATIO * peak_y or m2y < 0.0
                if low_x or low_y:
                    kx, ky, mx, my, m2x, m2y, c = _exact_pair_window(x, y, i - window + 1, i + 1)
                    peak_x = m2x
                    peak_y = m2y
                else:
                    peak_x = max(peak_x, m2x)
                    peak_y = max(peak_y, m2y)
                out[i] = _corr_value(c, m2x, m2y)
        start = stop
