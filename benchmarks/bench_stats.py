"""Benchmark of spreadwire.stats against pandas / statsmodels measured in the same run.

Usage: ``python benchmarks/bench_stats.py`` prints a table; ``--json`` prints one JSON object
with pair_update_ns, pairbook_1000_us, rolling_std_vs_pandas, rolling_corr_vs_pandas,
screen_500_s, screen_vs_statsmodels (plus the raw timings, pairbook_10_us, the per-call floor
of a small book, and the numba start-up costs).
Each figure is the minimum of several repeats after a warm-up; compile time is excluded and
reported separately (cold start: empty numba cache in a fresh process; warm: cached).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable

import numpy as np
import pandas as pd
from statsmodels.tsa.stattools import coint as sm_coint

from spreadwire.stats import PairBook, RollingOLS, rolling_corr, rolling_std, screen_pairs


def _best(call: Callable[[], object], repeats: int = 5) -> float:
    call()
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        timings.append(time.perf_counter() - start)
    return min(timings)


def _pair_update_ns(ticks: int = 200_000) -> float:
    rng = np.random.default_rng(1)
    xs = (100.0 + rng.normal(0.0, 0.05, ticks).cumsum()).tolist()
    ys = [2.0 * x + 0.1 * e for x, e in zip(xs, rng.standard_normal(ticks).tolist(), strict=True)]
    ols = RollingOLS(100)

    def run() -> None:
        update = ols.update
        for x, y in zip(xs, ys, strict=True):
            update(x, y)

    return _best(run, 3) / ticks * 1e9


def _pairbook_us(pairs: int = 1000, ticks: int = 2000) -> float:
    rng = np.random.default_rng(2)
    xs = 100.0 + rng.normal(0.0, 0.05, (ticks, pairs)).cumsum(axis=0)
    ys = 2.0 * xs + rng.normal(0.0, 0.1, (ticks, pairs))
    book = PairBook(100, pairs)

    def run() -> None:
        for t in range(ticks):
            book.update(xs[t], ys[t])

    return _best(run, 7) / ticks * 1e6


def _rolling(n: int = 1_000_000, window: int = 100) -> dict[str, float]:
    rng = np.random.default_rng(3)
    x = rng.standard_normal(n).cumsum() * 0.05 + 100.0
    y = 2.0 * x + rng.standard_normal(n)
    sx, sy = pd.Series(x), pd.Series(y)
    ours_std = _best(lambda: rolling_std(x, window))
    pandas_std = _best(lambda: sx.rolling(window).std())
    ours_corr = _best(lambda: rolling_corr(x, y, window))
    pandas_corr = _best(lambda: sx.rolling(window).corr(sy))
    return {
        "rolling_std_ns_per_point": ours_std / n * 1e9,
        "pandas_rolling_std_ns_per_point": pandas_std / n * 1e9,
        "rolling_std_vs_pandas": pandas_std / ours_std,
        "rolling_corr_ns_per_point": ours_corr / n * 1e9,
        "pandas_rolling_corr_ns_per_point": pandas_corr / n * 1e9,
        "rolling_corr_vs_pandas": pandas_corr / ours_corr,
    }


def _screen(assets: int = 500, rows: int = 1000, sample: int = 200) -> dict[str, float]:
    rng = np.random.default_rng(4)
    prices = 100.0 + rng.standard_normal((rows, assets)).cumsum(axis=0)
    seconds = _best(lambda: screen_pairs(prices), 3)
    pairs = assets * (assets - 1)
    chosen = rng.choice(assets, size=(sample, 2))
    chosen = chosen[chosen[:, 0] != chosen[:, 1]]

    def loop() -> None:
        for i, j in chosen:
            sm_coint(prices[:, i], prices[:, j], autolag=None, maxlag=0)

    per_pair = _best(loop, 1) / len(chosen)
    return {
        "screen_500_s": seconds,
        "statsmodels_coint_per_pair_ms": per_pair * 1e3,
        "statsmodels_all_pairs_extrapolated_s": per_pair * pairs,
        "screen_vs_statsmodels": per_pair * pairs / seconds,
    }


_STARTUP = """
import time
start = time.perf_counter()
import numpy as np
from spreadwire.stats import PairBook, RollingOLS, rolling_corr, rolling_std
RollingOLS(10).update(1.0, 2.0)
PairBook(10, 2).update(np.ones(2), np.ones(2))
rolling_std(np.arange(20.0), 5)
rolling_corr(np.arange(20.0), np.arange(20.0) ** 2, 5)
print(time.perf_counter() - start)
"""


def _startup_seconds() -> dict[str, float]:
    with tempfile.TemporaryDirectory() as cache:
        environment = dict(os.environ, NUMBA_CACHE_DIR=cache)

        def run() -> float:
            output = subprocess.run(
                [sys.executable, "-c", _STARTUP],
                env=environment,
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            return float(output.strip())

        cold = run()
        warm = min(run() for _ in range(2))
    return {"numba_cold_start_s": cold, "numba_warm_start_s": warm}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    arguments = parser.parse_args()
    results: dict[str, float] = {
        "pair_update_ns": _pair_update_ns(),
        "pairbook_1000_us": _pairbook_us(),
        "pairbook_10_us": _pairbook_us(pairs=10, ticks=20_000),
    }
    results.update(_rolling())
    results.update(_screen())
    results.update(_startup_seconds())
    if arguments.json:
        print(json.dumps(results))
        return
    rows = [
        ("RollingOLS.update from Python (ns)", "pair_update_ns", "<= 1000"),
        ("PairBook 1000 pairs per tick (us)", "pairbook_1000_us", "<= 20"),
        ("  PairBook 10 pairs per tick (us)", "pairbook_10_us", ""),
        ("rolling_std 1e6 pts, w=100 (ns/pt)", "rolling_std_ns_per_point", ""),
        ("  pandas rolling().std() (ns/pt)", "pandas_rolling_std_ns_per_point", ""),
        ("  speed-up vs pandas (x)", "rolling_std_vs_pandas", ">= 5"),
        ("rolling_corr 1e6 pts, w=100 (ns/pt)", "rolling_corr_ns_per_point", ""),
        ("  pandas rolling().corr() (ns/pt)", "pandas_rolling_corr_ns_per_point", ""),
        ("  speed-up vs pandas (x)", "rolling_corr_vs_pandas", ">= 5"),
        ("screen_pairs 500 x 1000 (s)", "screen_500_s", "<= 0.5"),
        ("  statsmodels coint per pair (ms)", "statsmodels_coint_per_pair_ms", ""),
        ("  statsmodels all pairs, extrapolated (s)", "statsmodels_all_pairs_extrapolated_s", ""),
        ("  speed-up vs statsmodels (x)", "screen_vs_statsmodels", ""),
        ("numba first start, empty cache (s)", "numba_cold_start_s", ""),
        ("numba warm start, cached (s)", "numba_warm_start_s", ""),
    ]
    print(f"{'figure':44} {'value':>14}  target")
    for label, key, target in rows:
        print(f"{label:44} {results[key]:14.3f}  {target}")


if __name__ == "__main__":
    main()
