"""The public surface of ``spreadwire.venue``."""

from __future__ import annotations

from spreadwire import venue


def test_facade_all_lists_the_public_names() -> None:
    assert sorted(venue.__all__) == sorted(
        [
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
    )
    assert all(hasattr(venue, name) for name in venue.__all__)
