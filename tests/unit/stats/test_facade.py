"""The public surface of spreadwire.stats."""

from spreadwire import stats

EXPECTED = {
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
}


def test_all_lists_the_public_api_exactly() -> None:
    assert set(stats.__all__) == EXPECTED
    assert len(stats.__all__) == len(EXPECTED)


def test_all_names_resolve_to_attributes() -> None:
    for name in stats.__all__:
        assert getattr(stats, name) is not None
