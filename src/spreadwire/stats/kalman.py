"""Two-state Kalman filter for a time-varying hedge: ``y = alpha + beta * x + noise``.

State ``(beta, alpha)`` is a random walk with covariance ``process_noise * I`` per step
(Chan's ``V_w = delta / (1 - delta)``); the observation noise variance is
``observation_noise``. The 2x2 algebra is unrolled into scalars (~7 floats of state), which
keeps a Python update at a few hundred nanoseconds.
"""

import math
from typing import final

from spreadwire.stats._validate import positive


@final
class KalmanHedge:
    """Online hedge ratio (Chan, "Algorithmic Trading", ch. 3).

    ``update(x, y)`` runs predict + correct and returns ``zscore``. Attributes:

    * ``beta``, ``alpha``: the filtered state after the update;
    * ``residual``: the one-step forecast error ``y - (alpha + beta * x)`` with the prior
      state (the spread signal);
    * ``residual_variance``: its forecast variance ``Q = F R F' + observation_noise``;
    * ``zscore``: ``residual / sqrt(residual_variance)``;
    * ``p_bb``, ``p_ba``, ``p_aa``: the state covariance.
    """

    __slots__ = (
        "alpha",
        "beta",
        "count",
        "observation_noise",
        "p_aa",
        "p_ba",
        "p_bb",
        "process_noise",
        "residual",
        "residual_variance",
        "zscore",
    )

    def __init__(
        self,
        process_noise: float = 1e-4,
        observation_noise: float = 1e-3,
        *,
        initial_beta: float = 0.0,
        initial_alpha: float = 0.0,
        initial_variance: float = 0.0,
    ) -> None:
        self.process_noise = positive(process_noise, "process_noise", allow_zero=True)
        self.observation_noise = positive(observation_noise, "observation_noise")
        variance = positive(initial_variance, "initial_variance", allow_zero=True)
        self.beta = float(initial_beta)
        self.alpha = float(initial_alpha)
        self.p_bb = variance
        self.p_ba = 0.0
        self.p_aa = variance
        self.residual = math.nan
        self.residual_variance = math.nan
        self.zscore = math.nan
        self.count = 0

    def update(self, x: float, y: float) -> float:
        """Observe ``y`` against regressor ``x``; returns the forecast-error z-score."""
        if not (math.isfinite(x) and math.isfinite(y)):
            raise ValueError(f"x and y must be finite numbers, got {x!r}, {y!r}")
        w = self.process_noise
        r_bb = self.p_bb + w
        r_ba = self.p_ba
        r_aa = self.p_aa + w
        error = y - (self.beta * x + self.alpha)
        f_b = r_bb * x + r_ba  # R F'
        f_a = r_ba * x + r_aa
        q = f_b * x + f_a + self.observation_noise
        gain_b = f_b / q
        gain_a = f_a / q
        self.beta += gain_b * error
        self.alpha += gain_a * error
        self.p_bb = r_bb - gain_b * f_b
        self.p_ba = r_ba - gain_b * f_a
        self.p_aa = r_aa - gain_a * f_a
        self.residual = error
        self.residual_variance = q
        self.zscore = error / math.sqrt(q)
        self.count += 1
        return self.zscore
