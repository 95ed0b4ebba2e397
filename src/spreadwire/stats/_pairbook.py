"""Compiled kernel of :class:`~spreadwire.stats.rolling.PairBook`: K rolling OLS windows per call.

The arithmetic is that of :func:`spreadwire.stats._window.bi_push` operation for operation (no
``fastmath``, no reassociation), so pair ``k`` stays bit-identical to a single ``RollingOLS``;
only the memory layout and the control flow differ:

* structure of arrays: one ``(ROWS, pairs)`` float64 array holds one contiguous row per field
  (shifts, shifted means, co-moments, peaks), then the ``x`` ring buffer (``window`` rows),
  then the ``y`` ring buffer; a tick touches one contiguous row of each buffer;
* the count and the ring position are shared by every pair (a book updates all its pairs or,
  on non-finite input, none), so they live once per book in an int64 array ``[n, pos]``;
* once the windows are full, the tick runs as three branch-free loops over the pairs (the
  update with its re-centring, then the slope/intercept/residual, then the z-score and the
  NaN selects), only noting whether a recompute guard fired; a repair loop, run only then,
  recomputes the flagged pairs two-pass from their ring buffers. Split this way, each loop
  touches few enough rows for LLVM to vectorise it (8 doubles wide with AVX-512; the
  run-time alias checks between rows pass) and the chain of dependent divisions per
  iteration is short. The fused single loop was not vectorised ("too many memory checks")
  and ran latency-bound at about 11 ns per pair; the split loops take about 4.5 ns (2-vCPU
  AMD EPYC, see docs/performance.md).

Vectorising element-wise arithmetic does not change it; ``fastmath`` is not used anywhere,
since reassociation or contraction would break the bit-identity with ``RollingOLS``.
"""

import math

import numpy as np
import numpy.typing as npt
from numba import njit

from spreadwire.stats._window import RECOMPUTE_RATIO

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]

NAN = math.nan

# field rows of the book state; the x ring buffer starts at row ROWS, the y buffer follows
KX, KY, MX, MY, M2X, M2Y, C, PEAKX, PEAKY = range(9)
ROWS = 9
# counters
N, POS = 0, 1


def book_state(window: int, pairs: int) -> tuple[Floats, Ints]:
    """Return a fresh book: the (ROWS + 2 * window, pairs) state and its counters ``[n, pos]``."""
    return np.zeros((ROWS + 2 * window, pairs), dtype=np.float64), np.zeros(2, dtype=np.int64)


@njit(cache=True, error_model="numpy", boundscheck=False, inline="always")
def _recompute(state: Floats, k: int, window: int, n: int, last: int) -> None:  # pragma: no cover
    # _window._bi_recompute on column k: two-pass over the n buffered values, shifted by the
    # newest one (ring slot ``last``), same summation order
    kx = state[ROWS + last, k]
    ky = state[ROWS + window + last, k]
    sx = 0.0
    sy = 0.0
    for i in range(n):
        sx += state[ROWS + i, k] - kx
        sy += state[ROWS + window + i, k] - ky
    mx = sx / n
    my = sy / n
    m2x = 0.0
    m2y = 0.0
    c = 0.0
    for i in range(n):
        dx = state[ROWS + i, k] - kx - mx
        dy = state[ROWS + window + i, k] - ky - my
        m2x += dx * dx
        m2y += dy * dy
        c += dx * dy
    state[KX, k] = kx
    state[KY, k] = ky
    state[MX, k] = mx
    state[MY, k] = my
    state[M2X, k] = m2x
    state[M2Y, k] = m2y
    state[C, k] = c
    state[PEAKX, k] = m2x
    state[PEAKY, k] = m2y


@njit(cache=True, error_model="numpy", boundscheck=False, inline="always")
def _outputs(  # noqa: PLR0917 - numba kernels take positional arguments
    state: Floats, k: int, window: int, x: float, y: float, out: Floats
) -> None:  # pragma: no cover - compiled
    # _window._bi_outputs for column k
    m2x = state[M2X, k]
    if m2x > 0.0:
        c = state[C, k]
        kx = state[KX, k]
        ky = state[KY, k]
        mx = state[MX, k]
        my = state[MY, k]
        beta = c / m2x
        resid = ((y - ky) - my) - beta * ((x - kx) - mx)
        ssr = state[M2Y, k] - beta * c
        out[0, k] = (ky + my) - beta * (kx + mx)
        out[1, k] = beta
        out[2, k] = resid
        out[3, k] = resid / math.sqrt(ssr / (window - 2)) if ssr > 0.0 else NAN
    else:
        out[0, k] = NAN
        out[1, k] = NAN
        out[2, k] = NAN
        out[3, k] = NAN


@njit(cache=True, error_model="numpy", boundscheck=False)
def _fill_tick(  # noqa: PLR0917 - numba kernels take positional arguments
    state: Floats, window: int, n: int, pos: int, xs: Floats, ys: Floats, out: Floats
) -> None:  # pragma: no cover - compiled
    # the first ``window`` ticks: bi_push's growing-window branch, pair by pair
    n1 = n + 1
    for k in range(xs.shape[0]):
        x = xs[k]
        y = ys[k]
        if n == 0:
            state[KX, k] = x
            state[KY, k] = y
        kx = state[KX, k]
        ky = state[KY, k]
        mx = state[MX, k]
        my = state[MY, k]
        dx = x - kx
        dy = y - ky
        ex = dx - mx
        ey = dy - my
        mx += ex / n1
        my += ey / n1
        m2x = state[M2X, k] + ex * (dx - mx)
        m2y = state[M2Y, k] + ey * (dy - my)
        state[C, k] += ex * (dy - my)
        state[M2X, k] = m2x
        state[M2Y, k] = m2y
        state[MX, k] = mx
        state[MY, k] = my
        state[ROWS + pos, k] = x
        state[ROWS + window + pos, k] = y
        low_x = m2x < RECOMPUTE_RATIO * state[PEAKX, k] or m2x < 0.0
        low_y = m2y < RECOMPUTE_RATIO * state[PEAKY, k] or m2y < 0.0
        if low_x or low_y:
            _recompute(state, k, window, n1, pos)
        else:
            if m2x > state[PEAKX, k]:
                state[PEAKX, k] = m2x
            if m2y > state[PEAKY, k]:
                state[PEAKY, k] = m2y
            if mx * mx * n1 > m2x:
                new_kx = kx + mx
                state[MX, k] = mx - (new_kx - kx)
                state[KX, k] = new_kx
            if my * my * n1 > m2y:
                new_ky = ky + my
                state[MY, k] = my - (new_ky - ky)
                state[KY, k] = new_ky
        if n1 < window:
            out[0, k] = NAN
            out[1, k] = NAN
            out[2, k] = NAN
            out[3, k] = NAN
        else:
            _outputs(state, k, window, x, y, out)


@njit(cache=True, error_model="numpy", boundscheck=False)
def _full_tick(  # noqa: PLR0917 - numba kernels take positional arguments
    state: Floats, window: int, pos: int, xs: Floats, ys: Floats, out: Floats
) -> bool:  # pragma: no cover - compiled
    # bi_push's full-window branch and _bi_outputs for every pair without a branch; returns
    # whether any pair needs the exact recompute (the caller then rewrites its state and
    # outputs). Pairs whose guard fired get a harmless re-centre and outputs here.
    kx_row = state[KX]
    ky_row = state[KY]
    mx_row = state[MX]
    my_row = state[MY]
    m2x_row = state[M2X]
    m2y_row = state[M2Y]
    c_row = state[C]
    peakx_row = state[PEAKX]
    peaky_row = state[PEAKY]
    xb = state[ROWS + pos]
    yb = state[ROWS + window + pos]
    alpha_out = out[0]
    beta_out = out[1]
    resid_out = out[2]
    z_out = out[3]
    dof = window - 2
    fired = False
    for k in range(xs.shape[0]):
        x = xs[k]
        y = ys[k]
        kx = kx_row[k]
        ky = ky_row[k]
        mx = mx_row[k]
        my = my_row[k]
        dx = x - kx
        dy = y - ky
        ox = xb[k] - kx
        oy = yb[k] - ky
        ddx = dx - ox
        ddy = dy - oy
        nmx = mx + ddx / window
        nmy = my + ddy / window
        fx = dx - nmx + ox - mx
        fy = dy - nmy + oy - my
        m2x = m2x_row[k] + ddx * fx
        m2y = m2y_row[k] + ddy * fy
        c = c_row[k] + 0.5 * (ddx * fy + ddy * fx)
        xb[k] = x
        yb[k] = y
        peakx = peakx_row[k]
        peaky = peaky_row[k]
        fired |= (m2x < RECOMPUTE_RATIO * peakx) | (m2x < 0.0)
        fired |= (m2y < RECOMPUTE_RATIO * peaky) | (m2y < 0.0)
        peakx_row[k] = m2x if m2x > peakx else peakx
        peaky_row[k] = m2y if m2y > peaky else peaky
        # re-centre (a select: the shifted mean drifted beyond one standard deviation)
        new_kx = kx + nmx
        move_x = nmx * nmx * window > m2x
        mx = nmx - (new_kx - kx) if move_x else nmx
        kx = new_kx if move_x else kx
        new_ky = ky + nmy
        move_y = nmy * nmy * window > m2y
        my = nmy - (new_ky - ky) if move_y else nmy
        ky = new_ky if move_y else ky
        kx_row[k] = kx
        ky_row[k] = ky
        mx_row[k] = mx
        my_row[k] = my
        m2x_row[k] = m2x
        m2y_row[k] = m2y
        c_row[k] = c
    # the outputs in later loops: short dependency chains keep more pairs in flight
    for k in range(xs.shape[0]):
        kx = kx_row[k]
        ky = ky_row[k]
        mx = mx_row[k]
        my = my_row[k]
        c = c_row[k]
        m2x = m2x_row[k]
        beta = c / (m2x if m2x > 0.0 else 1.0)  # NaN below; a safe divisor without numba
        alpha_out[k] = (ky + my) - beta * (kx + mx)
        beta_out[k] = beta
        resid_out[k] = ((ys[k] - ky) - my) - beta * ((xs[k] - kx) - mx)
        z_out[k] = m2y_row[k] - beta * c  # ssr, the z-score's scale
    for k in range(xs.shape[0]):
        ssr = z_out[k]
        resid = resid_out[k]
        z = resid / math.sqrt(ssr / dof if ssr > 0.0 else 1.0)
        has_x = m2x_row[k] > 0.0
        alpha_out[k] = alpha_out[k] if has_x else NAN
        beta_out[k] = beta_out[k] if has_x else NAN
        resid_out[k] = resid if has_x else NAN
        z_out[k] = z if has_x and ssr > 0.0 else NAN
    return fired


@njit(cache=True, error_model="numpy", boundscheck=False)
def _repair(  # noqa: PLR0917 - numba kernels take positional arguments
    state: Floats, window: int, pos: int, xs: Floats, ys: Floats, out: Floats
) -> None:  # pragma: no cover - compiled
    # a pair's guard fired iff its stored second moment is below RECOMPUTE_RATIO times its
    # stored peak or negative: _full_tick raises a peak only to a moment that is not low
    for k in range(xs.shape[0]):
        m2x = state[M2X, k]
        m2y = state[M2Y, k]
        low_x = m2x < RECOMPUTE_RATIO * state[PEAKX, k] or m2x < 0.0
        low_y = m2y < RECOMPUTE_RATIO * state[PEAKY, k] or m2y < 0.0
        if low_x or low_y:
            _recompute(state, k, window, window, pos)
            _outputs(state, k, window, xs[k], ys[k], out)


@njit(cache=True, error_model="numpy", boundscheck=False)
def book_update(
    state: Floats, counters: Ints, xs: Floats, ys: Floats, out: Floats
) -> None:  # pragma: no cover - compiled
    """Add one tick to every pair; ``out`` rows: alpha, beta, residual, zscore.

    Nothing is modified if any input is not finite.
    """
    bad = False
    for k in range(xs.shape[0]):
        bad |= not (math.isfinite(xs[k]) and math.isfinite(ys[k]))
    if bad:
        raise ValueError("x and y must be finite numbers")
    window = (state.shape[0] - ROWS) // 2
    n = counters[N]
    pos = counters[POS]
    if n < window:
        _fill_tick(state, window, n, pos, xs, ys, out)
        counters[N] = n + 1
    elif _full_tick(state, window, pos, xs, ys, out):
        _repair(state, window, pos, xs, ys, out)
    counters[POS] = pos + 1 if pos + 1 < window else 0


@njit(cache=True, error_model="numpy", boundscheck=False)
def book_correlations(state: Floats, counters: Ints, out: Floats) -> None:  # pragma: no cover
    """Pearson correlation of every pair's window (NaN until full or if a side is constant)."""
    window = (state.shape[0] - ROWS) // 2
    full = counters[N] == window
    for k in range(out.shape[0]):
        m2x = state[M2X, k]
        m2y = state[M2Y, k]
        if full and m2x > 0.0 and m2y > 0.0:
            r = state[C, k] / math.sqrt(m2x * m2y)
            out[k] = min(1.0, max(-1.0, r))
        else:
            out[k] = NAN
