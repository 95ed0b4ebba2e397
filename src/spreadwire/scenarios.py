"""Stress scenarios a demo run can play (``spreadwire demo --scenario NAME``)."""

from __future__ import annotations

import msgspec

from spreadwire.config import NodeConfig
from spreadwire.errors import ConfigError
from spreadwire.venue.config import SCENARIOS

SCENARIO_NAMES: tuple[str, ...] = (*SCENARIOS, "fat-finger")
#: ``fat-finger``: every strategy asks for this many times its configured size.
FAT_FINGER_MULTIPLIER = 100


def apply_scenario(config: NodeConfig, scenario: str | None) -> NodeConfig:
    """The configuration that plays ``scenario``: venue scenarios go to the simulated
    venue; ``fat-finger`` multiplies the strategies' order size."""
    if scenario is None:
        return config
    if scenario not in SCENARIO_NAMES:
        raise ConfigError(f"scenario: unknown {scenario!r}; one of {', '.join(SCENARIO_NAMES)}")
    if scenario == "fat-finger":
        strategy = msgspec.structs.replace(config.strategy, size_multiplier=FAT_FINGER_MULTIPLIER)
        return msgspec.structs.replace(config, strategy=strategy)
    venue = msgspec.structs.replace(config.venue, scenario=scenario)
    return msgspec.structs.replace(config, venue=venue)
