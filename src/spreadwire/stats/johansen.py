"""Johansen cointegration rank test, as ``statsmodels.tsa.vector_ar.vecm.coint_johansen``.

Same data treatment as statsmodels: the levels are detrended with a polynomial of order
``det_order`` (-1: none), the differences and lagged differences are demeaned when
``det_order >= 0``, both are regressed on the ``k_ar_diff`` lagged differences, and the
eigenvalues solve ``|lambda S_kk - S_k0 S_00^-1 S_0k| = 0``. This is solved as a symmetric
problem through the Cholesky factor of ``S_kk`` (real, sorted eigenvalues). Critical values
are MacKinnon-Haug-Michelis (1999) at 90/95/99 %, NaN outside det_order -1..1 / 12 series.
"""

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from spreadwire.stats import _tables
from spreadwire.stats._validate import matrix

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class JohansenResult:
    """Field names as statsmodels' ``JohansenTestResult``.

    ``eig`` (descending), ``evec`` (columns normalised to ``v' S_kk v = 1``), ``lr1`` /
    ``trace_stat``, ``lr2`` / ``max_eig_stat``, ``cvt`` / ``trace_stat_crit_vals`` and
    ``cvm`` / ``max_eig_stat_crit_vals`` ((n, 3) arrays, 90/95/99 %).
    """

    eig: Floats
    evec: Floats
    lr1: Floats
    lr2: Floats
    cvt: Floats
    cvm: Floats

    @property
    def trace_stat(self) -> Floats:
        """Trace statistics for rank <= r, r = 0..n-1."""
        return self.lr1

    @property
    def max_eig_stat(self) -> Floats:
        """Maximum-eigenvalue statistics for rank r vs r + 1."""
        return self.lr2

    @property
    def trace_stat_crit_vals(self) -> Floats:
        """Critical values of the trace statistics."""
        return self.cvt

    @property
    def max_eig_stat_crit_vals(self) -> Floats:
        """Critical values of the maximum-eigenvalue statistics."""
        return self.cvm


def _detrend(values: Floats, order: int) -> Floats:
    if order == -1:
        return values
    if order == 0:
        result: Floats = values - values.mean(axis=0)
        return result
    basis = np.vander(np.linspace(-1.0, 1.0, values.shape[0]), order + 1)
    coefficients, *_ = np.linalg.lstsq(basis, values, rcond=None)
    detrended: Floats = values - basis @ coefficients
    return detrended


def _residual(values: Floats, regressors: Floats) -> Floats:
    if regressors.size == 0:
        return values
    coefficients, *_ = np.linalg.lstsq(regressors, values, rcond=None)
    result: Floats = values - regressors @ coefficients
    return result


def _critical(table: tuple[tuple[tuple[float, ...], ...], ...], n: int, det_order: int) -> Floats:
    if not -1 <= det_order <= 1 or not 1 <= n <= 12:
        return np.full(3, np.nan)
    return np.array(table[det_order + 1][n - 1])


def _check_orders(det_order: int, k_ar_diff: int) -> None:
    if isinstance(det_order, bool) or not isinstance(det_order, int | np.integer):
        raise ValueError(f"det_order must be an integer, got {det_order!r}")
    if det_order < -1:
        raise ValueError(f"det_order must be >= -1, got {det_order}")
    if isinstance(k_ar_diff, bool) or not isinstance(k_ar_diff, int | np.integer):
        raise ValueError(f"k_ar_diff must be an integer, got {k_ar_diff!r}")
    if k_ar_diff < 0:
        raise ValueError(f"k_ar_diff must be >= 0, got {k_ar_diff}")


def coint_johansen(data: Any, det_order: int, k_ar_diff: int) -> JohansenResult:
    """Johansen trace and maximum-eigenvalue tests of an (observations x series) array."""
    _check_orders(det_order, k_ar_diff)
    endog = matrix(data, "data", min_rows=1, min_columns=2)
    nobs, neqs = endog.shape
    if nobs - 1 - k_ar_diff <= neqs * (k_ar_diff + 1) + 1:
        raise ValueError(f"data has too few observations ({nobs}) for k_ar_diff={k_ar_diff}")
    inner = 0 if det_order > -1 else -1
    levels = _detrend(endog, det_order)
    diffs = np.diff(levels, axis=0)
    lagged = (
        np.hstack(
            [diffs[k_ar_diff - lag : diffs.shape[0] - lag] for lag in range(1, k_ar_diff + 1)]
        )
        if k_ar_diff
        else np.empty((diffs.shape[0] - k_ar_diff, 0))
    )
    lagged = _detrend(lagged, inner) if lagged.size else lagged
    r0t = _residual(_detrend(diffs[k_ar_diff:], inner), lagged)
    rkt = _residual(_detrend(levels[1 : nobs - k_ar_diff], inner), lagged)
    t = rkt.shape[0]
    skk = rkt.T @ rkt / t
    sk0 = rkt.T @ r0t / t
    s00 = r0t.T @ r0t / t
    sig = sk0 @ np.linalg.solve(s00, sk0.T)
    chol = np.linalg.cholesky(skk)
    half = np.linalg.solve(chol, np.linalg.solve(chol, sig).T)
    values, vectors = np.linalg.eigh(0.5 * (half + half.T))
    order = np.argsort(values)[::-1]
    eig = values[order]
    evec = np.linalg.solve(chol.T, vectors[:, order])
    if evec.flat[0] < 0:
        evec = -evec
    log_keep = np.log1p(-eig)
    lr1 = -t * np.cumsum(log_keep[::-1])[::-1]
    lr2 = -t * log_keep
    cvt = np.array([_critical(_tables.JOHANSEN_TRACE, neqs - i, det_order) for i in range(neqs)])
    cvm = np.array([_critical(_tables.JOHANSEN_MAX_EIG, neqs - i, det_order) for i in range(neqs)])
    return JohansenResult(eig=eig, evec=evec, lr1=lr1, lr2=lr2, cvt=cvt, cvm=cvm)
