"""kill -9 durability harness: many trials per backend, every acknowledged event checked.

Each trial starts ``spreadwire store stress`` (4 writer threads, durable group commit,
every acknowledged global position printed line by line), SIGKILLs it at a random
moment 50-600 ms after its first acknowledgement, reopens the store (a torn tail is
truncated) and checks that every printed position is stored with its event intact and
that the whole log verifies (gap-free positions, contiguous stream versions, checksums).
The store is reused across trials, so later trials also recover on top of earlier kills.

    python benchmarks/crash_harness.py [--trials 40] [--backends sqlite,postgres] [--json]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

import psycopg

from spreadwire.persistence.crashcheck import TrialResult, run_trial

POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
BACKENDS = ("sqlite", "sqlite-relaxed", "postgres")


def backend_list(text: str) -> list[str]:
    """The backends named in ``text``: any other name (``postgress``) was run as a durable
    SQLite store and reported under that name, a pass for a backend never tried."""
    names = [name.strip() for name in text.split(",")]
    unknown = [name for name in names if name not in BACKENDS]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown backend {', '.join(map(repr, unknown))}; use {', '.join(BACKENDS)}"
        )
    return names


def trial_count(text: str) -> int:
    """At least one trial: none reported 0 failed trials, a pass that checked nothing."""
    try:
        count = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if count < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {count}")
    return count


def summarize(results: list[TrialResult]) -> dict[str, Any]:
    return {
        "trials": len(results),
        "failed_trials": sum(1 for r in results if not r.ok),
        "acked": sum(r.acked for r in results),
        "acked_lost": sum(r.lost for r in results),
        "bad_bodies": sum(r.bad_bodies for r in results),
        "log_problems": sum(r.log_problems for r in results),
        "torn_tails_truncated": sum(1 for r in results if r.truncated),
        "final_head": results[-1].head if results else 0,
        "failures": [list(r.details) for r in results if not r.ok][:5],
    }


def trials(url: str, count: int, seed: int, durability: str) -> dict[str, Any]:
    rng = random.Random(seed)
    results = []
    for n in range(count):
        result = run_trial(url, rng=rng, durability=durability)
        results.append(result)
        sys.stderr.write(
            f"  {n + 1:>3}/{count} acked {result.acked:>6} lost {result.lost}"
            f" head {result.head:>8} kill {result.kill_after_ms:>3} ms"
            f"{' TORN TAIL TRUNCATED' if result.truncated else ''}\n"
        )
    return summarize(results)


def postgres_run(count: int, seed: int) -> dict[str, Any] | str:
    name = f"sw_crash_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(POSTGRES_ADMIN, autocommit=True, connect_timeout=3) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as error:
        return f"unavailable: {error}"
    try:
        return trials(f"postgresql://postgres@127.0.0.1:5432/{name}", count, seed, "durable")
    finally:
        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=trial_count, default=40, help="trials per backend")
    parser.add_argument("--backends", type=backend_list, default=list(BACKENDS))
    parser.add_argument("--seed", type=int, default=20_240_501)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    report: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="crash-harness-") as folder:
        for backend in args.backends:
            sys.stderr.write(f"{backend}:\n")
            if backend == "postgres":
                report[backend] = postgres_run(args.trials, args.seed)
                continue
            durability = "relaxed" if backend.endswith("relaxed") else "durable"
            url = f"sqlite:///{Path(folder) / f'{backend}.db'}"
            report[backend] = trials(url, args.trials, args.seed, durability)
    if args.json:
        print(json.dumps(report))
    else:
        for backend, summary in report.items():
            print(f"{backend}: {summary}")
    failed = sum(s["failed_trials"] for s in report.values() if isinstance(s, dict))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
