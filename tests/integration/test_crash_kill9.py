"""kill -9 the stress writer at random moments; every acknowledged position survives."""

from __future__ import annotations

import random
import subprocess
import sys
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


def test_crash_trial_that_acknowledged_nothing_or_was_not_killed_is_not_ok(
    tmp_path: Path,
) -> None:
    """A stress child that cannot run (``--writers 0`` is refused) prints nothing and
    exits on its own: the trial proved nothing and must not count as passed."""
    result = run_trial(f"sqlite:///{tmp_path / 'events.db'}", writers=0, rng=random.Random(1))

    assert result.acked == 0
    assert not result.ok
    assert not result.killed
    assert "the child acknowledged nothing" in result.details


def test_crash_trial_with_a_position_printed_twice_is_not_ok(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    from spreadwire.cli.store import stress_event
    from spreadwire.eventstore.writer import EventWriter
    from spreadwire.persistence import crashcheck
    from spreadwire.persistence.store import open_store

    url = f"sqlite:///{tmp_path / 'events.db'}"
    recorder = open_store(url)
    with EventWriter(recorder) as writer:
        writer.append(stress_event(0, 0, 1))
    recorder.close()
    child = "import time; print(1, flush=True); print(1, flush=True); time.sleep(60)"
    monkeypatch.setattr(crashcheck, "stress_command", lambda *_args: [sys.executable, "-c", child])

    result = crashcheck.run_trial(url, rng=random.Random(1), window_ms=(50, 60))

    assert result.lost == 0
    assert not result.ok
    assert result.killed
    assert result.duplicates == 1


@pytest.mark.parametrize(
    ("args", "refusal"),
    [
        (["--backends", "sqlite,postgress"], "unknown backend 'postgress'"),
        (["--trials", "0"], "--trials: must be at least 1"),
    ],
)
def test_crash_harness_refuses_an_unknown_backend_and_no_trials(
    args: list[str], refusal: str
) -> None:
    """A misspelt backend ran as a durable SQLite store, reported under its name, and no
    trials reported 0 failed: both a pass for what was never tried."""
    harness = Path(__file__).parents[2] / "benchmarks" / "crash_harness.py"
    result = subprocess.run(
        [sys.executable, str(harness), "--trials", "1", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 2, result.stdout
    assert refusal in result.stderr
