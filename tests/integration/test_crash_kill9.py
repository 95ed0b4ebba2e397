"""kill -9 the stress writer at random moments; every acknowledged position survives."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from spreadwire.persistence.crashcheck import run_trial

TRIALS = 3


def _trials(url: str, seed: int, durability: str = "durable") -> None:
    rng = random.Random(seed)
    results = [run_trial(url, rng=rng, durability=durability) for _ in range(TRIALS)]

    assert all(r.acked > 0 for r in results), results
    assert [r.details for r in results if not r.ok] == []
    assert sum(r.lost for r in results) == 0


@pytest.mark.slow
def test_crash_sqlite_kill9_loses_no_acknowledged_event(tmp_path: Path) -> None:
    _trials(f"sqlite:///{tmp_path / 'events.db'}", seed=11)


@pytest.mark.slow
def test_crash_sqlite_relaxed_kill9_loses_no_acknowledged_event(tmp_path: Path) -> None:
    _trials(f"sqlite:///{tmp_path / 'events.db'}", seed=12, durability="relaxed")


@pytest.mark.slow
@pytest.mark.postgres
def test_crash_postgres_kill9_loses_no_acknowledged_event(postgres_url: str) -> None:
    _trials(postgres_url, seed=13)
