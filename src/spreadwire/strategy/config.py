"""Configuration of pair strategies."""

from __future__ import annotations

from typing import Annotated

import msgspec

from spreadwire.errors import ValidationError

PositiveFloat = Annotated[float, msgspec.Meta(gt=0)]


class PairStrategyConfig(msgspec.Struct, frozen=True, kw_only=True):
    """A pairs strategy: trade the residual of ``y = alpha + beta * x`` over a window.

    Enter when ``entry_z <= |z| < stop_z`` (short the spread when z > 0, long when
    z < 0). Exit once the spread has reverted, ``z <= exit_z`` for a short spread
    (``z >= -exit_z`` for a long one, so ``|z| <= exit_z`` on the way back, an overshoot
    included); stop out when it moved against the position, ``z >= stop_z`` short
    (``z <= -stop_z`` long), and then wait ``cooldown_ns``. Each entry trades about
    ``notional`` of the ``y`` leg and ``beta`` times that size of the ``x`` leg.
    """

    strategy_id: Annotated[
        str, msgspec.Meta(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.]+$")
    ]
    leg_y: Annotated[str, msgspec.Meta(min_length=1)]
    leg_x: Annotated[str, msgspec.Meta(min_length=1)]
    window: Annotated[int, msgspec.Meta(ge=10, le=100_000)] = 300
    entry_z: PositiveFloat = 2.0
    exit_z: Annotated[float, msgspec.Meta(ge=0)] = 0.5
    stop_z: PositiveFloat = 4.5
    notional: Annotated[str, msgspec.Meta(pattern=r"^[0-9]+(\.[0-9]+)?$")] = "10000"
    size_multiplier: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 1
    cooldown_ns: Annotated[int, msgspec.Meta(ge=0)] = 5_000_000_000
    retry_backoff_ns: Annotated[int, msgspec.Meta(ge=0)] = 200_000_000
    min_beta: float = 0.05
    max_beta: float = 20.0

    def __post_init__(self) -> None:
        if self.leg_y == self.leg_x:
            raise ValidationError("leg_x", "must differ from leg_y")
        if not self.exit_z < self.entry_z < self.stop_z:
            raise ValidationError("entry_z", "must satisfy exit_z < entry_z < stop_z")
        if not 0 < self.min_beta < self.max_beta:
            raise ValidationError("min_beta", "must satisfy 0 < min_beta < max_beta")
