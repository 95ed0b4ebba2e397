"""spreadwire.stats: streaming and batch statistics for statistical arbitrage.

A leaf package: floats and numpy arrays in, floats and numpy arrays out; numpy and numba at
runtime only. See ``docs/stats.md`` for the guide.
"""

from spreadwire.stats.batch import (
    ewm_mean,
    ewm_var,
    rolling_corr,
    rolling_cov,
    rolling_mean,
    rolling_ols,
    rolling_std,
    rolling_var,
    rolling_zscore,
)
from spreadwire.stats.johansen import JohansenResult, coint_johansen
from spreadwire.stats.kalman import KalmanHedge
from spreadwire.stats.mackinnon import mackinnoncrit, mackinnonp
from spreadwire.stats.moments import EWMA, Welford
from spreadwire.stats.rolling import (
    PairBook,
    RollingCorrelation,
    RollingCovariance,
    RollingMoments,
    RollingOLS,
    RollingZScore,
)
from spreadwire.stats.screening import PairScreen, screen_pairs
from spreadwire.stats.unitroot import (
    ADFResult,
    CointResult,
    adfuller,
    coint,
    half_life,
    hedge_ratio,
)

__all__ = [
    "EWMA",
    "ADFResult",
    "CointResult",
    "JohansenResult",
    "KalmanHedge",
    "PairBook",
    "PairScreen",
    "RollingCorrelation",
    "RollingCovariance",
    "RollingMoments",
    "RollingOLS",
    "RollingZScore",
    "Welford",
    "adfuller",
    "coint",
    "coint_johansen",
    "ewm_mean",
    "ewm_var",
    "half_life",
    "hedge_ratio",
    "mackinnoncrit",
    "mackinnonp",
    "rolling_corr",
    "rolling_cov",
    "rolling_mean",
    "rolling_ols",
    "rolling_std",
    "rolling_var",
    "rolling_zscore",
    "screen_pairs",
]
