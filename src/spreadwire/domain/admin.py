"""Operator commands that change the node's configuration at run time.

Each carries the ``operator`` who asked (an API key id or a JWT subject), so the event
store's audit log shows who changed what and when; the node records the command before
applying it.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from spreadwire.domain.commands import Operator

StrategyId = Annotated[str, msgspec.Meta(min_length=1, max_length=40)]


class AddStrategy(msgspec.Struct, frozen=True, gc=False, kw_only=True, tag=True):
    """Add a pair strategy; ``params`` are its fields beyond the id and legs."""

    operator: Operator
    strategy_id: StrategyId
    leg_y: str
    leg_x: str
    params: dict[str, Any] = msgspec.field(default_factory=dict)
    start: bool = False
    ts_init: int


class StartStrategy(msgspec.Struct, frozen=True, gc=False, kw_only=True, tag=True):
    operator: Operator
    strategy_id: StrategyId
    ts_init: int


class StopStrategy(msgspec.Struct, frozen=True, gc=False, kw_only=True, tag=True):
    operator: Operator
    strategy_id: StrategyId
    ts_init: int


class ChangeStrategyParams(msgspec.Struct, frozen=True, gc=False, kw_only=True, tag=True):
    operator: Operator
    strategy_id: StrategyId
    changes: dict[str, Any]
    ts_init: int


class ChangeRiskLimits(msgspec.Struct, frozen=True, gc=False, kw_only=True, tag=True):
    """A partial change of the risk limits (``RiskConfig`` field names and values)."""

    operator: Operator
    changes: dict[str, Any]
    ts_init: int


AdminCommand = AddStrategy | StartStrategy | StopStrategy | ChangeStrategyParams | ChangeRiskLimits
