"""The simulated venue: matching engine, background market, latency and scenarios."""

from spreadwire.venue.config import (
    GeneratorConfig,
    PairSpec,
    ScenarioConfig,
    VenueConfig,
    default_pairs,
)
from spreadwire.venue.exchange import NODE, SimulatedExchange
from spreadwire.venue.reasons import VenueReason
from spreadwire.venue.simulator import SimulatedVenue

__all__ = [
    "NODE",
    "GeneratorConfig",
    "PairSpec",
    "ScenarioConfig",
    "SimulatedExchange",
    "SimulatedVenue",
    "VenueConfig",
    "VenueReason",
    "default_pairs",
]
