"""All-pairs Engle-Granger screening with matrix algebra (GEMMs), numpy or CuPy.

For prices ``P`` (observations x assets) centred to ``Z``, the residual of pair (y=i, x=j)
is ``e = Z_i - b_ij Z_j`` with ``b_ij = (Z'Z)_ij / (Z'Z)_jj``. Every sum of products that
the residual ADF(k) regression needs is a quadratic form in ``(1, -b)`` of one cross-moment
matrix ``V'W`` of lagged levels / lagged differences, so the whole universe costs
``(k + 2)(k + 3) / 2 + 3`` GEMMs plus elementwise algebra, instead of one ``coint`` per
pair. The statistics equal ``statsmodels.tsa.stattools.coint(y, x, autolag=None,
maxlag=k)``. p-values (MacKinnon, N = 2, constant) are evaluated on the host.
"""

import math
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from spreadwire.stats.mackinnon import mackinnonp_array

Floats = npt.NDArray[np.float64]
Indices = npt.NDArray[np.intp]
_COLLINEAR = 1.0 - 100.0 * math.sqrt(float(np.finfo(np.float64).eps))


class PairScreen(NamedTuple):
    """Pairs sorted by Engle-Granger t-statistic (most cointegrated first).

    ``y`` and ``x`` are column indices (the regression is y on x with a constant);
    ``hedge_ratio`` the OLS slope; ``tstat`` / ``pvalue`` as ``coint``; ``half_life`` of
    the spread (inf if it does not mean-revert); ``correlation`` of the price levels.
    """

    y: Indices
    x: Indices
    hedge_ratio: Floats
    tstat: Floats
    pvalue: Floats
    half_life: Floats
    correlation: Floats


def _to_numpy(array: Any) -> Floats:
    getter = getattr(array, "get", None)  # CuPy arrays copy to the host with .get()
    return np.asarray(getter() if callable(getter) else array, dtype=np.float64)


def _quadratic(gram: Any, beta: Any, xp: Any) -> Any:
    """(V_i - b V_j) . (W_i - b W_j) for every (i, j), from ``gram = V' W``."""
    diagonal = xp.diagonal(gram)
    return diagonal[:, None] - beta * (gram + gram.T) + beta * beta * diagonal[None, :]


def _check(prices: Any, maxlag: int, top_k: int | None, xp: Any) -> Any:
    try:
        array = xp.asarray(prices, dtype=xp.float64)
    except (TypeError, ValueError) as error:
        raise ValueError("prices must be a 2-D array of numbers") from error
    if array.ndim != 2 or array.shape[1] < 2:
        raise ValueError(f"prices must be 2-D (observations x assets >= 2), got {array.shape}")
    if isinstance(maxlag, bool) or not isinstance(maxlag, int | np.integer) or maxlag < 0:
        raise ValueError(f"maxlag must be a non-negative integer, got {maxlag!r}")
    if maxlag > array.shape[0] // 2 - 1 or array.shape[0] - 1 - maxlag < maxlag + 3:
        raise ValueError(f"maxlag={maxlag} is too large for {array.shape[0]} observations")
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1):
        raise ValueError(f"top_k must be a positive integer or None, got {top_k!r}")
    if not bool(xp.all(xp.isfinite(array))):
        raise ValueError("prices contains NaN or infinite values")
    return array


def _adf_tstat(prices: Any, centred: Any, beta: Any, maxlag: int, xp: Any) -> Any:
    """ADF(maxlag) t-statistic, no deterministic terms, of every pair's residual."""
    rows = prices.shape[0]
    nobs = rows - 1 - maxlag
    diffs = prices[1:] - prices[:-1]
    blocks = [centred[maxlag : maxlag + nobs]]
    blocks += [diffs[maxlag - lag : maxlag - lag + nobs] for lag in range(1, maxlag + 1)]
    blocks.append(diffs[maxlag : maxlag + nobs])  # the target, Δe_t
    size = len(blocks)
    forms = {}
    for a in range(size):
        for b in range(a, size):
            forms[a, b] = _quadratic(blocks[a].T @ blocks[b], beta, xp)
    p = size - 1
    if p == 1:
        gamma = forms[0, 1] / forms[0, 0]
        ssr = forms[1, 1] - gamma * forms[0, 1]
        return gamma / xp.sqrt(ssr / (nobs - 1) / forms[0, 0])
    xtx = xp.stack(
        [xp.stack([forms[min(a, b), max(a, b)] for b in range(p)], -1) for a in range(p)], -2
    )
    xty = xp.stack([forms[a, p] for a in range(p)], -1)
    inverse = xp.linalg.inv(xtx)
    params = xp.sum(inverse * xty[..., None, :], axis=-1)
    ssr = forms[p, p] - xp.sum(params * xty, axis=-1)
    variance = ssr / (nobs - p) * inverse[..., 0, 0]
    return params[..., 0] / xp.sqrt(variance)


def _half_life(prices: Any, beta: Any, xp: Any) -> Any:
    lagged = prices[:-1] - xp.mean(prices[:-1], axis=0)
    diffs = prices[1:] - prices[:-1]
    slope = _quadratic(lagged.T @ diffs, beta, xp) / _quadratic(lagged.T @ lagged, beta, xp)
    return xp.where(slope < 0, -math.log(2.0) / xp.where(slope < 0, slope, -1.0), xp.inf)


def screen_pairs(
    prices: Any, *, maxlag: int = 0, top_k: int | None = None, xp: Any = None
) -> PairScreen:
    """Engle-Granger screen of every ordered pair of columns of ``prices``.

    ``prices`` is (observations x assets). ``maxlag`` is the fixed ADF lag (as
    ``coint(..., autolag=None, maxlag=maxlag)``). ``top_k`` keeps the best k pairs. ``xp``
    is the array namespace (``numpy`` by default; pass ``cupy`` to run the GEMMs on a GPU).
    """
    xp = np if xp is None else xp
    array = _check(prices, maxlag, top_k, xp)
    assets = array.shape[1]
    centred = array - xp.mean(array, axis=0)
    moments = centred.T @ centred
    scale = xp.diagonal(moments)
    if bool(xp.any(scale == 0.0)):
        raise ValueError("prices has a constant column")
    beta = moments / scale[None, :]
    beta = xp.where(xp.eye(assets, dtype=bool), 0.0, beta)  # i == j is not a pair
    correlation = moments / xp.sqrt(scale[:, None] * scale[None, :])
    with np.errstate(divide="ignore", invalid="ignore"):
        tstat = _adf_tstat(array, centred, beta, maxlag, xp)
        tstat = xp.where(correlation * correlation >= _COLLINEAR, -xp.inf, tstat)
        half_life = _half_life(array, beta, xp)
    y_index, x_index = np.nonzero(~np.eye(assets, dtype=bool))
    host_t = _to_numpy(tstat)[y_index, x_index]
    order = np.argsort(host_t, kind="stable")
    if top_k is not None:
        order = order[:top_k]
    chosen_y, chosen_x = y_index[order], x_index[order]
    chosen_t = host_t[order]
    return PairScreen(
        y=chosen_y,
        x=chosen_x,
        hedge_ratio=_to_numpy(beta)[chosen_y, chosen_x],
        tstat=chosen_t,
        pvalue=mackinnonp_array(chosen_t, "c", 2),
        half_life=_to_numpy(half_life)[chosen_y, chosen_x],
        correlation=_to_numpy(correlation)[chosen_y, chosen_x],
    )
